"""Sketched edges split a hole into regions, and each region takes its texture from its own side of the edges.

This is what makes "draw an outline through the hole" work without learned weights: a fill restricted to the
known pixels on one side of a drawn line cannot smear the sky into the roof. The engine's `edge_guided` method
runs a fill per region with the other side excluded (`sources_for`).

- Regions: the hole minus the drawn edge pixels, 4-connected (so a 1-px diagonal line is a real barrier). A line
  that stops inside the hole is continued straight along the direction it ends in, to the hole's border or the
  next line (`extend_open_ends`), for the split only: otherwise its two sides meet round its end and become one
  region (on the validation photos' own Canny edges, 32 % of the edge pixels in a hole lay between two regions;
  with the ends continued, 98 %).
- Sides: every known pixel belongs to the side of the hole region nearest to it (a Voronoi partition of the
  known image by region), so a line that ends at the hole's border is, in effect, continued outward.
- The edge pixels themselves are filled last, from the regions around them: the drawn line becomes the
  boundary between two fills. `copy_edge_profiles` then gives the band along each drawn line the photo's own
  cross-section of a line that runs the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inpaint_studio.core.masks import is_hole


@dataclass(frozen=True)
class EdgeSplit:
    labels: np.ndarray  # int32 H×W: 1..count for hole regions, 0 elsewhere (known pixels and edge pixels)
    count: int
    side: np.ndarray  # int32 H×W: for every pixel, the label of the nearest hole region (0 when there is none)
    edge_pixels: np.ndarray  # bool H×W: drawn edge pixels inside the hole (filled after the regions)


_NEIGHBOURS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
TRACE_BACK = 6  # px walked back along a line from its open end to estimate the direction it ends in


def _trace_back(drawn: np.ndarray, y: int, x: int) -> list[tuple[int, int]]:
    """The line's pixels from its end (y, x) walking back along it, at most TRACE_BACK + 1."""
    h, w = drawn.shape
    path = [(y, x)]
    seen = {(y, x)}
    while len(path) <= TRACE_BACK:
        cy, cx = path[-1]
        step = next(((cy + dy, cx + dx) for dy, dx in _NEIGHBOURS
                     if 0 <= cy + dy < h and 0 <= cx + dx < w and drawn[cy + dy, cx + dx] and (cy + dy, cx + dx) not in seen),
                    None)
        if step is None:
            break
        path.append(step)
        seen.add(step)
    return path


def _adjacent_pair(drawn: np.ndarray, y: int, x: int) -> bool:
    """True when the two line pixels around (y, x) touch each other: (y, x) is the corner at a line's end."""
    h, w = drawn.shape
    found = [(y + dy, x + dx) for dy, dx in _NEIGHBOURS if 0 <= y + dy < h and 0 <= x + dx < w and drawn[y + dy, x + dx]]
    (ay, ax), (by, bx) = found
    return max(abs(ay - by), abs(ax - bx)) == 1


