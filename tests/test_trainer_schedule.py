"""The learning-rate schedule and DeepFill v2's staged adversarial term: the rates every optimizer actually
used, a resumed cosine run bit-exact with a straight one, and a critic untouched before its start step."""

from __future__ import annotations

import math

import pytest
import torch
from tiny_runs import tiny_deepfill_config

from trainer.config import ConfigError, TrainConfig
from trainer.loop import build_config, lr_factor, train
from trainer.state import load_training_checkpoint
from trainer.toydata import write_toy_images


def _cfg(**kw) -> TrainConfig:
    return TrainConfig(**kw)


def test_constant_schedule_is_the_papers():
    cfg = _cfg(steps=100)
    assert [lr_factor(cfg, s) for s in (0, 50, 99)] == [1.0, 1.0, 1.0]


def test_warmup_then_cosine_reaches_the_floor_at_the_last_step():
    cfg = _cfg(steps=110, warmup_steps=10, lr_schedule="cosine", lr_min_ratio=0.1)
    assert lr_factor(cfg, 0) == pytest.approx(0.1) and lr_factor(cfg, 4) == pytest.approx(0.5)
    assert lr_factor(cfg, 10) == pytest.approx(1.0)
    assert lr_factor(cfg, 60) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert lr_factor(cfg, 110) == pytest.approx(0.1) and lr_factor(cfg, 500) == pytest.approx(0.1)


def test_unknown_schedule_is_refused():
    with pytest.raises(ConfigError, match="lr_schedule"):
        lr_factor(_cfg(lr_schedule="linear"), 0)


@pytest.fixture
def tiny(tmp_path) -> TrainConfig:
    return tiny_deepfill_config(tmp_path, d_lr=2e-3, seed=3, lr_schedule="cosine", warmup_steps=2, lr_min_ratio=0.25)


def test_optimizers_run_at_the_scheduled_rate_and_resume_exactly(tiny, tmp_path):
    tiny.run_dir = str(tmp_path / "straight")
    train(tiny, log=lambda m: None)
    tiny.run_dir = str(tmp_path / "resumed")
    train(tiny, stop_at=3, log=lambda m: None)
    train(resume=tmp_path / "resumed", log=lambda m: None)
    a = load_training_checkpoint(tmp_path / "straight")
    b = load_training_checkpoint(tmp_path / "resumed")
    # the last step (index 3) ran at the cosine's value for step 3 of 4 after 2 warm-up steps
    f = lr_factor(tiny, 3)
    assert f == pytest.approx(0.25 + 0.75 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert a["optimizers"]["generator"]["param_groups"][0]["lr"] == pytest.approx(1e-3 * f)
    assert a["optimizers"]["discriminator"]["param_groups"][0]["lr"] == pytest.approx(2e-3 * f)
    for name in a["models"]:
        for k, v in a["models"][name].items():
            assert torch.equal(v, b["models"][name][k]), f"{name}.{k} differs after resume"


def test_critic_stays_untouched_until_the_adversarial_start(tiny, tmp_path):
    tiny.weights["adversarial_start"] = 3
    tiny.steps = 3
    tiny.run_dir = str(tmp_path / "run")
    train(tiny, log=lambda m: None)
    early = load_training_checkpoint(tmp_path / "run")
    assert early["optimizers"]["discriminator"]["state"] == {}  # never stepped in steps 1–3
    assert early["optimizers"]["generator"]["state"] != {}
    train(resume=tmp_path / "run", overrides={"steps": 4}, log=lambda m: None)
    late = load_training_checkpoint(tmp_path / "run")
    assert late["optimizers"]["discriminator"]["state"] != {}  # step 4 trained the critic
    changed = [k for k, v in late["models"]["discriminator"].items()
               if v.is_floating_point() and not torch.equal(v, early["models"]["discriminator"][k])]
    assert changed


def test_vcnet_critics_wait_for_the_adversarial_start(tmp_path):
    write_toy_images(tmp_path / "train", 4, size=(40, 48), seed=0)
    write_toy_images(tmp_path / "val", 2, size=(40, 48), seed=1)
    cfg = build_config("vcnet", "rin", cli_options={
        "data": str(tmp_path / "train"), "val_data": str(tmp_path / "val"), "image_size": 32, "batch_size": 2,
        "width": 0.125, "steps": 2, "val_images": 2, "val_every": 100, "progress": False, "device": "cpu",
        "threads": 1, "run_dir": str(tmp_path / "run"), "weights": {"adversarial_start": 2},
    })
    train(cfg, log=lambda m: None)
    early = load_training_checkpoint(tmp_path / "run")
    assert early["optimizers"]["critics"]["state"] == {} and early["optimizers"]["rin"]["state"] != {}
    train(resume=tmp_path / "run", overrides={"steps": 3}, log=lambda m: None)
    assert load_training_checkpoint(tmp_path / "run")["optimizers"]["critics"]["state"] != {}
