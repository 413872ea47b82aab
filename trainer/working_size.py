"""Choose the working size of an exported checkpoint (the long side its fills run at, `inference.working_size`
in its JSON; `engine/learned.py`) by measuring hole L1 on validation photos at each candidate — full size and
multiples of the training crop — and record the best. A network trained on 128² crops of photos fills a 256²
photo far better on a shrunk copy: it sees the scale it learned (DeepFill v2 at 1 200 steps: hole L1 36.8 at
128 px vs 44.0 at full size on 8 val photos)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inpaint_studio.core.metrics import l1
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import read_metadata, update_metadata
from inpaint_studio.engine.evaluate import generated_mask

BUCKETS: tuple[tuple[float, float], ...] = ((0.2, 0.3), (0.3, 0.4))  # the buckets the fill default is chosen on
FACTORS = (1.0, 1.25, 1.5, 2.0)  # candidate sizes: these × the training crop, plus full size (0)


def candidates(training_size: int, evaluation_size: int) -> list[int]:
    """0 (full size) and the multiples of the training crop below the evaluation size, ascending."""
    sizes = {int(round(training_size * f)) for f in FACTORS}
    return [0, *sorted(s for s in sizes if 0 < s < evaluation_size)]


def measure(
    make_method: Callable[[int], Any], photos: Sequence[tuple[str, np.ndarray]], sizes: Sequence[int], seed: int = 0
) -> dict[int, float]:
    """Mean hole L1 per working size over every photo × bucket (the holes `evaluate` generates)."""
    out = {}
    for size in sizes:
        method = make_method(size)
        scores = []
        for name, image in photos:
            for b, bucket in enumerate(BUCKETS):
                mask = generated_mask(image.shape[0], bucket, seed, name, b + 1)  # evaluate's index of the bucket
                scores.append(l1(method.inpaint(image, mask), image, mask))
        out[size] = float(np.mean(scores))
    return out


def choose(scores: dict[int, float]) -> int:
    """The lowest L1; a tie goes to the larger size (sharper), full size (0) first of all."""
    return min(scores, key=lambda s: (round(scores[s], 6), -s if s else -10**9))


def record(checkpoint: Path, size: int, scores: dict[int, float], settings: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["inference"] = {
            **(doc.get("inference") or {}),
            "working_size": size,
            "why": f"lowest hole L1 over the 20–40 % buckets ({scores[size]:.2f})",
            "measured": {str(k): round(v, 3) for k, v in scores.items()},
            "settings": settings,
        }

    update_metadata(checkpoint, change)


def run(checkpoint: Path, photos: Sequence[tuple[str, np.ndarray]], seed: int, record_it: bool,
        log: Callable[[str], None] = print) -> int:
    meta = read_metadata(checkpoint)
    training = int((meta.get("training") or {}).get("image_size") or 0)
    size = photos[0][1].shape[0]
    sizes = candidates(training, size) if training else [0]

    def make(working: int) -> Any:
        method = create_method(meta["method"], checkpoint=checkpoint, device="cpu", working_size=working)
        method.load()
        return method

    scores = measure(make, photos, sizes, seed)
    best = choose(scores)
    log("working size: " + ", ".join(f"{k or 'full'} → L1 {v:.2f}" for k, v in scores.items()) + f"; chosen {best or 'full'}")
    if record_it:
        record(checkpoint, best, scores, {"photos": [n for n, _ in photos], "size": size, "seed": seed})
    return best
