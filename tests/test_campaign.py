"""`python -m trainer campaign`: the time split, the CUDA batch probe, the report, and (slow) the tiny preset end
to end on the CPU without touching models/."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from tiny_runs import tiny_deepfill_config

from inpaint_studio.core import paths
from inpaint_studio.core.errors import InpaintStudioError
from trainer import campaign
from trainer.batch_probe import largest_batch, try_training_step
from trainer.campaign import (
    RESERVE,
    Campaign,
    CampaignOptions,
    budget_split,
    plans,
    stage_seconds,
    stage_shares,
)
from trainer.campaign_report import report_markdown
from trainer.cli import main as trainer_main
from trainer.loop import train
from trainer.state import load_training_checkpoint
from trainer.toydata import write_toy_images

REPO_MODELS = Path(__file__).resolve().parents[1] / "models"


# --- time ------------------------------------------------------------------------------------------------------


def test_budget_split_gives_each_model_its_documented_share():
    split = budget_split(10, plans("paper"))
    training = 10 * 60 * (1 - RESERVE)
    assert sum(split.values()) == pytest.approx(training)
    assert split["deepfill_v2-prefill"] == pytest.approx(0.4 * training)
    assert split["edgeconnect-edge"] + split["edgeconnect-inpaint"] == pytest.approx(0.3 * training)
    assert split["edgeconnect-edge"] == pytest.approx(0.4 * 0.3 * training)
    assert split["vcnet-mpn"] + split["vcnet-rin"] == pytest.approx(0.3 * training)


def test_small_preset_merges_take_no_time_and_continue_shipped_runs():
    models = plans("small")
    shares = stage_shares(models)
    assert sum(shares.values()) == pytest.approx(1.0)
    merges = [s for m in models for s in m.stages if s.merge]
    assert {s.key for s in merges} == {"edgeconnect-merged", "vcnet-merged"}
    assert not set(shares) & {s.key for s in merges}
    resumed = [s.resume for m in models for s in m.stages if s.resume]
    assert "deepfill_v2-prefill" in resumed and "vcnet_mpn-wide" in resumed
    for name in resumed:  # each continues a run whose state ships in models/training
        assert (REPO_MODELS / "training" / name / "checkpoints" / "last.pt").is_file(), name
    # the EdgeConnect merge puts the continued networks together in the layouts they were trained in
    merged = next(s for s in merges if s.key == "edgeconnect-merged")
    inpaint = json.loads((REPO_MODELS / "training" / "edgeconnect-plain" / "config.json").read_text(encoding="utf-8"))
    assert {k: inpaint["network"][k] for k in ("norm", "upsample", "edge_upsample")} == merged.settings["network"]


def test_time_a_stage_leaves_unused_goes_to_the_stages_after_it():
    assert stage_seconds(100, 0.5, [0.5, 0.25, 0.25]) == pytest.approx(50)
    # the first stage ended after 10 s instead of 50: the two left share 90 s
    assert stage_seconds(90, 0.25, [0.25, 0.25]) == pytest.approx(45)
    assert stage_seconds(-5, 0.25, [0.25]) == 0.0  # over time already: the stage still runs its one step


# --- batch probe -----------------------------------------------------------------------------------------------


def _fits_up_to(limit: int, error: type[Exception] = torch.cuda.OutOfMemoryError):
    tried: list[int] = []

    def try_batch(size: int) -> None:
        tried.append(size)
        if size > limit:
            raise error("CUDA out of memory. Tried to allocate 2.00 GiB")

    return try_batch, tried


def test_probe_doubles_until_out_of_memory_then_backs_off():
    try_batch, tried = _fits_up_to(48)
    freed = []
    assert largest_batch(try_batch, 4, on_oom=lambda: freed.append(1)) == 32
    assert tried == [4, 8, 16, 32, 64]
    assert freed == [1]


def test_probe_reads_a_plain_runtime_error_about_memory_as_out_of_memory():
    try_batch, _ = _fits_up_to(20, RuntimeError)
    assert largest_batch(try_batch, 4) == 16


def test_probe_stops_at_its_limit_and_lets_other_errors_through():
    try_batch, tried = _fits_up_to(10**6)
    assert largest_batch(try_batch, 4, limit=64) == 64 and tried[-1] == 64

    def broken(size: int) -> None:
        raise ValueError("shapes do not match")

    with pytest.raises(ValueError):
        largest_batch(broken, 4)


def test_probe_says_plainly_when_not_even_the_first_batch_fits():
    try_batch, _ = _fits_up_to(2)
    with pytest.raises(InpaintStudioError, match="does not fit"):
        largest_batch(try_batch, 4)


def test_probe_step_runs_a_real_training_step_on_the_cpu(tmp_path):
    from trainer.config import merge
    from trainer.loop import build_config

    write_toy_images(tmp_path, 4, size=(40, 40))
    cfg = merge(build_config("deepfill_v2"), {
        "data": str(tmp_path), "image_size": 32, "width": 0.1, "device": "cpu", "threads": 1,
        "network": {"prefill": "navier_stokes"}, "channels_last": True}, "test")
    try_training_step(cfg, 6, torch.device("cpu"))  # 6 samples from 4 photos: repeated to the size


@pytest.mark.slow
@pytest.mark.parametrize(("recipe", "stage"), [("edgeconnect", "edge"), ("edgeconnect", "inpaint"), ("vcnet", "mpn"),
                                             ("vcnet", "rin")])
def test_every_campaign_stage_trains_in_channels_last(tmp_path, recipe, stage):
    # width 0.5: at 0.125 the CPU's (oneDNN) backward of VCNet's mask network crashes in channels-last (torch 2.13)
    from trainer.config import merge
    from trainer.loop import build_config

    write_toy_images(tmp_path, 2, size=(64, 64))
    cfg = merge(build_config(recipe, stage), {"data": str(tmp_path), "image_size": 64, "width": 0.5, "device": "cpu",
                                              "threads": 1, "channels_last": True, "feature_trunk": "none"}, "test")
    try_training_step(cfg, 2, torch.device("cpu"))


def test_campaign_probe_runs_the_stage_config_and_never_exceeds_the_photos(tmp_path):
    write_toy_images(tmp_path / "photos", 3, size=(72, 72))
    c = Campaign(CampaignOptions(minutes=1, out=tmp_path / "out", device="cpu", preset="tiny",
                                 data=str(tmp_path / "photos"), probe=True, max_batch=64, threads=1))
    model = plans("tiny")[0]
    cfg = c.fresh_config(model, model.stages[0])
    assert (cfg.width, cfg.image_size, cfg.batch_size, cfg.steps) == (0.125, 64, 2, 3)
    assert cfg.network["prefill"] == "navier_stokes" and cfg.init_from == ""
    assert c.probe_batch(cfg) == 2  # 4 would fit in memory, but 3 photos hold no batch of 4



def test_a_fresh_edgeconnect_inpainting_generator_drops_instance_norm_and_a_published_seed_keeps_it(tmp_path):
    write_toy_images(tmp_path / "photos", 2, size=(72, 72))
    c = Campaign(CampaignOptions(minutes=1, out=tmp_path / "out", device="cpu", preset="paper",
                                 data=str(tmp_path / "photos"), threads=1))
    model = next(m for m in plans("paper") if m.name == "edgeconnect")
    edge, inpaint = model.stages
    c.runs[edge.key] = tmp_path / "out" / "runs" / edge.key
    assert c.fresh_config(model, inpaint).network.get("norm") == "none"  # nothing imported: fresh
    assert c.fresh_config(model, edge).network.get("norm") is None  # the edge generator keeps its layout
    _fake_import(1.0, "edgeconnect")  # published weights imported: their instance-norm layout is kept
    assert c.fresh_config(model, inpaint).network.get("norm") is None

# --- starting from imported weights ---------------------------------------------------------------------------


def _fake_import(width: float, layout: str | None) -> Path:
    """An EdgeConnect checkpoint in the user models folder, as `models import` writes one (source layout)."""
    from inpaint_studio.engine.checkpoints import save_checkpoint
    from trainer.config import merge
    from trainer.loop import build_config
    from trainer.recipes import get_recipe

    cfg = merge(build_config("edgeconnect", "joint"), {"width": width}, "test")
    recipe = get_recipe("edgeconnect")(cfg, torch.device("cpu"), None)
    recipe.build()
    parts = {c.name: c for c in recipe.export_components()}
    source = {"file": "EdgeModel_gen.pth", "layout": layout} if layout else {"file": "run"}
    return save_checkpoint(paths.user_models_dir() / f"edgeconnect-{layout or 'ours'}", "edgeconnect",
                           {n: recipe.nets[n] for n in parts},
                           {n: {"network": c.network, "config": c.config} for n, c in parts.items()},
                           {"source": source})


def test_init_auto_finds_only_imported_published_weights_and_seeds_from_them(tmp_path):
    from trainer.config import merge
    from trainer.loop import build_config
    from trainer.seeding import seed_plan

    _fake_import(0.125, None)  # trained by us: not a published starting point
    assert campaign.imported_checkpoint("edgeconnect") is None
    published = _fake_import(0.125, "edgeconnect")
    assert campaign.imported_checkpoint("edgeconnect") == published

    cfg = merge(build_config("edgeconnect", "edge"), {"width": 0.125}, "test")
    seeded = campaign.seed_from_import(published, cfg, tmp_path / "seed.pt")
    assert "edge_generator" in seeded and "inpaint_generator" in seeded
    ckpt = load_training_checkpoint(tmp_path / "seed.pt")
    ((_, states),) = seed_plan([(tmp_path / "seed.pt", ckpt)])
    assert set(states) >= {"edge_generator", "inpaint_generator"}

    wide = merge(cfg, {"width": 0.25}, "test")
    with pytest.raises(campaign.ConfigError, match="does not match the edgeconnect networks at width 0.25"):
        campaign.seed_from_import(published, wide, tmp_path / "wide.pt")
    assert not (tmp_path / "wide.pt").exists()


# --- the loop's deadline ---------------------------------------------------------------------------------------


def test_a_run_past_its_deadline_stops_after_one_step_validated_and_saved(tmp_path):
    cfg = tiny_deepfill_config(tmp_path / "data", run_dir=str(tmp_path / "run"), channels_last=True)
    result = train(cfg, deadline=time.monotonic(), log=lambda _: None)
    assert (result.stopped, result.step) == ("deadline", 1)
    assert load_training_checkpoint(tmp_path / "run")["step"] == 1
    with (tmp_path / "run" / "val.csv").open() as fh:
        assert [row["step"] for row in csv.DictReader(fh)] == ["0", "1"]
    # continued with a validation first: the starting point is scored on this session's data
    again = train(resume=tmp_path / "run", overrides={"steps": 2}, validate_at_start=True, log=lambda _: None)
    assert (again.stopped, again.step) == ("done", 2)
    with (tmp_path / "run" / "val.csv").open() as fh:
        assert [row["step"] for row in csv.DictReader(fh)] == ["0", "1", "1", "2"]


# --- device and options --------------------------------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_one_plain_line(tmp_path, capsys):
    code = trainer_main(["campaign", "--minutes", "1", "--device", "cuda", "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: --device cuda") and "\n" not in err
    assert not (tmp_path / "c").exists()


def test_tiny_preset_is_never_shipped(tmp_path):
    with pytest.raises(campaign.ConfigError, match="never shipped"):
        Campaign(CampaignOptions(minutes=1, out=tmp_path, device="cpu", preset="tiny", ship=True))


# --- report --------------------------------------------------------------------------------------------------


def _table(path: Path, fill_default: str, l1: float) -> None:
    rows = [{"model": "deepfill_v2", "bucket": b, "l1_hole": l1} for b in ("20-30%", "30-40%")]
    rows.append({"model": "deepfill_v2", "bucket": "centre", "l1_hole": 99.0})  # not a 20–40 % bucket
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"date": "d", "fill": {"256": {"rows": rows}, "512": {"rows": []}},
                                "defaults": {"fill": {"method": fill_default}}}), encoding="utf-8")


def test_report_names_steps_batches_minutes_floor_verdicts_and_table_changes():
    report = {
        "settings": {"preset": "paper", "device": "cuda", "amp": True, "minutes": 12, "init": "auto", "data": "photo set",
                     "reserve": 0.2},
        "plan_seconds": {"deepfill_v2-prefill": 230.4},
        "total_minutes": 11.5,
        "stages": [{"stage": "deepfill_v2-prefill", "run_dir": "runs/df", "start_step": 0, "end_step": 900, "steps": 900,
                    "batch_size": 64, "width": 1.0, "image_size": 256, "minutes": 3.9, "stopped": "deadline",
                    "before": {"l1_hole": 30.0}, "after": {"l1_hole": 21.5}}],
        "models": [
            {"export": "out/models/deepfill_v2-prefill-paper.safetensors", "tune": {"working_size": 0},
             "floor": {"passed": True, "words": "hole L1 20 vs a flat fill's 40"}, "shipped": "no: --ship not given"},
            {"export": "out/models/edgeconnect-paper.safetensors", "tune": {},
             "floor": {"passed": False, "words": "periodic ratio 4.1"}, "shipped": "no: below the floor (engine/floor.py)"},
        ],
        "table": {"command": "benchmarks/model_table.py --limit 4", "exit_code": 0, "minutes": 6.0, "out": "t",
                  "before": {"defaults": {"fill": "patchmatch"}, "hole_l1_20_40": {"deepfill_v2": 25.0}},
                  "after": {"defaults": {"fill": "deepfill_v2"}, "hole_l1_20_40": {"deepfill_v2": 21.0}}},
    }
    text = report_markdown(report)
    assert "| deepfill_v2-prefill | `runs/df` | 0 → 900 (900) | 64 | 1 / 256² | 3.9 (3.8) | deadline |" in text
    assert "l1_hole 30 | l1_hole 21.5 |" in text
    assert "**below the floor**: periodic ratio 4.1 | no: below the floor" in text
    assert "| default for fill | patchmatch | deepfill_v2 |" in text
    assert "| deepfill_v2: hole L1, 20–40 % | 25.0 | 21.0 |" in text


def _fake_checkpoint(stem: Path, method: str, payload: bytes) -> Path:
    from inpaint_studio.engine.checkpoints import CHECKPOINT_FORMAT, CHECKPOINT_VERSION

    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".safetensors").write_bytes(payload)
    stem.with_suffix(".json").write_text(json.dumps({
        "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "method": method,
        "components": {"generator": {"network": "x"}}}), encoding="utf-8")
    return stem.with_suffix(".safetensors")


def test_table_is_remeasured_as_if_the_passing_exports_shipped_without_touching_models(tmp_path, monkeypatch):
    models_dir = tmp_path / "models"
    _table(models_dir / "table.json", "patchmatch", 25.0)
    _fake_checkpoint(models_dir / "deepfill_v2-prefill-small", "deepfill_v2", b"shipped deepfill")
    _fake_checkpoint(models_dir / "vcnet-small", "vcnet", b"shipped vcnet")
    export = _fake_checkpoint(tmp_path / "out" / "models" / "deepfill_v2-prefill-paper", "deepfill_v2", b"new")
    calls = []

    def fake_run(cmd, cwd, env, stdout, stderr):
        calls.append((cmd, env))
        out = Path(cmd[cmd.index("--out") + 1])
        _table(out / "table.json", "deepfill_v2", 21.0)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(campaign.subprocess, "run", fake_run)
    c = Campaign(CampaignOptions(minutes=1, out=tmp_path / "out", device="cpu", models_dir=models_dir))
    result = c.remeasure_table([export])
    cmd, env = calls[0]
    assert cmd[cmd.index("--limit") + 1] == "4" and cmd[cmd.index("--out") + 1] == str(tmp_path / "out" / "table")
    view = Path(env["INPAINT_STUDIO_MODELS_DIR"])
    # the stand-in models folder: the export in place of the shipped DeepFill v2, the rest as shipped
    assert sorted(p.name for p in view.iterdir()) == [
        "deepfill_v2-prefill-paper.json", "deepfill_v2-prefill-paper.safetensors", "table.json", "vcnet-small.json",
        "vcnet-small.safetensors"]
    assert (view / "deepfill_v2-prefill-paper.safetensors").read_bytes() == b"new"
    assert result["before"]["defaults"] == {"fill": "patchmatch"}
    assert result["after"]["hole_l1_20_40"] == {"deepfill_v2": 21.0}
    assert json.loads((models_dir / "table.json").read_text())["defaults"]["fill"]["method"] == "patchmatch"
    assert (models_dir / "deepfill_v2-prefill-small.safetensors").read_bytes() == b"shipped deepfill"


def test_models_dir_can_be_stood_in_for_by_environment(tmp_path):
    code = ("from inpaint_studio.core import paths; print(paths.SHIPPED_MODELS_DIR)")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "INPAINT_STUDIO_MODELS_DIR": str(tmp_path)},
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], check=True)
    assert out.stdout.strip() == str(tmp_path)


# --- end to end ----------------------------------------------------------------------------------------------


def _tree(folder: Path, pattern: str = "**/*") -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.glob(pattern)) if p.is_file()}


@pytest.mark.slow
def test_tiny_campaign_end_to_end_leaves_models_untouched(tmp_path):
    data = tmp_path / "photos"
    write_toy_images(data, 8, size=(72, 72))
    # the repository's shipped files (not models/training/, where background runs may be writing) and the
    # models folder the campaign sees in tests (conftest points it at an empty temp folder)
    repo_before, patched_before = _tree(REPO_MODELS, "*"), _tree(paths.SHIPPED_MODELS_DIR)
    out = tmp_path / "campaign"
    code = trainer_main(["campaign", "--minutes", "10", "--device", "cpu", "--preset", "tiny", "--data", str(data),
                         "--out", str(out), "--no-table", "--tune-limit", "2", "--tune-size", "64", "--threads", "1"])
    assert code == 0
    report = json.loads((out / "campaign.json").read_text(encoding="utf-8"))
    assert [r["stage"] for r in report["stages"]] == [
        "deepfill_v2-prefill", "edgeconnect-edge", "edgeconnect-inpaint", "vcnet-mpn", "vcnet-rin"]
    for row in report["stages"]:
        assert row["steps"] == 3 and row["batch_size"] == 2 and row["stopped"] == "done"
        assert row["before"] and row["after"]
    assert [m["name"] for m in report["models"]] == ["deepfill_v2-prefill-tiny", "edgeconnect-tiny", "vcnet-tiny"]
    for m in report["models"]:
        assert Path(m["export"]).is_file() and Path(m["export"]).parent == out / "models"
        assert isinstance(m["floor"]["passed"], bool)
        assert m["shipped"].startswith("no: ")
        assert ("below the floor" in m["shipped"]) == (not m["floor"]["passed"])
    vcnet = report["models"][2]
    assert vcnet["tune"]["blind"]["detector"] in ("mpn", "mpn+classical")
    text = (out / "campaign.md").read_text(encoding="utf-8")
    assert "## Exports" in text and "vcnet-tiny" in text
    assert _tree(REPO_MODELS, "*") == repo_before and _tree(paths.SHIPPED_MODELS_DIR) == patched_before

    # what --ship does with an export that cleared the floor: copied with its card, its sample check recorded
    shipped_dir = tmp_path / "shipped"
    shipped_dir.mkdir()
    deepfill = report["models"][0]
    shipper = Campaign(CampaignOptions(minutes=1, out=tmp_path / "ship", device="cpu", preset="small", ship=True,
                                       models_dir=shipped_dir))
    # a shipped DeepFill v2 with a texture stage (it sorts first: the engine runs it) is carried over to the export
    import torch

    from inpaint_studio.engine.checkpoints import load_checkpoint, save_checkpoint
    from inpaint_studio.networks.registry import create_network
    from trainer.fusion import FusionRun, write_fusion_checkpoint

    old_base = save_checkpoint(tmp_path / "old-base", "deepfill_v2",
                               {"generator": create_network("deepfill_v2_generator", cnum=4)},
                               {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 4}}})
    textured = write_fusion_checkpoint(
        old_base, FusionRun(create_network("texture_fusion"), {}, [{"step": 0.0, "l1_hole": 1.0}], 1.0),
        shipped_dir / "deepfill_v2-fusion-tiny", fills="deepfill_v2", samples=["a", "b"])
    shipped = shipper.ship(Path(deepfill["export"]), deepfill["name"])
    assert shipped == shipped_dir / "deepfill_v2-prefill-tiny.safetensors" and shipped.with_suffix(".md").is_file()
    assert json.loads(shipped.with_suffix(".json").read_text(encoding="utf-8"))["sample_check"]["l1_hole"] > 0
    carried, export = load_checkpoint(textured), load_checkpoint(shipped)
    assert set(carried.components) == {*export.components, "texture_fusion"}
    for key, value in export.state_dict("generator").items():
        assert torch.equal(carried.state_dict("generator")[key], value)
    assert carried.meta["sample_check"]["l1_hole"] > 0


def test_a_fresh_mask_network_trains_on_many_damage_families_and_holds_some_out():
    from inpaint_studio.core.damage_families import FAMILIES, UNSEEN
    from trainer.campaign import plans

    stage = next(s for m in plans("paper") for s in m.stages if s.key == "vcnet-mpn")
    damage, held = set(stage.settings["damage"]), set(stage.settings["hold_out"])
    assert not damage & held and held <= set(UNSEEN)  # held-out families are new generators, never trained on
    assert {"clean", "contamination", "scratch"} <= damage and len(damage - {"clean"}) >= 8
    assert any(FAMILIES[k].translucent for k in held) and any(not FAMILIES[k].translucent for k in held)
    assert stage.settings["translucent_negatives"] is True
