"""The marks network's path: the trainer (`python -m trainer marks`: run, resume, hold-out, export into a VCNet
checkpoint) and VCNet's blind runs adding what it finds to the damage they repair."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from inpaint_studio.core.damage_families import hairlines
from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.imageio import load_rgb, save_image
from inpaint_studio.core.paths import SAMPLES_DIR
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import read_metadata
from tests.imagegen import textured
from trainer.cli import main as trainer_main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "vcnet-small.safetensors"


def _photo(seed: int, h: int = 160, w: int = 200) -> np.ndarray:
    return cv2.resize(textured(40, 50, seed), (w, h), interpolation=cv2.INTER_CUBIC)


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for k in range(3):
        save_image(folder / f"p{k}.png", _photo(k))
    return folder


def _train(run: Path, photos: Path, *extra: str) -> int:
    return trainer_main(["marks", "--run", str(run), "--photos", str(photos), "--batch", "2", "--crop", "64",
                         "--widths", "4,6,8", "--val-per-family", "1", "--val-every", "2", "--save-every", "2",
                         *extra])


def test_marks_training_runs_resumes_and_exports(photo_folder: Path, tmp_path: Path, capsys):
    run = tmp_path / "run"
    assert _train(run, photo_folder, "--steps", "2") == 0
    settings = json.loads((run / "run.json").read_text())
    assert settings["families"] == ["hairline", "dust"] and settings["config"] == {"widths": [4, 6, 8]}
    first = torch.load(run / "last.pt", weights_only=True)
    assert first["step"] == 2 and "optimizer" in first
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert set(log[-1]["val"]) == {"hairline", "dust", "scratch", "text", "clean"}  # seen and unseen side by side

    assert _train(run, photo_folder, "--steps", "2") != 0  # a second start on the same run is refused
    assert "--resume" in capsys.readouterr().err
    assert _train(run, photo_folder, "--resume", "--steps", "4", "--finish") == 0
    last = torch.load(run / "last.pt", weights_only=True)
    assert last["step"] == 4 and "optimizer" not in last
    assert json.loads((run / "run.json").read_text())["steps"] == 4
    assert not torch.equal(last["network"]["head.weight"], first["network"]["head.weight"])

    into = tmp_path / "vcnet-small"
    for suffix in (".safetensors", ".json", ".md"):
        shutil.copy(ROOT / "models" / f"vcnet-small{suffix}", into.with_suffix(suffix))
    before = read_metadata(into.with_suffix(".json"))
    # a threshold no map can use: one plain message, the checkpoint untouched
    assert trainer_main(["marks", "--run", str(run), "--export-into", str(into), "--threshold", "1.5"]) != 0
    assert "between 0 and 1" in capsys.readouterr().err and read_metadata(into.with_suffix(".json")) == before
    assert trainer_main(["marks", "--run", str(run), "--export-into", str(into), "--threshold", "0.7"]) == 0
    meta = read_metadata(into.with_suffix(".json"))
    assert meta["components"]["marks"] == {"network": "mark_unet", "config": {"widths": [4, 6, 8]}}
    marks = meta["blind"]["marks"]
    assert marks["threshold"] == 0.7 and marks["steps"] == 4 and {"scratch", "text"} <= set(marks["unseen"])
    assert meta["blind"]["verifier"] == before["blind"]["verifier"]  # the rest of the blind block is kept
    assert {c for c in meta["components"] if c != "marks"} == {c for c in before["components"] if c != "marks"}
    card = into.with_suffix(".md").read_text()
    assert "## Marks network" in card and "| scratch | unseen |" in card
    method = create_method("vcnet", checkpoint=str(into.with_suffix(".safetensors")))
    assert method.resolved_options(["marks"]) == {"marks": True} and not method.loaded
    method.load()
    found = method.marks_map(_photo(5))
    assert found.shape == (160, 200) and found.dtype == np.float32 and 0 <= found.min() <= found.max() <= 1


def test_marks_training_refuses_an_unknown_family(photo_folder: Path, tmp_path: Path, capsys):
    assert _train(tmp_path / "run", photo_folder, "--steps", "1", "--families", "hairline,lint") != 0
    err = capsys.readouterr().err
    assert "lint" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()  # nothing written


def test_training_samples_are_crops_whose_target_is_the_visible_damage():
    from trainer.marks import make_samples

    photo = _photo(3, 320, 400)
    marked = 0
    for seed in range(12):
        for crop, target in make_samples(photo, np.random.default_rng(seed), ("hairline",), 64):
            assert crop.shape == (64, 64, 3) and target.shape == (64, 64) and set(np.unique(target)) <= {0.0, 1.0}
            marked += int(target.any())
    assert marked >= 12  # most crops of a damaged photo hold part of a mark


def test_blind_runs_repair_what_the_marks_network_finds(monkeypatch):
    """What the marks network finds joins the damage a blind run repairs (here the true map of hairlines stands
    in for the network); with `marks=false` those hairlines are left."""
    clean = cv2.resize(load_rgb(SAMPLES_DIR / "chelsea.png"), (256, 256), interpolation=cv2.INTER_AREA)
    damaged = hairlines(clean, np.random.default_rng(4))
    truth = damaged.mask > 0
    monkeypatch.setattr(type(create_method("vcnet")), "marks_map",
                        lambda self, image, cancel=None: truth.astype(np.float32))
    on = create_method("vcnet", checkpoint=str(SHIPPED), marks=True, verify=False)
    off = create_method("vcnet", checkpoint=str(SHIPPED), marks=False, verify=False)
    found_on, found_off = (m.predict_mask(damaged.image).mask > 0 for m in (on, off))
    assert found_on[truth].mean() > 0.95 > found_off[truth].mean() + 0.2
    assert not (found_off & ~found_on).any()  # adds to what the other detectors find, takes nothing away


def test_asking_for_marks_without_a_marks_network_says_so(tmp_path: Path):
    from inpaint_studio.engine.checkpoints import load_checkpoint, save_checkpoint

    ckpt = load_checkpoint(SHIPPED)
    keep = ("mpn", "rin")
    meta = {k: v for k, v in ckpt.meta.items() if k not in ("format", "version", "method", "components", "dtype")}
    path = save_checkpoint(tmp_path / "plain", "vcnet", {c: ckpt.state_dict(c) for c in keep},
                           {c: ckpt.components[c] for c in keep}, meta)
    with pytest.raises(InpaintStudioError, match="no marks network"):
        create_method("vcnet", checkpoint=str(path), marks=True, stains=False).predict_mask(_photo(1))
    assert not create_method("vcnet", checkpoint=str(path)).marks  # auto: off without one


def test_a_run_can_start_from_another_and_show_tints_as_negatives(photo_folder: Path, tmp_path: Path, capsys):
    first = tmp_path / "first"
    assert _train(first, photo_folder, "--steps", "2") == 0
    second = tmp_path / "second"
    assert _train(second, photo_folder, "--steps", "1", "--init-from", str(first), "--negatives", "stain,tint") == 0
    settings = json.loads((second / "run.json").read_text())
    assert settings["negatives"] == ["stain", "tint"] and settings["init_from"] == first.as_posix()
    # a wrong negative or a run of other widths: one plain message, nothing written
    assert _train(tmp_path / "bad", photo_folder, "--steps", "1", "--negatives", "stain,lint") != 0
    assert "lint" in capsys.readouterr().err and not (tmp_path / "bad").exists()
    assert _train(tmp_path / "bad", photo_folder, "--steps", "1", "--negatives", ",") != 0
    assert "--negatives" in capsys.readouterr().err and not (tmp_path / "bad").exists()
    other = ["marks", "--run", str(tmp_path / "wide"), "--photos", str(photo_folder), "--batch", "2", "--crop", "64",
             "--widths", "4,6,10", "--steps", "1", "--init-from", str(first)]
    assert trainer_main(other) != 0
    assert "widths differ" in capsys.readouterr().err and not (tmp_path / "wide").exists()


def test_negative_samples_carry_the_chosen_negatives_and_an_empty_target(monkeypatch):
    import trainer.marks as marks

    drawn: list[str] = []
    real = marks.draw_family

    def recording(image, rng, family):
        drawn.append(family)
        return real(image, rng, family)

    monkeypatch.setattr(marks, "draw_family", recording)
    photo = _photo(2, 320, 400)
    empty = 0
    for seed in range(60):
        before = len(drawn)
        for _crop, target in marks.make_samples(photo, np.random.default_rng(seed), ("hairline",), 64, 1, ("tint",)):
            if len(drawn) > before:  # a negative was drawn: nothing to find in it
                assert not target.any()
                empty += 1
    assert set(drawn) == {"tint"} and empty >= 2


def test_hard_negatives_are_clean_crops_around_what_the_mining_network_marked():
    import trainer.marks as marks

    photo = _photo(3, 320, 400)
    photo[20:26, 330:390] = (255, 0, 0)  # a red bar the "mining network" took for a mark
    hard = np.zeros(photo.shape[:2], bool)
    hard[20:26, 330:390] = True
    red_hard = red_plain = 0
    for seed in range(100):
        with_hard = marks.make_samples(photo, np.random.default_rng(seed), ("hairline",), 64, 2, hard=hard)
        plain = marks.make_samples(photo, np.random.default_rng(seed), ("hairline",), 64, 2)
        for (crop, target), (crop_plain, _) in zip(with_hard, plain, strict=True):
            is_red = bool(((crop[..., 0] > 200) & (crop[..., 1] < 60)).any())
            if is_red and not target.any():
                red_hard += 1
            red_plain += bool(((crop_plain[..., 0] > 200) & (crop_plain[..., 1] < 60)).any())
    # about HARD_SHARE of the photos give clean crops holding the hard pixels; random crops rarely do
    assert red_hard >= 20 and 2 * red_plain < red_hard


def test_a_run_can_mine_hard_negatives_from_another(photo_folder: Path, tmp_path: Path, capsys):
    first = tmp_path / "first"
    assert _train(first, photo_folder, "--steps", "2") == 0
    second = tmp_path / "second"
    assert _train(second, photo_folder, "--steps", "2", "--hard-negatives-from", str(first)) == 0
    assert json.loads((second / "run.json").read_text())["hard_negatives_from"] == first.as_posix()
    assert "hard negatives:" in capsys.readouterr().err
    assert _train(second, photo_folder, "--resume", "--steps", "3") == 0  # mined again on resume
    assert "hard negatives:" in capsys.readouterr().err
    assert _train(tmp_path / "bad", photo_folder, "--steps", "1", "--hard-negatives-from", str(photo_folder)) != 0
    assert "not a marks run" in capsys.readouterr().err and not (tmp_path / "bad").exists()

    into = tmp_path / "vcnet-small"
    for suffix in (".safetensors", ".json", ".md"):
        shutil.copy(ROOT / "models" / f"vcnet-small{suffix}", into.with_suffix(suffix))
    assert trainer_main(["marks", "--run", str(second), "--export-into", str(into), "--unverified"]) == 0
    record = read_metadata(into.with_suffix(".json"))["blind"]["marks"]
    assert record["hard_negatives_from"] == first.as_posix() and record["verified"] is False
    card = into.with_suffix(".md").read_text()
    assert f"hard negatives: clean crops where `{first.as_posix()}` saw marks" in card
    assert "fitted without it) cannot take back what it finds" in card
    assert create_method("vcnet", checkpoint=str(into.with_suffix(".safetensors"))).resolved_options(
        ["marks_verified"]) == {"marks_verified": False}
    # --side-limit: the rim rule travels in the checkpoint and the card says so; a limit of 0 is refused
    export = ["marks", "--run", str(second), "--export-into", str(into), "--unverified"]
    assert trainer_main([*export, "--side-limit", "0"]) != 0
    assert "--side-limit" in capsys.readouterr().err
    assert trainer_main([*export, "--side-limit", "45"]) == 0
    assert read_metadata(into.with_suffix(".json"))["blind"]["marks"]["side_limit"] == 45
    assert "differ by more than 45 grey levels" in into.with_suffix(".md").read_text()
    method = create_method("vcnet", checkpoint=str(into.with_suffix(".safetensors")))
    method.load()
    assert method.marks_side_limit == 45


def test_favour_busy_draws_detailed_photos_more_often(photo_folder: Path, tmp_path: Path):
    from trainer.marks import photo_weights

    flat = np.full((128, 128, 3), 120, np.uint8)
    busy = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    weights = photo_weights([flat, busy, flat])
    assert weights.sum() == pytest.approx(1) and weights[1] > 4 * weights[0] and weights[0] == weights[2] > 0
    run = tmp_path / "busy"
    assert _train(run, photo_folder, "--steps", "1", "--favour-busy") == 0
    assert json.loads((run / "run.json").read_text())["favour_busy"] is True


def test_unverified_marks_outlast_the_second_look_and_the_rest_keeps_it(monkeypatch):
    """With `blind.marks.verified` false (the shipped choice), what the marks network finds is repaired even where
    the verifier would drop it, while the other detectors' finds are still judged; with it true, the verifier's
    word is final."""
    import inpaint_studio.engine.methods.vcnet as vcnet_module

    clean = cv2.resize(load_rgb(SAMPLES_DIR / "chelsea.png"), (256, 256), interpolation=cv2.INTER_AREA)
    damaged = hairlines(clean, np.random.default_rng(4))
    truth = damaged.mask > 0
    cls = type(create_method("vcnet"))
    monkeypatch.setattr(cls, "marks_map", lambda self, image, cancel=None: truth.astype(np.float32))
    judged: list[np.ndarray] = []

    def drop_everything(self, image, opaque, probability, progress, cancel):
        judged.append(opaque.copy())
        return np.zeros_like(opaque)

    monkeypatch.setattr(cls, "_verified", drop_everything)
    method = create_method("vcnet", checkpoint=str(SHIPPED), marks=True)
    method.load()
    assert method.marks_verified is False  # what the shipped checkpoint records
    found = method.predict_mask(damaged.image).mask > 0
    assert found[truth].mean() > 0.95 and not (found & ~truth).any()  # kept as found; nothing else passed
    assert judged[-1][truth].mean() > 0.95  # the verifier judged the regions whole, marks included
    monkeypatch.setattr(vcnet_module.VCNetMethod, "marks_verified", property(lambda self: True))
    assert not method.predict_mask(damaged.image).mask.any()  # verified: its word is final


def test_the_verifier_is_fitted_without_marks_that_skip_it(photo_folder: Path, tmp_path: Path):
    into = tmp_path / "vcnet-small"
    for suffix in (".safetensors", ".json", ".md"):
        shutil.copy(SHIPPED.with_suffix(suffix), into.with_suffix(suffix))
    args = ["verifier", "--checkpoint", str(into.with_suffix(".safetensors")), "--photos", str(photo_folder),
            "--limit", "2", "--size", "96", "--families", "scratch"]
    assert trainer_main(args) == 0
    assert read_metadata(into.with_suffix(".json"))["blind"]["verifier"]["fit"]["marks_network"] == "off"
    meta = read_metadata(into.with_suffix(".json"))
    meta["blind"]["marks"]["verified"] = True
    into.with_suffix(".json").write_text(json.dumps(meta))
    assert trainer_main(args) == 0
    assert read_metadata(into.with_suffix(".json"))["blind"]["verifier"]["fit"]["marks_network"] == "on"
