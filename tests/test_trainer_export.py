"""`export` writes an app checkpoint the engine loads (`create_method(method, checkpoint=path)`) and that
reproduces the trained network's own fill; plus the model card and the metadata."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.engine.base import create_method
from trainer.cli import main
from trainer.data import to_tensors, to_uint8_image
from trainer.export import export_run
from trainer.loop import build_config, train
from trainer.toydata import write_toy_images

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def folders(tmp_path):
    write_toy_images(tmp_path / "train", 4, size=(40, 48), seed=0)
    write_toy_images(tmp_path / "val", 2, size=(40, 48), seed=1)
    return tmp_path


def _train(folders, recipe: str, stage: str = ""):
    cfg = build_config(recipe, stage, cli_options={
        "data": str(folders / "train"), "val_data": str(folders / "val"), "image_size": 32, "batch_size": 2,
        "width": 0.125, "steps": 1, "val_images": 2, "progress": False, "device": "cpu", "threads": 1,
        "network": {"num_blocks": 1}, "run_dir": str(folders / f"run-{recipe}"),
    })
    return train(cfg, log=lambda m: None)


def test_deepfill_export_loads_in_the_engine_and_fills_like_the_trainer(folders):
    result = _train(folders, "deepfill_v2")
    path = export_run(result.run_dir, folders / "models" / "df-mine", which="last")
    assert path.name == "df-mine.safetensors"
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["method"] == "deepfill_v2" and meta["training"]["steps"] == 1
    assert meta["components"]["generator"]["network"] == "deepfill_v2_generator"
    assert "l1_hole" in meta["metrics"] and "telea_l1_hole" in meta["metrics"]
    card = path.with_suffix(".md").read_text()
    assert "| l1_hole |" in card and "Telea" in card

    # The engine's fill equals the trainer's own prediction on the same image and mask.
    trained = result.recipe
    assert trained is not None
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[8:20, 10:26] = 255
    method = create_method("deepfill_v2", checkpoint=str(path), device="cpu")
    out = method.inpaint(image, mask)
    assert np.array_equal(out[mask == 0], image[mask == 0])
    batch = to_tensors([{"image": image, "mask": mask}])
    trained.train_mode(False)
    expected = to_uint8_image(trained.predict(batch)["output"][0])
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize(("recipe", "stage"), [("edgeconnect", "inpaint"), ("vcnet", "rin")])
def test_other_recipes_export_to_loadable_checkpoints(folders, recipe, stage):
    result = _train(folders, recipe, stage)
    assert main(["export", str(result.run_dir), "--to", str(folders / "models" / recipe)]) == 0
    method = create_method(recipe, checkpoint=str(folders / "models" / f"{recipe}.safetensors"), device="cpu")
    image = np.full((32, 32, 3), 120, np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[10:20, 10:20] = 255
    out = method.inpaint(image, mask)
    assert out.shape == image.shape and np.array_equal(out[mask == 0], image[mask == 0])
    state = torch.load(result.run_dir / "checkpoints" / "best.pt", weights_only=True)["models"]
    name = "inpaint_generator" if recipe == "edgeconnect" else "rin"
    loaded = method.modules[name].state_dict()
    assert all(torch.equal(v, loaded[k]) for k, v in state[name].items())


def test_export_refuses_to_overwrite_and_explains_a_missing_run(folders, capsys):
    result = _train(folders, "deepfill_v2")
    export_run(result.run_dir, folders / "m" / "x")
    with pytest.raises(CheckpointError, match="already exist"):
        export_run(result.run_dir, folders / "m" / "x")
    export_run(result.run_dir, folders / "m" / "x", overwrite=True)
    assert main(["export", str(folders / "nope"), "--to", str(folders / "m" / "y")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_card_lists_every_stage_of_a_seeded_run_with_its_curve(folders):
    def run(stage: str, **extra):
        cfg = build_config("vcnet", stage, cli_options={
            "data": str(folders / "train"), "val_data": str(folders / "val"), "image_size": 32, "batch_size": 2,
            "width": 0.125, "steps": 2, "val_images": 2, "val_every": 1, "log_every": 1, "progress": False,
            "device": "cpu", "threads": 1, "run_dir": str(folders / f"run-{stage}"), **extra,
        })
        return train(cfg, log=lambda m: None)

    mpn = run("mpn")
    rin = run("rin", init_from=str(mpn.run_dir))
    path = export_run(rin.run_dir, folders / "models" / "vc", which="last", notes="Below target: more steps.\n")
    meta = json.loads(path.with_suffix(".json").read_text())
    assert [(s["stage"], s["steps"]) for s in meta["stages"]] == [("mpn", 2), ("rin", 2)]
    assert meta["total_training_s"] == pytest.approx(sum(s["wall_time_s"] for s in meta["stages"]), abs=0.2)
    card = path.with_suffix(".md").read_text()
    assert "## Where it stands\n\nBelow target: more steps.\n" in card
    again = export_run(rin.run_dir, folders / "models" / "vc2", which="last",
                       notes="## Where it stands\n\nOwn heading.\n")
    assert again.with_suffix(".md").read_text().count("## Where it stands") == 1  # notes' heading kept, not doubled
    assert "**Stage 1: `vcnet mpn`**" in card and "**Stage 2: `vcnet rin`**" in card
    assert card.index("Stage 1") < card.index("Stage 2")
    # each stage's curve: steps 0, 1, 2 with its own key metric (τ-BCE for the MPN, hole L1 for the RIN)
    mpn_part, rin_part = card.split("**Stage 2")
    assert "| step | minutes | mask_bce_tau |" in mpn_part and "| 2 |" in mpn_part
    assert "| step | minutes | l1_hole | telea_l1_hole |" in rin_part
    assert f"--resume {rin.run_dir}" in card
    # parameters of the exported networks next to the paper's width
    mpn_params = sum(p.numel() for p in rin.recipe.nets["mpn"].parameters())
    assert f"| `mpn` | `vcnet_mpn` | {mpn_params:,} | 1,377,761 |" in card
    # both stages' curves, one above the other (the exported run's own plot alone would hide the MPN's)
    from PIL import Image

    heights = [Image.open(r.run_dir / "plot.png").height for r in (mpn, rin)]
    assert Image.open(path.with_name("vc.curve.png")).height == sum(heights) + 2 * 24  # plus a title band each
    assert "the training curve image is `vc.curve.png`" in card


def test_a_stage_seeded_from_two_runs_takes_each_networks_from_its_own_run(folders):
    def run(stage: str, **extra):
        cfg = build_config("edgeconnect", stage, cli_options={
            "data": str(folders / "train"), "val_data": str(folders / "val"), "image_size": 32, "batch_size": 2,
            "width": 0.125, "steps": 1, "val_images": 2, "progress": False, "device": "cpu", "threads": 1,
            "network": {"num_blocks": 1}, "run_dir": str(folders / f"ec-{stage}"), "seed": len(stage), **extra,
        })
        return train(cfg, log=lambda m: None)

    edge, inpaint = run("edge"), run("inpaint")
    # the inpaint run carries an untrained edge generator: in either order, the edge run's one wins
    for i, order in enumerate((f"{edge.run_dir},{inpaint.run_dir}", f"{inpaint.run_dir},{edge.run_dir}")):
        joint = run("joint", init_from=order, steps=0, run_dir=str(folders / f"ec-joint-{i}"))
        for name, source in (("edge_generator", edge), ("inpaint_generator", inpaint)):
            _assert_same_weights(source.recipe.nets[name], joint.recipe.nets[name], name)
    path = export_run(joint.run_dir, folders / "models" / "ec", which="last")
    stages = json.loads(path.with_suffix(".json").read_text())["stages"]
    assert [s["stage"] for s in stages] == ["inpaint", "edge", "joint"]  # the last merge's order
    # the card names a curve image exactly when one was drawn (the zero-step merge has no curve of its own)
    drawn = path.with_name("ec.curve.png").is_file()
    assert drawn == any((r.run_dir / "plot.png").is_file() for r in (edge, inpaint))
    assert ("the training curve image is `ec.curve.png`" in path.with_suffix(".md").read_text()) == drawn


def _assert_same_weights(want: torch.nn.Module, got: torch.nn.Module, name: str) -> None:
    theirs = got.state_dict()
    assert all(torch.equal(v, theirs[k]) for k, v in want.state_dict().items()), name


def test_vcnet_merge_takes_the_rin_from_the_rin_run_not_the_mask_runs_passenger(folders):
    """A mask-stage run holds an untrained RIN; merged with a RIN run in either order, the trained RIN and the
    later mask network are the ones kept (the merge once shipped the mask run's untrained RIN)."""
    def run(stage: str, name: str, **extra):
        cfg = build_config("vcnet", stage, cli_options={
            "data": str(folders / "train"), "val_data": str(folders / "val"), "image_size": 32, "batch_size": 2,
            "width": 0.125, "steps": 1, "val_images": 2, "progress": False, "device": "cpu", "threads": 1,
            "run_dir": str(folders / name), "seed": len(name), **extra,
        })
        return train(cfg, log=lambda m: None)

    first_mpn = run("mpn", "mpn-a")
    rin = run("rin", "rin", init_from=str(first_mpn.run_dir))
    mpn = run("mpn", "mpn-b", init_from=str(first_mpn.run_dir), steps=2)  # trained further after the RIN run
    for i, order in enumerate((f"{rin.run_dir},{mpn.run_dir}", f"{mpn.run_dir},{rin.run_dir}")):
        joint = run("joint", f"joint-{i}", init_from=order, steps=0)
        _assert_same_weights(mpn.recipe.nets["mpn"], joint.recipe.nets["mpn"], "mpn")
        for name in ("rin", "discriminator", "patch_discriminator"):
            _assert_same_weights(rin.recipe.nets[name], joint.recipe.nets[name], name)


def test_seed_plan_keeps_later_wins_where_no_stage_says_what_it_trained():
    from pathlib import Path

    from trainer.seeding import seed_plan

    a = {"recipe": "not-a-recipe", "stage": "", "models": {"g": {"w": 1}, "d": {"w": 1}}}
    b = {"recipe": "not-a-recipe", "stage": "", "models": {"g": {"w": 2}}}
    mpn_run = {"recipe": "vcnet", "stage": "mpn", "models": {"mpn": {"w": 3}, "rin": {"w": 3}}}
    plan = seed_plan([(Path("a"), a), (Path("b"), b)])
    assert plan == [(Path("a"), {"d": {"w": 1}}), (Path("b"), {"g": {"w": 2}})]
    # a lone source gives everything it has, passengers included (nothing else offers them)
    assert seed_plan([(Path("m"), mpn_run)]) == [(Path("m"), mpn_run["models"])]


def test_curve_table_shows_each_logged_quality_column_and_telea_beside_the_key():
    from trainer.card import curve_table

    rows = [{"step": "0", "wall_time": "0", "edge_l1_hole": "0.47", "edge_precision": "0.08", "edge_recall": "0.34"},
            {"step": "500", "wall_time": "600", "edge_l1_hole": "0.12", "edge_precision": "0.14", "edge_recall": "0.09"}]
    lines = curve_table(rows, "edge_l1_hole")
    assert lines[0] == "| step | minutes | edge_l1_hole | edge_precision | edge_recall |"
    assert lines[-1] == "| 500 | 10 | 0.12 | 0.14 | 0.09 |"
    fill = curve_table([{"step": "0", "wall_time": "60", "l1_hole": "30", "telea_l1_hole": "20", "psnr": "25"}], "l1_hole")
    assert fill[0] == "| step | minutes | l1_hole | telea_l1_hole | psnr |" and fill[-1] == "| 0 | 1 | 30 | 20 | 25 |"


def test_card_settings_list_only_the_loss_terms_a_stage_trains_with():
    from trainer.card import _settings

    weights = {"adversarial_edge": 1.0, "feature_matching": 10.0, "l1": 1.0, "adversarial": 0.1, "perceptual": 0.1,
               "style": 250.0, "hole": 6.0}
    inpaint = _settings({"recipe": "edgeconnect", "stage": "inpaint", "weights": weights})
    edge = _settings({"recipe": "edgeconnect", "stage": "edge", "weights": weights})
    assert "loss weights l1 1, adversarial 0.1, perceptual 0.1, style 250, hole 6;" in inpaint
    assert "loss weights adversarial_edge 1, feature_matching 10, hole 6;" in edge
    joint = _settings({"recipe": "edgeconnect", "stage": "joint", "weights": weights})
    assert "adversarial_edge 1" in joint and "style 250" in joint  # the joint stage trains both generators


def test_export_without_to_lands_in_the_user_models_folder_and_runs_by_name(folders, capsys, tmp_path):
    """Train, then use, without touching the repository: export by run name, then --model NAME; an export
    elsewhere runs as --model METHOD=FILE through inpaint and batch, and `models import` takes it too."""
    from PIL import Image

    from inpaint_studio import cli
    from inpaint_studio.core import paths
    from inpaint_studio.engine.named_checkpoints import find_named

    result = _train(folders, "deepfill_v2")
    shipped_before = sorted(paths.SHIPPED_MODELS_DIR.iterdir())
    assert main(["export", str(result.run_dir), "--which", "last"]) == 0
    out = capsys.readouterr().out
    st = paths.user_models_dir() / "run-deepfill_v2.safetensors"
    assert st.is_file() and st.with_suffix(".md").is_file()
    assert "--model run-deepfill_v2" in out
    assert sorted(paths.SHIPPED_MODELS_DIR.iterdir()) == shipped_before
    assert find_named("run-deepfill_v2").source_words() == f"trained run {result.run_dir}"
    assert main(["export", str(result.run_dir), "--name", "df mine"]) == 0  # cleaned to a name: df-mine
    assert (paths.user_models_dir() / "df-mine.json").is_file()
    assert main(["export", str(result.run_dir), "--name", "telea"]) == 2  # a model's name: refused
    assert main(["export", str(result.run_dir), "--name", "x", "--to", str(tmp_path / "y")]) == 2
    capsys.readouterr()

    assert main(["export", str(result.run_dir), "--to", str(tmp_path / "elsewhere" / "mine")]) == 0
    mine = tmp_path / "elsewhere" / "mine.safetensors"
    assert f"--model deepfill_v2={mine}" in capsys.readouterr().out

    photos, masks = tmp_path / "photos", tmp_path / "masks"
    photos.mkdir()
    masks.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        Image.fromarray(rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)).save(photos / f"{name}.png")
        mask = np.zeros((32, 40), np.uint8)
        mask[8:20, 10:30] = 255
        Image.fromarray(mask).save(masks / f"{name}.png")
    by_name, by_file = tmp_path / "by_name.png", tmp_path / "by_file.png"
    common = ["inpaint", str(photos / "a.png"), "--mask", str(masks / "a.png"), "--device", "cpu"]
    assert cli.main([*common, "--model", "run-deepfill_v2", "-o", str(by_name)]) == 0
    assert cli.main([*common, "--model", f"deepfill_v2={mine}", "-o", str(by_file)]) == 0
    # both hold the last step's weights: the same fill (by name from the user folder, by file from elsewhere)
    assert np.array_equal(np.asarray(Image.open(by_name)), np.asarray(Image.open(by_file)))
    method = create_method("deepfill_v2", checkpoint=mine, device="cpu")
    image, mask = np.asarray(Image.open(photos / "a.png")), np.asarray(Image.open(masks / "a.png"))
    assert np.array_equal(np.asarray(Image.open(by_file)), method.inpaint(image, mask))

    assert cli.main(["batch", "--images", str(photos), "--masks", str(masks), "--model", f"deepfill_v2={mine}",
                     "--device", "cpu", "-o", str(tmp_path / "batch")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "batch" / "a.png")), np.asarray(Image.open(by_file)))
    assert (tmp_path / "batch" / "b.png").is_file()

    assert cli.main(["models", "import", str(mine)]) == 0  # our own export, by its file name
    assert find_named("mine").origin == "trained"
