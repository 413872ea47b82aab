"""The floor a learned fill must clear before it ships: never visibly broken on the bundled photos.

On each bundled sample photo at 256² (a generated 20–30 % free-form hole, the centre box and thin strokes), the
checkpoint's fill must on average beat a flat mean-colour fill of the same hole on hole L1, on no hole shape be
clearly worse than it (at most MAX_SHAPE_RATIO × its hole L1: a network can break on one shape alone — a PGGAN
that never saw thin strokes painted them as saturated streaks), and show no checkerboard: its mean periodic ratio
(`core.metrics.periodic_ratio`, 2–8 px repeating patterns against the photo's) must stay at most MAX_PERIODIC.
All are weight-free and take a few seconds; `tests/test_floor.py` runs them on every shipped checkpoint. The
margins: every classical fill scores ≤ 1.0 on periodic ratio there, a 4-px transposed-convolution checkerboard
~3–5; on one shape the shipped fills reach at most 1.01× the flat fill's hole L1 (DeepFill v1 on the centre box).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAX_PERIODIC = 2.0
MAX_SHAPE_RATIO = 1.1
SIZE = 256
HOLES: tuple[Any, ...] = ((0.2, 0.3), "centre", "thin")


@dataclass(frozen=True)
class FloorResult:
    l1_hole: float  # the fill's mean hole L1
    flat_l1_hole: float  # a flat mean-colour fill's, on the same holes
    periodic: float  # mean periodic ratio
    worst_shape: str = ""  # the hole shape where the fill does worst against the flat fill
    worst_ratio: float = 0.0  # its hole L1 / the flat fill's there

    @property
    def passed(self) -> bool:
        return (self.l1_hole < self.flat_l1_hole and self.worst_ratio <= MAX_SHAPE_RATIO
                and self.periodic <= MAX_PERIODIC)

    def describe(self) -> str:
        return (f"hole L1 {self.l1_hole:.2f} vs a flat fill's {self.flat_l1_hole:.2f}; worst shape {self.worst_shape} "
                f"at {self.worst_ratio:.2f}× the flat fill's (at most {MAX_SHAPE_RATIO:.1f}); periodic ratio "
                f"{self.periodic:.2f} (at most {MAX_PERIODIC:.1f})")


def floor_check(method: str, checkpoint: Path | None = None, photos: list[Path] | None = None) -> FloorResult:
    """Measure `method` (with `checkpoint`, else the one the engine finds) on the bundled photos."""
    from inpaint_studio.core.hd import HDConfig, HDStrategy
    from inpaint_studio.core.imageio import load_rgb
    from inpaint_studio.core.metrics import l1, periodic_ratio
    from inpaint_studio.core.paths import SAMPLES_DIR
    from inpaint_studio.engine.evaluate import generated_mask, prepare
    from inpaint_studio.engine.manager import ModelManager

    if photos is None:
        photos = sorted(p for p in SAMPLES_DIR.iterdir() if p.suffix.lower() in (".png", ".jpg"))
    manager = ModelManager(device="cpu", hd_config=HDConfig(strategy=HDStrategy.ORIGINAL))
    manager.activate(method, load=True, **({"checkpoint": checkpoint} if checkpoint is not None else {}))
    ours: dict[str, list[float]] = {_shape(b): [] for b in HOLES}
    flat: dict[str, list[float]] = {_shape(b): [] for b in HOLES}
    periodic = []
    try:
        for path in photos:
            image = prepare(load_rgb(path), SIZE)
            for index, bucket in enumerate(HOLES):
                mask = generated_mask(SIZE, bucket, 0, path.name, index)
                filled = manager.run(image, mask)
                mean_colour = image.copy()
                mean_colour[mask > 0] = image[mask > 0].mean(axis=0).round().astype(np.uint8)
                ours[_shape(bucket)].append(l1(filled, image, mask))
                flat[_shape(bucket)].append(l1(mean_colour, image, mask))
                periodic.append(periodic_ratio(filled, image, mask))
    finally:
        manager.unload()
    ratios = {k: float(np.mean(ours[k])) / max(float(np.mean(flat[k])), 1e-6) for k in ours}
    worst = max(ratios, key=ratios.__getitem__)
    return FloorResult(float(np.mean(sum(ours.values(), []))), float(np.mean(sum(flat.values(), []))),
                       float(np.mean(periodic)), worst, ratios[worst])


def _shape(bucket: Any) -> str:
    return f"{round(bucket[0] * 100)}–{round(bucket[1] * 100)} %" if isinstance(bucket, tuple) else str(bucket)