def extend_open_ends(hole: np.ndarray, drawn: np.ndarray, max_length: int) -> np.ndarray:
    """bool H×W: the drawn lines (`drawn`, bool, inside and outside the hole) continued from every end that stops
    inside the hole, straight along the direction they end in, until they reach a known pixel, another line or
    `max_length` px. Only for the region split: a line that stops halfway through the hole still separates it."""
    added = np.zeros_like(hole)
    if max_length <= 0:
        return added
    h, w = hole.shape
    padded = np.pad(drawn, 1).astype(np.uint8)
    neighbours = sum(padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in _NEIGHBOURS)
    for y, x in zip(*np.nonzero(drawn & hole & (neighbours <= 2)), strict=True):
        if neighbours[y, x] == 2 and not _adjacent_pair(drawn, int(y), int(x)):
            continue  # a pixel in the middle of a line, not an end
        path = _trace_back(drawn, int(y), int(x))
        if len(path) < 3:
            continue  # a dot or a two-pixel stub has no direction worth following
        dy, dx = y - path[-1][0], x - path[-1][1]
        norm = float(np.hypot(dy, dx))
        own = set(path)
        end = (int(y), int(x))
        for t in range(1, max_length + 1):
            py, px = round(y + dy * t / norm), round(x + dx * t / norm)
            if not (0 <= py < h and 0 <= px < w) or not hole[py, px]:
                break
            end = (py, px)
            window = drawn[max(py - 1, 0) : py + 2, max(px - 1, 0) : px + 2] | added[max(py - 1, 0) : py + 2, max(px - 1, 0) : px + 2]
            ys, xs = np.nonzero(window)
            if any((max(py - 1, 0) + a, max(px - 1, 0) + b) not in own for a, b in zip(ys, xs, strict=True)) and t > 1:
                break  # met another line
        line = np.zeros((h, w), np.uint8)
        cv2.line(line, (int(x), int(y)), (end[1], end[0]), 1, 1, cv2.LINE_8)
        added |= (line > 0) & hole & ~drawn
    return added


