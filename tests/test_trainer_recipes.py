"""A tiny configuration of each recipe trains a few steps on generated images and its validation score
beats the untrained network's (the step-0 validation of the same run, same images and masks). The fast
ones run by default; the image-filling stages need a few hundred steps and are marked slow. Also: the
config layering (recipe defaults ← TOML ← command line) and the CLI help."""

from __future__ import annotations

import csv

import pytest
import torch

from trainer.cli import build_parser, main
from trainer.config import ConfigError, load_toml, merge
from trainer.loop import build_config, train
from trainer.toydata import write_toy_images

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def folders(tmp_path):
    # A handful of single-colour images, validated on the same photos with fixed masks: a few hundred
    # steps of a tiny network cannot generalise to new colours, but it must learn to fill these.
    write_toy_images(tmp_path / "train", 6, size=(40, 48), seed=0, flat=True)
    return tmp_path


def _improves(folders, recipe: str, stage: str, steps: int, **options) -> tuple[float, float]:
    opts = {
        "data": str(folders / "train"), "val_data": str(folders / "train"), "image_size": 32, "batch_size": 3,
        "width": 0.25, "steps": steps, "val_images": 6, "val_every": steps, "sample_every": 0, "log_every": 5,
        "progress": False, "device": "cpu", "threads": 1, "lr": 1e-3, "network": {"num_blocks": 1},
        "run_dir": str(folders / "run"), **options,
    }
    result = train(build_config(recipe, stage, cli_options=opts), log=lambda m: None)
    assert result.step == steps and result.recipe is not None
    key = result.recipe.best_key()
    rows = list(csv.DictReader((folders / "run" / "val.csv").open()))
    assert [int(r["step"]) for r in rows] == [0, steps]
    return float(rows[0][key]), float(rows[-1][key])


def test_edgeconnect_edge_stage_learns_edges_fast(folders):
    untrained, trained = _improves(folders, "edgeconnect", "edge", 20)
    assert trained < 0.5 * untrained  # edge L1 in the hole (the untrained net says 0.5 everywhere)


def test_deepfill_v1_learns_to_fill_its_training_images(folders):
    # WGAN-GP global and local critics on (32², 16² local windows), spatially discounted L1: ~4 s here.
    untrained, trained = _improves(folders, "deepfill_v1", "", 40)
    assert trained < 0.8 * untrained  # hole L1 in grey levels (measured 44.6 → 29.4)


@pytest.mark.slow
@pytest.mark.parametrize(("recipe", "stage", "steps", "options"), [
    ("deepfill_v2", "", 100, {}), ("edgeconnect", "inpaint", 100, {}), ("edgeconnect", "joint", 100, {}),
    ("vcnet", "mpn", 400, {"width": 0.5}),  # the mask network starts slowly (measured: −27 % at 400 steps)
    ("vcnet", "rin", 100, {}), ("vcnet", "joint", 100, {}),
])
def test_every_stage_beats_its_untrained_network(folders, recipe, stage, steps, options):
    untrained, trained = _improves(folders, recipe, stage, steps, **options)
    assert trained < 0.9 * untrained  # hole L1 in grey levels (vcnet mpn: τ-weighted mask BCE)


def test_config_layers_defaults_file_and_command_line(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('stage = "rin"\nbatch_size = 2\n[weights]\nl1 = 3.0\n')
    file_opts = load_toml(toml)
    cfg = build_config("vcnet", "", file_opts, {"batch_size": "5", "betas": "0.1,0.2"})
    assert cfg.stage == "rin" and cfg.lr == pytest.approx(1e-4)  # the paper's RIN rate
    assert cfg.batch_size == 5 and cfg.betas == [0.1, 0.2]
    assert cfg.weights["l1"] == 3.0 and cfg.weights["id_mrf"] == pytest.approx(1e-3)  # table merged
    with pytest.raises(ConfigError, match="unknown option 'bogus'"):
        merge(cfg, {"bogus": 1}, "test")
    with pytest.raises(ConfigError, match="must be a int"):
        merge(cfg, {"steps": "many"}, "test")
    with pytest.raises(ConfigError, match="stages mpn, rin, joint"):
        from trainer.recipes import get_recipe

        bad = merge(cfg, {"stage": "nope"}, "test")
        get_recipe("vcnet")(bad, torch.device("cpu"), None)


def test_cli_documents_every_command(capsys):
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"fetch-photos", "train", "export", "recipes"} <= set(commands)
    for name, sub in commands.items():
        assert sub.description or sub.format_help(), name
    assert main(["train"]) == 2
    assert "name a recipe" in capsys.readouterr().err
    assert main(["train", "nosuch", "--steps", "1"]) == 2
    assert "unknown recipe 'nosuch'" in capsys.readouterr().err



def test_held_out_damage_is_validated_separately_never_trained_on(folders):
    from trainer.data import DataError
    from trainer.loop import make_datasets, make_unseen_dataset
    from trainer.recipes import get_recipe

    opts = {
        "data": str(folders / "train"), "val_data": str(folders / "train"), "image_size": 32, "batch_size": 3,
        "width": 0.25, "steps": 2, "val_images": 3, "val_every": 2, "sample_every": 0, "log_every": 1,
        "progress": False, "device": "cpu", "threads": 1, "network": {"num_blocks": 1},
        "run_dir": str(folders / "run"), "damage": "scratch,hairline,coffee", "hold_out": "coffee",
    }
    cfg = build_config("vcnet", "mpn", cli_options=opts)
    recipe = get_recipe(cfg.recipe)(cfg, torch.device("cpu"), None)
    train_ds, _ = make_datasets(cfg, recipe)
    assert train_ds.damage == ["scratch", "hairline"]
    assert make_unseen_dataset(cfg, recipe).damage == ["coffee"]
    train(cfg, log=lambda m: None)
    rows = list(csv.DictReader((folders / "run" / "val.csv").open()))
    assert "mask_iou" in rows[-1] and "unseen_mask_iou" in rows[-1]
    with pytest.raises(DataError, match="held out"):
        make_datasets(build_config("vcnet", "mpn", cli_options={**opts, "hold_out": "scratch,hairline,coffee"}),
                      recipe)
