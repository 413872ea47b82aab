"""Found thin marks that run along an edge of the photo are the photo's own rims, not scratches.

A scratch or hairline lies on the photo: on either side of it is the same surface (it crosses edges now and
then, but most of its length lies between two sides that match). The thin bright rim of a lit petal or the
dark outline of a leaf lies *between* two different surfaces. Filling it smears one side into the other (on
a validation photo a found petal rim cost 4–5 dB however the photo was otherwise damaged), so a found mark
whose two sides differ along most of its length is left alone.

For each pixel of a mark the narrowest of four directions across it (horizontal, vertical, both diagonals)
is taken as its normal; the colours a little beyond each end of that run are compared (largest channel
difference of the lightly blurred photo). A mark is kept when the median over its pixels is at most the
limit, or when it is too small to be a line (a dust speck has no length to run along an edge, and dropping
specks on busy photos cost dust 3.5 dB). Measured in models/blind_generalisation.md.
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_studio.core.masks import region_statistic

_DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))  # (dy, dx) of a normal to try
_REACH = 8  # px: marks wider than about twice this have no measured normal (and are no hairline)
_GAP = 2  # px sampled beyond the mark's end: clear of its anti-aliased rim


def _shifted(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """b[y, x] = a[y + dy, x + dx] (zero / False outside)."""
    h, w = a.shape[:2]
    out = np.zeros_like(a)
    src_y = slice(max(dy, 0), h + min(dy, 0))
    dst_y = slice(max(-dy, 0), h + min(-dy, 0))
    src_x = slice(max(dx, 0), w + min(dx, 0))
    dst_x = slice(max(-dx, 0), w + min(-dx, 0))
    out[dst_y, dst_x] = a[src_y, src_x]
    return out


def side_difference(image: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """Per pixel of `marks` (bool or uint8 H×W), the colour difference (grey levels, largest channel) between
    the photo just beyond either side of the mark across its narrowest direction; 0 elsewhere (float32)."""
    mark = marks > 0
    photo = cv2.GaussianBlur(image.astype(np.float32), (0, 0), 1.0)
    narrowest = np.full(mark.shape, np.inf, np.float32)
    difference = np.zeros(mark.shape, np.float32)
    for dy, dx in _DIRECTIONS:
        ends = []
        for sign in (1, -1):
            # run length of the mark from each pixel in this direction, and the colour just past its end
            run = np.zeros(mark.shape, np.int32)
            alive = mark.copy()
            for k in range(1, _REACH + 1):
                alive &= _shifted(mark, sign * k * dy, sign * k * dx)
                run += alive
            beyond = np.zeros_like(photo)
            for r in range(_REACH + 1):
                k = r + _GAP + 1
                here = (run == r)[..., None]
                beyond = np.where(here, _shifted(photo, sign * k * dy, sign * k * dx), beyond)
            ends.append((run, beyond))
        width = (ends[0][0] + ends[1][0]).astype(np.float32) * float(np.hypot(dy, dx))
        diff = np.abs(ends[0][1] - ends[1][1]).max(axis=2)
        better = mark & (width < narrowest)
        narrowest = np.where(better, width, narrowest)
        difference = np.where(better, diff, difference)
    return difference


def marks_off_edges(image: np.ndarray, marks: np.ndarray, limit: float, min_area: float = 0) -> np.ndarray:
    """`marks` (uint8 H×W, 255 = found) without the marks of at least `min_area` pixels whose two sides differ
    by more than `limit` grey levels along most of their length (the median over the mark's pixels)."""
    found = marks > 0
    if not found.any():
        return marks
    difference = side_difference(image, found)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(found.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] < min_area
    keep[1:] |= region_statistic(labels, count, difference, 50) <= limit
    return np.where(keep[labels] & found, marks, np.uint8(0)).astype(np.uint8)
