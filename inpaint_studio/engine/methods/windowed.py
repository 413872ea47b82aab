"""Run a fixed-size network on a window around each hole.

Context Encoder and GLCIC learned one input size and one hole shape (a 56² centre hole in 128², holes of
48–96 px in 160² crops). A photo is therefore filled hole by hole (each 8-connected hole region in turn, so a
later region sees the earlier fills as context):

- **Whole region** (`Whole`, for a fully convolutional network such as GLCIC's completion network): the
  region's bounding box plus a context margin, at least the training window and rounded up to a multiple of
  the network's stride, is filled in one pass when both its sides fit the limit. No tiles, so no seams.
- **Tiles** otherwise: the region is cut into cores of at most `tile − 2·overlap` px; each core grown by
  `overlap` on every side (at most `tile`, the hole the network learned) is predicted from a `window`² window
  centred on the core. Where grown tiles overlap, the predictions are blended with weights that fall to zero
  at a tile's edge (feathering), so neighbouring tiles meet without a step. The next tile is always the one
  nearest the known pixels, so filling runs in rings from the hole's border inward and each tile sees real
  context (or the ring before it) rather than the prefill.

Only mask pixels are ever written: every other pixel is bit-identical to the input.

No torch here: the method passes `fill_window(window_rgb, window_hole) -> filled_window_rgb` (uint8 arrays,
hole 255 = to predict; the same height and width out as in).
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


@dataclass(frozen=True)
class Whole:
    """Fill a region in one pass when its box plus `margin` (rounded up to `multiple`) fits `limit`² px."""

    limit: int
    margin: int
    multiple: int = 1


def _splits(start: int, length: int, tile: int) -> list[tuple[int, int]]:
    """[start, start+length) cut into equal parts of at most `tile` px."""
    parts = -(-length // tile)
    edges = [start + round(i * length / parts) for i in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _regions(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label image of the hole regions (mask > 0, 8-connected) and their x, y, w, h boxes (row = label)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)
    return labels, stats[:, :4].astype(int)


def _region_tiles(labels: np.ndarray, box: np.ndarray, label: int, tile: int) -> list[Tile]:
    x, y, w, h = (int(v) for v in box)
    tiles = []
    for y0, y1 in _splits(y, h, tile):
        for x0, x1 in _splits(x, w, tile):
            if (labels[y0:y1, x0:x1] == label).any():
                tiles.append(Tile(y0, y1, x0, x1, label))
    return tiles


def plan_tiles(mask: np.ndarray, tile: int) -> tuple[list[Tile], np.ndarray]:
    """Tiles (cores) covering every hole pixel (mask > 0) once and the label image of the hole regions."""
    if tile < 1:
        raise ValueError(f"tile must be at least 1 px, not {tile}")
    labels, boxes = _regions(mask)
    tiles = [t for label in range(1, len(boxes)) for t in _region_tiles(labels, boxes[label], label, tile)]
    return tiles, labels


def _ramp(length: int, lo_open: bool, hi_open: bool, overlap: int) -> np.ndarray:
    """Weights along one side of a grown tile: rising over `overlap` px from an edge shared with other tiles."""
    i = np.arange(length, dtype=np.float64)
    w = np.ones(length)
    if overlap > 0 and lo_open:
        w = np.minimum(w, (i + 1) / (overlap + 1))
    if overlap > 0 and hi_open:
        w = np.minimum(w, (length - i) / (overlap + 1))
    return w


class _Canvas:
    """The mirrored working copy of the photo, what is still unknown, and the feathering accumulators."""

    def __init__(self, image: np.ndarray, mask: np.ndarray, labels: np.ndarray, pad: int) -> None:
        self.pad = pad
        self.work = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="symmetric")
        self.unknown = np.pad(mask > 0, pad, mode="symmetric")
        self.labels = np.pad(labels, pad, mode="constant")
        self.acc = np.zeros(image.shape, np.float64)  # the photo's size only: the margin is never written
        self.weight = np.zeros(mask.shape, np.float64)

    def predict(self, top: int, left: int, h: int, w: int, extra: np.ndarray | None,
                fill_window: WindowFill) -> np.ndarray:
        """The network's window at image rows top:top+h, columns left:left+w; `extra` (same shape) marks
        already filled pixels to predict again (a tile's overlap band)."""
        rows, cols = slice(top + self.pad, top + self.pad + h), slice(left + self.pad, left + self.pad + w)
        todo = self.unknown[rows, cols] if extra is None else self.unknown[rows, cols] | extra
        hole = np.where(todo, np.uint8(255), np.uint8(0))
        filled = fill_window(self.work[rows, cols].copy(), hole)
        if filled.shape != (h, w, 3) or filled.dtype != np.uint8:
            raise ValueError(f"the window fill returned {filled.dtype} {filled.shape}, not uint8 {h}×{w}×3")
        return filled

    def write(self, y0: int, y1: int, x0: int, x1: int, label: int, values: np.ndarray,
              weights: np.ndarray | None = None) -> None:
        """Blend `values` (rows y0:y1, columns x0:x1) into the region's pixels there (inside the photo)."""
        height, width = self.weight.shape
        cy0, cy1, cx0, cx1 = max(0, y0), min(height, y1), max(0, x0), min(width, x1)
        values = values[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
        weights = None if weights is None else weights[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
        y0, y1, x0, x1 = cy0, cy1, cx0, cx1
        ty, tx = slice(y0 + self.pad, y1 + self.pad), slice(x0 + self.pad, x1 + self.pad)
        mine = self.labels[ty, tx] == label
        w = np.ones(mine.shape) if weights is None else weights
        acc, weight = self.acc[y0:y1, x0:x1], self.weight[y0:y1, x0:x1]
        acc[mine] += w[mine, None] * values[mine]
        weight[mine] += w[mine]
        self.work[ty, tx][mine] = np.clip(np.rint(acc[mine] / weight[mine, None]), 0, 255).astype(np.uint8)
        self.unknown[ty, tx][mine] = False

    def result(self) -> np.ndarray:
        # Only hole pixels of `work` were written: outside them it is still the image.
        return np.ascontiguousarray(self.work[self.pad : -self.pad, self.pad : -self.pad])


def _whole_box(box: np.ndarray, whole: Whole, window: int) -> tuple[int, int, int, int] | None:
    """(top, left, h, w) of the one-pass window for a region's box, or None when it exceeds the limit."""
    x, y, w, h = (int(v) for v in box)
    m = whole.multiple
    side_h = -(-max(window, h + 2 * whole.margin) // m) * m
    side_w = -(-max(window, w + 2 * whole.margin) // m) * m
    if max(side_h, side_w) > whole.limit:
        return None
    return y + h // 2 - side_h // 2, x + w // 2 - side_w // 2, side_h, side_w


def fill_in_windows(
    image: np.ndarray,
    mask: np.ndarray,
    window: int,
    tile: int,
    fill_window: WindowFill,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    *,
    overlap: int = 0,
    whole: Whole | None = None,
) -> np.ndarray:
    """Fill every hole pixel of `image` (uint8 RGB): each region in one pass when `whole` allows it, else in
    `window`² windows around grown tiles of at most `tile`² px that overlap by 2·`overlap` px. Near the border
    the photo is extended by mirroring (the mirrored holes stay holes)."""
    if tile > window:
        raise ValueError(f"a {tile} px tile does not fit a {window} px window")
    core = tile - 2 * overlap
    if overlap < 0 or core < 1:
        raise ValueError(f"an overlap of {overlap} px leaves no core in a {tile} px tile")
    labels, boxes = _regions(mask)
    # Room for any window: a tile's is centred inside the photo; a one-pass window reaches past its region's
    # box by at most half the window or the margin, plus the rounding.
    pad = window + (whole.margin + whole.multiple if whole is not None else 0)
    canvas = _Canvas(image, mask, labels, pad)
    plans: list[tuple[int, tuple[int, int, int, int] | None, list[Tile]]] = []
    for label in range(1, len(boxes)):
        one = _whole_box(boxes[label], whole, window) if whole is not None else None
        plans.append((label, one, [] if one is not None else _region_tiles(labels, boxes[label], label, core)))
    total, done = sum(max(1, len(tiles)) for _, _, tiles in plans), 0
    height, width = mask.shape
    # Distance of each hole pixel to the nearest known pixel (the photo's border is no context).
    depth = cv2.distanceTransform((mask > 0).astype(np.uint8), cv2.DIST_L2, 5)
    for label, one, tiles in plans:
        if one is not None:
            check_cancel(cancel)
            report(progress, done / total, f"filling part {done + 1} of {total}")
            top, left, h, w = one
            filled = canvas.predict(top, left, h, w, None, fill_window)
            canvas.write(top, top + h, left, left + w, label, filled)
            done += 1
            continue
        for t in _border_inward(tiles, depth):
            check_cancel(cancel)
            report(progress, done / total, f"filling part {done + 1} of {total}")
            y0, y1 = max(0, t.y0 - overlap), min(height, t.y1 + overlap)
            x0, x1 = max(0, t.x0 - overlap), min(width, t.x1 + overlap)
            top, left = (t.y0 + t.y1) // 2 - window // 2, (t.x0 + t.x1) // 2 - window // 2
            extra = np.zeros((window, window), bool)
            extra[y0 - top : y1 - top, x0 - left : x1 - left] = (
                canvas.labels[y0 + pad : y1 + pad, x0 + pad : x1 + pad] == label
            )
            filled = canvas.predict(top, left, window, window, extra, fill_window)
            weights = np.outer(
                _ramp(y1 - y0, y0 > 0, y1 < height, overlap), _ramp(x1 - x0, x0 > 0, x1 < width, overlap)
            )
            canvas.write(y0, y1, x0, x1, label, filled[y0 - top : y1 - top, x0 - left : x1 - left], weights)
            done += 1
    report(progress, 1.0, "done")
    return canvas.result()


def _border_inward(tiles: list[Tile], depth: np.ndarray) -> list[Tile]:
    """Tiles in rings from the hole's border inward: by how close the core's nearest pixel lies to known
    pixels, so each ring is predicted from real context or the ring before it."""
    return sorted(tiles, key=lambda t: float(depth[t.y0 : t.y1, t.x0 : t.x1].min()))