def split_by_edges(mask: np.ndarray, edges: np.ndarray | None, extend: int = 0) -> EdgeSplit:
    """Split the hole (mask > 127) by the drawn edges (edges > 127) inside it; with `extend` > 0 an edge that stops
    inside the hole is continued up to `extend` px for the split (`extend_open_ends`)."""
    hole = is_hole(mask)
    barrier = hole & (edges > 127) if edges is not None else np.zeros_like(hole)
    if edges is not None and extend > 0:
        barrier |= extend_open_ends(hole, edges > 127, extend)
    open_hole = (hole & ~barrier).astype(np.uint8)
    count, labels = cv2.connectedComponents(open_hole, connectivity=4)
    labels = labels.astype(np.int32)
    count -= 1
    if count == 0:
        return EdgeSplit(labels, 0, np.zeros_like(labels), barrier)
    # distanceTransformWithLabels labels each zero pixel of its input; every pixel gets the label of the nearest.
    _, nearest = cv2.distanceTransformWithLabels(
        (labels == 0).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    zero_ys, zero_xs = np.nonzero(labels != 0)  # the order in which distanceTransformWithLabels numbers them
    lookup = np.zeros(len(zero_ys) + 1, np.int32)
    lookup[1:] = labels[zero_ys, zero_xs]
    side = lookup[nearest]
    return EdgeSplit(labels, count, side, barrier)


def sources_for(split: EdgeSplit, region: int, mask: np.ndarray) -> np.ndarray:
    """bool H×W of the pixels that must neither be filled nor copied from when filling `region`: the known
    pixels of every other side, and every other hole pixel."""
    hole = is_hole(mask)
    other_side = (split.side != region) & ~hole
    other_holes = hole & (split.labels != region)
    return other_side | other_holes


def line_orientation(drawn: np.ndarray) -> np.ndarray:
    """float32 H×W: the direction (radians, modulo π) across the drawn lines near each pixel, from the structure
    tensor of the blurred line map; the same measure for lines inside and outside the hole."""
    lines = cv2.GaussianBlur(drawn.astype(np.float32), (0, 0), 1.5)
    gx, gy = cv2.Sobel(lines, cv2.CV_32F, 1, 0), cv2.Sobel(lines, cv2.CV_32F, 0, 1)
    jxx, jyy, jxy = (cv2.GaussianBlur(a, (0, 0), 1.5) for a in (gx * gx, gy * gy, gx * gy))
    return 0.5 * np.arctan2(2 * jxy, jxx - jyy)


def _angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = np.abs(a - b) % np.pi
    return np.minimum(d, np.pi - d)


PROFILE_MAX_ANGLE = np.deg2rad(20)  # a source line must run within this of the drawn line's direction
PROFILE_DISTANCE_COST = 1.0  # grey levels² per px: among equally fitting sources, the nearer one
PROFILE_REACH = 64  # px around the hole where source lines are looked for (farther ones rarely win on distance)
PROFILE_MAX_SOURCES = 20_000  # the nearest ones, on a large photo with many lines (time and memory stay bounded)
PROFILE_CELLS = 2_000_000  # drawn pixels × sources scored at once


def copy_edge_profiles(
    filled: np.ndarray, hole: np.ndarray, drawn: np.ndarray, photo_lines: np.ndarray, radius: int
) -> np.ndarray:
    """The band of `radius` px around every drawn line pixel in the hole copied from a known patch centred on a
    line of the photo (`photo_lines`, bool: e.g. Canny of the known region) that runs the same way and best
    matches the fills on both sides (structure propagation, as in Sun et al. 2005): the line gets the photo's own
    cross-section (its shading, its soft or hard step), so it shows where a plain meeting of two fills would have
    no contrast."""
    k = 2 * radius + 1
    fully_known = cv2.erode((~hole).astype(np.uint8), np.ones((k, k), np.uint8), borderType=cv2.BORDER_CONSTANT,
                            borderValue=0) > 0
    distance = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 3)
    sources, targets = photo_lines & fully_known & (distance <= PROFILE_REACH), drawn & hole
    if radius <= 0 or not sources.any() or not targets.any():
        return filled
    if np.count_nonzero(sources) > PROFILE_MAX_SOURCES:
        sources &= distance <= np.partition(distance[sources], PROFILE_MAX_SOURCES - 1)[PROFILE_MAX_SOURCES - 1]
    theta = line_orientation((drawn & hole) | (photo_lines & ~hole))
    offsets = np.arange(-radius, radius + 1)
    padded = np.pad(filled.astype(np.float32), ((radius, radius), (radius, radius), (0, 0)), mode="edge")

    def patches(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        return padded[ys[:, None, None] + radius + offsets[None, :, None],
                      xs[:, None, None] + radius + offsets[None, None, :]].reshape(len(ys), -1)

    sy, sx = np.nonzero(sources)
    ty, tx = np.nonzero(targets)
    source_patches = patches(sy, sx)
    source_norms = (source_patches**2).sum(1)
    chosen = np.empty(len(ty), np.int64)
    chunk = max(1, PROFILE_CELLS // len(sy))
    for start in range(0, len(ty), chunk):
        part = slice(start, start + chunk)
        t = patches(ty[part], tx[part])
        cost = ((t**2).sum(1)[:, None] + source_norms[None, :] - 2 * t @ source_patches.T) / t.shape[1]
        cost += PROFILE_DISTANCE_COST * np.hypot(ty[part, None] - sy[None, :], tx[part, None] - sx[None, :])
        cost[_angle_between(theta[ty[part], tx[part]][:, None], theta[sy, sx][None, :]) > PROFILE_MAX_ANGLE] = np.inf
        chosen[part] = np.where(np.isfinite(cost.min(axis=1)), np.argmin(cost, axis=1), -1)  # -1: no source
    # Every hole pixel within `radius` of a drawn pixel takes the chosen patch's pixel at the same offset.
    _, nearest = cv2.distanceTransformWithLabels((~targets).astype(np.uint8), cv2.DIST_L2, 5,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    order = np.zeros(len(ty) + 1, np.int64)
    order[1:] = np.arange(len(ty))  # distanceTransformWithLabels numbers the zero pixels in row-major order
    which = order[nearest]
    ys, xs = np.nonzero(hole)
    t = which[ys, xs]
    dy, dx = ys - ty[t], xs - tx[t]
    near = (np.abs(dy) <= radius) & (np.abs(dx) <= radius) & (chosen[t] >= 0)
    out = filled.copy()
    src = chosen[t[near]]
    out[ys[near], xs[near]] = filled[sy[src] + dy[near], sx[src] + dx[near]]
    return out
