"""Training checkpoints: a dict of tensors and primitives (loads with `torch.load(weights_only=True)`),
written atomically, holding everything a resumed run needs to continue bit-exactly: every network and
optimizer state, the AMP scaler, the step, the best validation score, and the torch / CUDA / numpy /
Python random states."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inpaint_studio.core.atomic import atomic_write
from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.engine.importer import load_weights_only

TRAINING_FORMAT = "inpaint-studio-training"
TRAINING_VERSION = 1


def capture_rng() -> dict[str, Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": str(kind), "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def atomic_torch_save(obj: Any, target: Path) -> None:
    """torch.save through a temp file: a crash never leaves half a checkpoint."""
    atomic_write(target, lambda tmp: torch.save(obj, tmp))


def load_training_checkpoint(path: Path) -> dict[str, Any]:
    """A training checkpoint (or a run directory's last one), loaded without executing any code."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoints" / "last.pt"
    if not path.is_file():
        raise CheckpointError(f"no training checkpoint at {path}")
    ckpt = load_weights_only(path, "training checkpoint")
    if not isinstance(ckpt, dict) or ckpt.get("format") != TRAINING_FORMAT:
        raise CheckpointError(f"{path} is not an Inpaint Studio training checkpoint")
    return ckpt
