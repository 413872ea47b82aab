"""`auto`: each hole filled by the method that measured best on holes of its shape.

A mask mixes shapes: a painted-out boat is a blob, a scratch or a wire a thin stroke, a sign a large box. The
model table measures every method on each shape (buckets "20-30%"/"30-40%" free-form, "thin", "centre"), and
`engine.defaults` picks per shape: the most photo-like texture among the accurate for blobs and boxes, the
lowest L1 for thin strokes (whose detail comes from their neighbours anyway). This method only routes: it
classifies each connected hole region by its shape and hands each group to that method.

Shapes (thresholds in pixels of the image the fill sees):
- thin: no pixel is further than THIN_RADIUS from outside the hole (strokes up to 9 px wide);
- box: at least BOX_MIN_SIDE on both sides and filling at least BOX_FILL of its bounding box;
- blob: everything else.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inpaint_studio.core.masks import Box, is_hole
from inpaint_studio.engine.base import CancelFn, InpaintMethod, check_cancel, create_method, register_method
from inpaint_studio.engine.methods.classical import ClassicalMethod

THIN_RADIUS = 5.0
BOX_MIN_SIDE = 32
BOX_FILL = 0.9
SHAPES = ("thin", "box", "blob")
SHAPE_TASK = {"thin": "thin", "box": "box", "blob": "fill"}  # engine.defaults' task for each shape
SHAPE_WORDS = {"thin": ("thin stroke", "thin strokes"), "box": ("box", "boxes"), "blob": ("area", "areas")}


@dataclass(frozen=True)
class Route:
    shape: str  # one of SHAPES
    method: str
    box: Box  # the region's bounding box
    pixels: int


def classify(region: np.ndarray) -> str:
    """The shape of one connected hole region (bool H×W, cropped to its box)."""
    padded = np.pad(region.astype(np.uint8), 1)  # the crop's border is outside the hole
    if float(cv2.distanceTransform(padded, cv2.DIST_L2, 3).max()) <= THIN_RADIUS:
        return "thin"
    h, w = region.shape
    if min(h, w) >= BOX_MIN_SIDE and np.count_nonzero(region) >= BOX_FILL * h * w:
        return "box"
    return "blob"


def route_methods(table_path: Path | None = None, available: list[str] | None = None) -> dict[str, str]:
    """{shape: method} from the measured table (never `auto` itself)."""
    from inpaint_studio.engine.defaults import default_method

    return {
        shape: default_method(task, table_path, available=available, exclude=(AutoFillMethod.name,))  # type: ignore[arg-type]
        for shape, task in SHAPE_TASK.items()
    }


def _labelled_routes(mask: np.ndarray, methods: dict[str, str] | None) -> tuple[np.ndarray, list[Route]]:
    methods = methods if methods is not None else route_methods()
    hole = is_hole(mask).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hole, connectivity=8)
    routes = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        shape = classify(labels[y : y + h, x : x + w] == i)
        routes.append(Route(shape, methods[shape], Box(x, y, x + w, y + h), area))
    return labels, routes


def plan_routes(mask: np.ndarray, methods: dict[str, str] | None = None) -> list[Route]:
    """Every connected hole region (mask > 127, 8-connected) with its shape and the method that fills it."""
    return _labelled_routes(mask, methods)[1]


def describe_routes(routes: list[Route]) -> str:
    """"2 thin strokes by navier_stokes; 1 area by patchmatch" — which method filled which part."""
    counts = Counter((r.shape, r.method) for r in routes)
    parts = []
    for shape in SHAPES:
        for (s, method), n in counts.items():
            if s == shape:
                one, many = SHAPE_WORDS[shape]
                parts.append(f"{n} {one if n == 1 else many} by {method}")
    return "; ".join(parts) if parts else "nothing to fill"


@register_method
class AutoFillMethod(ClassicalMethod):
    name = "auto"
    description = (
        "Chooses per hole: thin strokes, areas and boxes each filled by the method that measured best on that "
        "shape (see the model table)"
    )

    def __init__(self) -> None:
        self._methods: dict[str, InpaintMethod] = {}

    def is_available(self) -> bool:
        return True

    def _method(self, name: str) -> InpaintMethod:
        if name not in self._methods:
            method = create_method(name)
            method.load()
            self._methods[name] = method
        return self._methods[name]

    def unload(self) -> None:
        for method in self._methods.values():
            method.unload()
        self._methods = {}

    def _fill(self, image: np.ndarray, hole: np.ndarray, cancel: CancelFn | None) -> np.ndarray:
        labels, routes = _labelled_routes(hole, None)
        groups: dict[str, list[int]] = {}  # method → its regions' labels; thin strokes' method first
        for shape in SHAPES:
            for label, r in enumerate(routes, start=1):
                if r.shape == shape:
                    groups.setdefault(r.method, []).append(label)
        # Each group is told about every hole still unfilled (thin strokes first, given all of them), so no fill
        # copies from the object being removed.
        current, pending = image, hole.copy()
        for name, members in groups.items():
            check_cancel(cancel)
            region = np.isin(labels, members)
            filled = self._method(name).inpaint(current, pending, None, None, cancel)
            current = np.where(region[..., None], filled, current)
            pending[region] = 0
        return current
