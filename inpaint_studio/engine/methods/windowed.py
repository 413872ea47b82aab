"""Run a fixed-size network on a window around each hole.

Context Encoder and GLCIC learned one input size and one hole shape (a 56² centre hole in 128², holes of
48–96 px in 160² crops). A photo is therefore filled hole by hole: each connected hole region is cut into
tiles no larger than the hole the network learned, and each tile is filled from a window of the network's
size centred on it. Tiles are filled one after another, so a later tile sees the earlier fills as context.
Only mask pixels are ever written: every other pixel is bit-identical to the input.

No torch here: the method passes `fill_window(window_rgb, window_hole) -> filled_window_rgb` (uint8 arrays,
hole 255 = still unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from inpaint_studio.engine.base import CancelFn, ProgressFn, check_cancel, report

WindowFill = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Tile:
    """Rows y0:y1 and columns x0:x1 of the image, and the hole region (label) whose pixels it fills."""

    y0: int
    y1: int
    x0: int
    x1: int
    label: int


def _splits(start: int, length: int, tile: int) -> list[tuple[int, int]]:
    """[start, start+length) cut into equal parts of at most `tile` px."""
    parts = -(-length // tile)
    edges = [start + round(i * length / parts) for i in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def plan_tiles(mask: np.ndarray, tile: int) -> tuple[list[Tile], np.ndarray]:
    """Tiles covering every hole pixel (mask > 0) and the label image of the hole regions (8-connected)."""
    if tile < 1:
        raise ValueError(f"tile must be at least 1 px, not {tile}")
    count, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)
    tiles = []
    for label in range(1, count):
        x, y, w, h = (int(v) for v in stats[label, :4])
        for y0, y1 in _splits(y, h, tile):
            for x0, x1 in _splits(x, w, tile):
                if (labels[y0:y1, x0:x1] == label).any():
                    tiles.append(Tile(y0, y1, x0, x1, label))
    return tiles, labels


def fill_in_windows(
    image: np.ndarray,
    mask: np.ndarray,
    window: int,
    tile: int,
    fill_window: WindowFill,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> np.ndarray:
    """Fill every hole pixel of `image` (uint8 RGB) from `window`² windows centred on tiles of at most
    `tile`² px. Near the border the photo is extended by mirroring (the mirrored holes stay holes)."""
    if tile > window:
        raise ValueError(f"a {tile} px tile does not fit a {window} px window")
    tiles, labels = plan_tiles(mask, tile)
    pad = window  # enough for a window centred on any tile
    work = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="symmetric")
    unknown = np.pad(mask > 0, pad, mode="symmetric")
    labels = np.pad(labels, pad, mode="constant")
    for i, t in enumerate(tiles):
        check_cancel(cancel)
        report(progress, i / max(1, len(tiles)), f"filling part {i + 1} of {len(tiles)}")
        cy, cx = (t.y0 + t.y1) // 2 + pad, (t.x0 + t.x1) // 2 + pad
        top, left = cy - window // 2, cx - window // 2
        rows, cols = slice(top, top + window), slice(left, left + window)
        hole = np.where(unknown[rows, cols], np.uint8(255), np.uint8(0))
        filled = fill_window(work[rows, cols].copy(), hole)
        if filled.shape != (window, window, 3) or filled.dtype != np.uint8:
            raise ValueError(f"the window fill returned {filled.dtype} {filled.shape}, not uint8 {window}×{window}×3")
        ty, tx = slice(t.y0 + pad, t.y1 + pad), slice(t.x0 + pad, t.x1 + pad)
        mine = labels[ty, tx] == t.label
        dy, dx = t.y0 + pad - top, t.x0 + pad - left
        work[ty, tx][mine] = filled[dy : dy + t.y1 - t.y0, dx : dx + t.x1 - t.x0][mine]
        unknown[ty, tx][mine] = False
    report(progress, 1.0, "done")
    # Only hole pixels of `work` were written: outside them it is still the image.
    return np.ascontiguousarray(work[pad:-pad, pad:-pad])
