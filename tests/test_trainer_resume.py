"""A resumed run continues as if it had never stopped (bit-exact on CPU); Ctrl+C saves before exiting; a
NaN loss stops the run and keeps the last good checkpoint; checkpoints load with weights_only=True."""

from __future__ import annotations

import os
import signal

import pytest
import torch
from tiny_runs import tiny_deepfill_config

from trainer.config import ConfigError, TrainConfig
from trainer.loop import TrainingDiverged, train
from trainer.recipes.deepfill_v2 import DeepFillV2Recipe
from trainer.state import load_training_checkpoint


@pytest.fixture
def tiny(tmp_path) -> TrainConfig:
    return tiny_deepfill_config(tmp_path)


def _run(cfg: TrainConfig, run_dir, **kw):
    cfg.run_dir = str(run_dir)
    return train(cfg, log=lambda m: None, **kw)


def _assert_same_state(a: dict, b: dict) -> None:
    for name in a["models"]:
        for k, v in a["models"][name].items():
            assert torch.equal(v, b["models"][name][k]), f"{name}.{k} differs"
    for name in a["optimizers"]:
        sa, sb = a["optimizers"][name]["state"], b["optimizers"][name]["state"]
        for idx in sa:
            for k in sa[idx]:
                assert torch.equal(torch.as_tensor(sa[idx][k]), torch.as_tensor(sb[idx][k])), f"{name} {idx} {k}"
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])


def _without_wall_time(rows: list[str]) -> list[str]:
    return [",".join(c for i, c in enumerate(r.split(",")) if i != 2) for r in rows]


def test_resume_is_bit_exact(tiny, tmp_path):
    # Epochs of 3 batches: the pause at step 2 falls inside an epoch and the resumed part crosses into the
    # next one, so both mid-epoch data order and the epoch change are exercised.
    straight = _run(tiny, tmp_path / "straight")
    assert straight.step == 4 and straight.stopped == "done"

    paused = _run(tiny, tmp_path / "resumed", stop_at=2)
    assert paused.stopped == "paused" and paused.step == 2
    resumed = train(resume=tmp_path / "resumed", log=lambda m: None)
    assert resumed.step == 4 and resumed.stopped == "done"

    a = load_training_checkpoint(tmp_path / "straight")
    b = load_training_checkpoint(tmp_path / "resumed")
    assert a["step"] == b["step"] == 4
    _assert_same_state(a, b)
    # the training log of the resumed run reads like the straight one
    log_a = (tmp_path / "straight" / "log.csv").read_text().splitlines()
    log_b = (tmp_path / "resumed" / "log.csv").read_text().splitlines()
    assert _without_wall_time(log_a) == _without_wall_time(log_b)


def test_deepfill_v1_resume_is_bit_exact(tmp_path):
    """Two critics in one optimizer and the gradient penalty's random interpolation: all restored."""
    cfg = tiny_deepfill_config(tmp_path, recipe="deepfill_v1")
    assert _run(cfg, tmp_path / "straight").step == 4
    assert _run(cfg, tmp_path / "resumed", stop_at=2).stopped == "paused"
    assert train(resume=tmp_path / "resumed", log=lambda m: None).step == 4
    a = load_training_checkpoint(tmp_path / "straight")
    b = load_training_checkpoint(tmp_path / "resumed")
    assert set(a["models"]) == {"generator", "global_critic", "local_critic"}
    _assert_same_state(a, b)


def test_checkpoint_is_plain_tensors_and_primitives(tiny, tmp_path):
    tiny.steps = 1
    _run(tiny, tmp_path / "run")
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert ckpt["step"] == 1 and ckpt["config"]["recipe"] == "deepfill_v2"
    assert set(ckpt["models"]) == {"generator", "discriminator"} and set(ckpt["rng"]) >= {"torch", "numpy", "python"}
    assert ckpt["vgg_terms_off"] == []  # deepfill v2 has no VGG terms
    assert (tmp_path / "run" / "plot.png").is_file() and (tmp_path / "run" / "val.csv").is_file()
    assert not list((tmp_path / "run" / "checkpoints").glob("*.tmp"))
    with pytest.raises(ConfigError, match="already holds a training run"):  # a fresh run never overwrites one
        _run(tiny, tmp_path / "run")


def test_ctrl_c_saves_and_stops(tiny, tmp_path, monkeypatch):
    original = DeepFillV2Recipe.train_step
    calls = {"n": 0}

    def step_then_interrupt(self, batch):
        calls["n"] += 1
        out = original(self, batch)
        if calls["n"] == 2:
            os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl+C during step 2
        return out

    monkeypatch.setattr(DeepFillV2Recipe, "train_step", step_then_interrupt)
    result = _run(tiny, tmp_path / "run")
    assert result.stopped == "interrupted" and result.step == 2
    assert load_training_checkpoint(tmp_path / "run")["step"] == 2


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tiny, tmp_path, monkeypatch):
    original = DeepFillV2Recipe.train_step
    calls = {"n": 0}

    def step(self, batch):
        calls["n"] += 1
        out = original(self, batch)
        if calls["n"] == 3:
            out["l1_fine"] = torch.tensor(float("nan"))
        return out

    monkeypatch.setattr(DeepFillV2Recipe, "train_step", step)
    tiny.checkpoint_every = 1
    with pytest.raises(TrainingDiverged, match="l1_fine became non-finite at step 3"):
        _run(tiny, tmp_path / "run")
    assert load_training_checkpoint(tmp_path / "run")["step"] == 2


class _Exploit:
    def __reduce__(self):
        return (os.getcwd, ())


def test_a_refused_checkpoint_gets_one_plain_line(tmp_path):
    from inpaint_studio.core.errors import CheckpointError

    hostile = tmp_path / "last.pt"
    torch.save({"format": "inpaint-studio-training", "x": _Exploit()}, hostile)
    with pytest.raises(CheckpointError) as info:
        load_training_checkpoint(hostile)
    message = str(info.value)
    assert message.startswith("refused last.pt") and "\n" not in message
    assert "weights_only" not in message and "trusted source" not in message  # torch's advice is not passed on


@pytest.mark.parametrize("source", ["missing-run", "noise.pt"])
def test_a_failed_init_from_leaves_no_run_folder(tiny, tmp_path, source):
    from inpaint_studio.core.errors import CheckpointError

    (tmp_path / "noise.pt").write_bytes(os.urandom(2048))
    tiny.init_from = str(tmp_path / source)
    with pytest.raises(CheckpointError):
        _run(tiny, tmp_path / "new-run")
    assert not (tmp_path / "new-run").exists()


def test_a_failed_start_keeps_a_folder_the_user_made(tiny, tmp_path):
    from inpaint_studio.core.errors import CheckpointError

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    tiny.init_from = str(tmp_path / "missing-run")
    with pytest.raises(CheckpointError):
        _run(tiny, mine)
    assert (mine / "notes.txt").read_text() == "keep"
