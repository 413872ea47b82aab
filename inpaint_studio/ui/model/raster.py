"""Rasterising brush dabs, capsules (a dab dragged along a segment), rectangles and lassos into a layer.

Geometry convention shared with the tests: pixel (x, y) covers [x, x+1) × [y, y+1) in scene coordinates and
is inside a brush of radius r centred on the segment p0→p1 when its centre (x+0.5, y+0.5) lies within r of
the segment. Hardness < 1 adds a linear fall-off from r·hardness to r (a soft brush)."""

from __future__ import annotations

import numpy as np

from inpaint_studio.core.masks import Box

EMPTY = Box(0, 0, 0, 0)


def clip_box(box: Box, shape: tuple[int, ...]) -> Box:
    h, w = shape[:2]
    return Box(max(box.x0, 0), max(box.y0, 0), min(box.x1, w), min(box.y1, h))


def segment_box(p0: tuple[float, float], p1: tuple[float, float], radius: float, shape: tuple[int, ...]) -> Box:
    x0 = int(np.floor(min(p0[0], p1[0]) - radius - 1))
    y0 = int(np.floor(min(p0[1], p1[1]) - radius - 1))
    x1 = int(np.ceil(max(p0[0], p1[0]) + radius + 1))
    y1 = int(np.ceil(max(p0[1], p1[1]) + radius + 1))
    return clip_box(Box(x0, y0, x1, y1), shape)


def capsule_coverage(
    p0: tuple[float, float], p1: tuple[float, float], radius: float, hardness: float, box: Box
) -> np.ndarray:
    """uint8 coverage (0–255) of the capsule over `box`; only the box is computed, so a dab costs its size."""
    ys = np.arange(box.y0, box.y1, dtype=np.float64)[:, None] + 0.5
    xs = np.arange(box.x0, box.x1, dtype=np.float64)[None, :] + 0.5
    ax, ay = p0
    dx, dy = p1[0] - ax, p1[1] - ay
    length2 = dx * dx + dy * dy
    t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length2, 0.0, 1.0) if length2 > 0 else np.zeros((1, 1))
    dist = np.hypot(xs - (ax + t * dx), ys - (ay + t * dy))
    hardness = float(np.clip(hardness, 0.0, 1.0))
    if hardness >= 1.0:
        return np.where(dist <= radius, 255, 0).astype(np.uint8)
    inner = radius * hardness
    ramp = np.clip((radius - dist) / max(radius - inner, 1e-6), 0.0, 1.0)
    return np.round(ramp * 255).astype(np.uint8)


def stamp_segment(
    layer: np.ndarray,
    p0: tuple[float, float],
    p1: tuple[float, float],
    radius: float,
    *,
    hardness: float = 1.0,
    erase: bool = False,
) -> Box:
    """Paint (or erase) a capsule into `layer` in place; returns the rectangle that may have changed."""
    box = segment_box(p0, p1, radius, layer.shape)
    if box.empty:
        return EMPTY
    cover = capsule_coverage(p0, p1, radius, hardness, box)
    region = layer[box.slices()]
    if erase:
        np.minimum(region, 255 - cover, out=region)
    else:
        np.maximum(region, cover, out=region)
    return box


def fill_rect(layer: np.ndarray, corner0: tuple[float, float], corner1: tuple[float, float], *, erase: bool = False) -> Box:
    """Fill the pixels whose centres lie inside the rectangle spanned by two scene points."""
    xa, xb = sorted((corner0[0], corner1[0]))
    ya, yb = sorted((corner0[1], corner1[1]))
    # pixel x is inside when xa <= x + 0.5 <= xb
    box = clip_box(
        Box(int(np.ceil(xa - 0.5)), int(np.ceil(ya - 0.5)), int(np.floor(xb - 0.5)) + 1, int(np.floor(yb - 0.5)) + 1),
        layer.shape,
    )
    if box.empty:
        return EMPTY
    layer[box.slices()] = 0 if erase else 255
    return box


def fill_polygon(layer: np.ndarray, points: list[tuple[float, float]], *, erase: bool = False) -> Box:
    """Fill a lasso polygon in place: pixels whose centres are inside (even-odd rule, scanline per row)."""
    if len(points) < 3:
        return EMPTY
    pts = np.asarray(points, dtype=np.float64)
    box = clip_box(
        Box(int(np.floor(pts[:, 0].min())), int(np.floor(pts[:, 1].min())), int(np.ceil(pts[:, 0].max())) + 1,
            int(np.ceil(pts[:, 1].max())) + 1),
        layer.shape,
    )
    if box.empty:
        return EMPTY
    a, b = pts, np.roll(pts, -1, axis=0)
    ys = np.arange(box.y0, box.y1, dtype=np.float64)[:, None] + 0.5
    # Half-open rule on y so a vertex exactly on a scanline is counted once.
    crosses = (a[:, 1] <= ys) != (b[:, 1] <= ys)
    dy = np.where(b[:, 1] == a[:, 1], 1.0, b[:, 1] - a[:, 1])
    xs_cross = a[:, 0] + (ys - a[:, 1]) * (b[:, 0] - a[:, 0]) / dy
    xs = np.arange(box.x0, box.x1, dtype=np.float64) + 0.5
    value = 0 if erase else 255
    for row in range(box.y1 - box.y0):
        hits = np.sort(xs_cross[row][crosses[row]])
        if hits.size < 2:
            continue
        # A centre is inside when an odd number of crossings lie to its left.
        inside = (np.searchsorted(hits, xs, side="right") % 2) == 1
        layer[box.y0 + row, box.x0 : box.x1][inside] = value
    return box


def changed_box(before: np.ndarray, after: np.ndarray) -> Box:
    """Bounding box of the pixels that differ (EMPTY when identical)."""
    diff = before != after
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return EMPTY
    cols = np.flatnonzero(diff.any(axis=0))
    return Box(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
