"""`tune` picks the working size with the lowest measured hole L1 and records it where the engine follows it."""

from __future__ import annotations

import json

import imagegen as gen
import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_studio.core.metrics import l1
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import save_checkpoint
from inpaint_studio.engine.evaluate import generated_mask
from inpaint_studio.networks.registry import create_network
from trainer import working_size
from trainer.cli import main


def test_candidates_are_full_size_and_multiples_of_the_training_crop_below_the_evaluation_size():
    assert working_size.candidates(128, 256) == [0, 128, 160, 192]
    assert working_size.candidates(128, 160) == [0, 128]
    assert working_size.candidates(64, 512) == [0, 64, 80, 96, 128]


def test_choose_takes_the_lowest_l1_and_on_a_tie_the_larger_size():
    assert working_size.choose({0: 30.0, 128: 25.0, 160: 26.0}) == 128
    assert working_size.choose({0: 25.0, 128: 25.0, 160: 25.0}) == 0  # full size is the sharpest
    assert working_size.choose({0: 26.0, 128: 25.0, 160: 25.0}) == 160
    assert working_size.choose({0: 25.0}) == 0


def _checkpoint(tmp_path, training_size: int):
    torch.manual_seed(0)
    net = create_network("deepfill_v2_generator", cnum=4).eval()
    return save_checkpoint(tmp_path / "df", "deepfill_v2", {"generator": net},
                           {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 4}}},
                           {"training": {"image_size": training_size}})


def test_measured_scores_are_the_engines_fills_and_the_choice_is_recorded(tmp_path):
    path = _checkpoint(tmp_path, 32)
    photos = [(f"p{i}.png", gen.textured(64, 64, seed=30 + i)) for i in range(2)]
    best = working_size.run(path, photos, 0, True, log=lambda m: None)
    doc = json.loads(path.with_suffix(".json").read_text())
    scores = {int(k): v for k, v in doc["inference"]["measured"].items()}
    assert set(scores) == {0, 32, 40, 48} and doc["inference"]["working_size"] == best
    assert scores[best] == min(scores.values())
    # each score is the mean hole L1 of the engine's fill at that size, over both photos and both buckets
    method = create_method("deepfill_v2", checkpoint=path, device="cpu", working_size=32)
    expected = [l1(method.inpaint(img, m), img, m) for name, img in photos
                for b, bucket in enumerate(working_size.BUCKETS)
                for m in [generated_mask(64, bucket, 0, name, b + 1)]]
    assert scores[32] == pytest.approx(np.mean(expected), abs=1e-3)
    loaded = create_method("deepfill_v2", checkpoint=path, device="cpu")
    loaded.load()
    assert loaded.working_size == best


def test_tune_command_records_the_working_size(tmp_path, capsys):
    path = _checkpoint(tmp_path, 32)
    images = tmp_path / "val"
    images.mkdir()
    for i in range(2):
        Image.fromarray(gen.textured(80, 80, seed=40 + i)).save(images / f"v{i}.png")
    assert main(["tune", str(path), "--images", str(images), "--size", "64", "--record"]) == 0
    assert "working size:" in capsys.readouterr().out
    assert "working_size" in json.loads(path.with_suffix(".json").read_text())["inference"]
    assert main(["tune", str(path), "--images", str(tmp_path / "none")]) == 2
