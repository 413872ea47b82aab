"""The Context Encoder, GLCIC and PGGAN recipes: listed with the papers' defaults, a tiny run lowers the
validation hole L1 on its training images (slow: 7–16 s each here), GLCIC's three phases train what the
paper trains in each, and an export fills photos through the CLI (`inpaint`, `batch`, `evaluate --models`)
like any model."""

from __future__ import annotations

import csv
import json

import cv2
import imagegen as gen
import numpy as np
import pytest
import torch

from inpaint_studio import cli
from inpaint_studio.core import paths
from inpaint_studio.core.imageio import load_rgb, save_image
from trainer.cli import main as trainer_main
from trainer.export import export_run
from trainer.loop import build_config, train
from trainer.recipes import get_recipe
from trainer.toydata import write_toy_images

RECIPES = ("context_encoder", "glcic", "pggan")
# Small-compute settings per recipe: GLCIC goes through all three phases in the run (MSE, D alone, joint) with
# a calmer discriminator rate (1e-3 makes its logits explode on six flat images and the joint phase undo the
# fill); Adam instead of the paper's ADADELTA, whose first hundred steps are tiny.
TINY = {
    "context_encoder": {},
    "glcic": {"network": {"optimizer": "adam"}, "d_lr": 1e-4, "weights": {"d_start": 50, "joint_start": 75}},
    "pggan": {"network": {"num_blocks": 1}},
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _options(folder, steps: int, recipe: str) -> dict:
    return {
        "data": str(folder / "train"), "val_data": str(folder / "train"), "image_size": 32, "batch_size": 3,
        "width": 0.25, "steps": steps, "val_images": 6, "val_every": steps, "sample_every": 0, "log_every": 5,
        "progress": False, "device": "cpu", "threads": 1, "lr": 1e-3, "run_dir": str(folder / f"run-{recipe}"),
        **TINY[recipe],
    }


@pytest.fixture
def folder(tmp_path):
    write_toy_images(tmp_path / "train", 6, size=(40, 48), seed=0, flat=True)
    return tmp_path


def test_recipes_are_listed_with_the_papers_defaults(capsys):
    assert trainer_main(["recipes"]) == 0
    out = capsys.readouterr().out
    for name in RECIPES:
        assert f"{name}: " in out
    ce = get_recipe("context_encoder").defaults("")
    assert ce["image_size"] == 128 and ce["mask_kind"] == "centre"
    assert ce["weights"] == {"l2": 0.998, "adversarial": 0.002, "overlap": 10.0}
    gl = get_recipe("glcic").defaults("")
    assert gl["image_size"] == 160 and gl["weights"]["adversarial"] == pytest.approx(4e-4)
    assert (gl["weights"]["d_start"], gl["weights"]["joint_start"]) == (90000, 100000)


@pytest.mark.slow
@pytest.mark.parametrize("recipe", RECIPES)
def test_a_tiny_run_lowers_validation_l1_on_its_training_images(folder, recipe):
    steps = 100
    result = train(build_config(recipe, "", cli_options=_options(folder, steps, recipe)), log=lambda m: None)
    assert result.step == steps
    rows = list(csv.DictReader((folder / f"run-{recipe}" / "val.csv").open()))
    assert [int(r["step"]) for r in rows] == [0, steps]
    untrained, trained = float(rows[0]["l1_hole"]), float(rows[-1]["l1_hole"])
    assert trained < 0.9 * untrained


def test_glcic_phases_train_the_completion_network_then_the_discriminator_then_both(folder):
    cfg = build_config("glcic", "", cli_options={**_options(folder, 1, "glcic"),
                                                 "weights": {"d_start": 10, "joint_start": 20}})
    recipe = get_recipe("glcic")(cfg, torch.device("cpu"), None)
    torch.manual_seed(0)
    recipe.build()
    recipe.train_mode(True)
    image = torch.rand(3, 3, 32, 32)
    mask = torch.from_numpy(np.stack([gen.box_mask(32, 32, 8, 6, 20, 22) for _ in range(3)]) / 255.0)
    batch = {"image": image, "mask": mask[:, None].float()}

    def changed_after_step(step: int) -> tuple[bool, bool]:
        before = {n: [p.detach().clone() for p in recipe.nets[n].parameters()] for n in recipe.nets}
        recipe.step = step
        recipe.train_step(batch)
        return tuple(  # type: ignore[return-value]
            any(not torch.equal(a, p) for a, p in zip(before[n], recipe.nets[n].parameters(), strict=True))
            for n in ("completion", "discriminator")
        )

    assert changed_after_step(0) == (True, False)  # MSE only
    assert changed_after_step(10) == (False, True)  # the discriminator alone
    assert changed_after_step(20) == (True, True)  # joint


@pytest.mark.parametrize("recipe", RECIPES)
def test_an_export_fills_photos_through_the_cli(folder, recipe, capsys):
    result = train(build_config(recipe, "", cli_options={**_options(folder, 2, recipe), "width": 0.125}),
                   log=lambda m: None)
    exported = export_run(result.run_dir, paths.user_models_dir() / f"{recipe}-tiny", which="last")
    card = exported.with_suffix(".md").read_text(encoding="utf-8")
    # PGGAN's authors published no weights; the card says so instead of pointing at an import
    assert ("no published checkpoints exist" in card) == (recipe == "pggan")
    assert ("full checkpoints still import" in card) == (recipe != "pggan")
    image = gen.textured(40, 56, seed=2)
    mask = gen.box_mask(40, 56, 10, 12, 26, 30)
    (folder / "in").mkdir()
    photo, mask_file = save_image(folder / "in" / "photo.png", image), folder / "mask.png"
    cv2.imwrite(str(mask_file), mask)
    assert cli.main(["models"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(f"{recipe} "))
    assert f"{recipe}-tiny" in line
    out = folder / "filled.png"
    assert cli.main(["inpaint", str(photo), "--mask", str(mask_file),
                     "--model", recipe, "--device", "cpu", "-o", str(out)]) == 0
    filled = load_rgb(out)
    assert np.array_equal(filled[mask == 0], image[mask == 0])
    assert (filled[mask > 0] != image[mask > 0]).any()
    assert cli.main(["batch", "--images", str(folder / "in"), "--masks", str(mask_file),
                     "--model", recipe, "--device", "cpu", "-o", str(folder / "batch")]) == 0
    batch_out = [p for p in (folder / "batch").iterdir() if p.suffix == ".png"]
    assert len(batch_out) == 1 and np.array_equal(load_rgb(batch_out[0])[mask == 0], image[mask == 0])
    exported = paths.user_models_dir() / f"{recipe}-tiny.safetensors"
    report = folder / "report"
    assert cli.main(["evaluate", "--images", str(folder / "in"), "--generate-masks", "--ratios", "0.1-0.2,centre",
                     "--models", f"telea,{recipe}={exported}", "--size", "32", "--device", "cpu",
                     "-o", str(report)]) == 0
    rows = json.loads((report / "evaluation.json").read_text())["rows"]
    assert {r["bucket"] for r in rows if r["model"].startswith(recipe)} == {"10-20%", "centre"}


@pytest.mark.parametrize("preset", ["small", "tiny"])
def test_the_presets_build_every_new_recipe_and_a_bad_crop_size_is_one_message(preset):
    from trainer.cli import PRESETS
    from trainer.config import ConfigError, merge

    for name in RECIPES:
        cfg = merge(build_config(name), PRESETS[preset], preset)
        with torch.device("meta"):  # shapes only, as the export's paper-size count does
            recipe = get_recipe(name)(cfg, torch.device("meta"), None)
            recipe.build()
        assert [c.name for c in recipe.export_components()] == [recipe.trained[0]]
    cfg = merge(build_config("context_encoder"), {**PRESETS[preset], "image_size": 100}, "test")
    with pytest.raises(ConfigError, match="power of two"):
        get_recipe("context_encoder")(cfg, torch.device("cpu"), None).build()


def test_a_pggan_seeded_across_an_upsampling_change_keeps_every_weight_that_still_fits():
    from trainer.config import merge

    def built(upsample: str):
        cfg = merge(build_config("pggan"), {"width": 0.125, "device": "cpu", "network": {"num_blocks": 1,
                                                                                         "upsample": upsample}}, "t")
        recipe = get_recipe("pggan")(cfg, torch.device("cpu"), None)
        recipe.build()
        return recipe

    torch.manual_seed(0)
    old, new = built("transpose"), built("resize")
    assert new.export_components()[0].config["upsample"] == "resize"
    before = {k: v.clone() for k, v in new.nets["generator"].state_dict().items()}
    seeded = new.init_from_state({n: net.state_dict() for n, net in old.nets.items()})
    assert seeded[0].startswith("generator (new: dec2.0.conv.bias") and seeded[1] == "discriminator"
    ours, theirs = new.nets["generator"].state_dict(), old.nets["generator"].state_dict()
    for key, value in ours.items():
        if ".0.conv." in key:  # the new upsampling convs start as built
            assert torch.equal(value, before[key])
        else:
            assert torch.equal(value, theirs[key]), key
    # a network other than the generator must still match key for key
    with pytest.raises(RuntimeError, match="Missing key"):
        new.init_from_state({"discriminator": {}})
