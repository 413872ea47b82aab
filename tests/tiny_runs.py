"""A tiny DeepFill v2 training configuration over toy photos: the trainer tests' common starting point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer.config import TrainConfig
from trainer.loop import build_config
from trainer.toydata import write_toy_images


def tiny_deepfill_config(folder: Path, recipe: str = "deepfill_v2", **overrides: Any) -> TrainConfig:
    """6 training and 2 validation toy photos under `folder`; 32², batch 2, 4 steps, no periodic I/O
    (`recipe`: deepfill_v2, or deepfill_v1 with the same settings)."""
    write_toy_images(folder / "train", 6, size=(40, 48), seed=0)
    write_toy_images(folder / "val", 2, size=(40, 48), seed=1)
    return build_config(recipe, cli_options={
        "data": str(folder / "train"), "val_data": str(folder / "val"), "image_size": 32, "batch_size": 2,
        "width": 0.1, "steps": 4, "val_images": 2, "val_every": 100, "sample_every": 0, "checkpoint_every": 100,
        "log_every": 1, "progress": False, "device": "cpu", "lr": 1e-3, "d_lr": 1e-3, "seed": 7, "threads": 1,
        **overrides,
    })
