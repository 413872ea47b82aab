"""Hole masks: uint8 H×W, 255 = hole (to fill), 0 = known. Reading them from any image, and editing them.

Binarisation rule used everywhere here: a pixel is a hole when its value is > 127 (so a soft or
anti-aliased mask is read as its 50 % contour).
"""

from __future__ import annotations

import os
from typing import NamedTuple

import cv2
import numpy as np

from inpaint_studio.core.errors import ImageLoadError, MaskError
from inpaint_studio.core.imageio import load_image

HOLE = 255
KNOWN = 0


class Box(NamedTuple):
    """A pixel rectangle; x1 and y1 are exclusive, so `arr[y0:y1, x0:x1]` is the region."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def empty(self) -> bool:
        return self.x1 <= self.x0 or self.y1 <= self.y0

    def union(self, other: Box | None) -> Box:
        """The smallest box holding both (an empty box adds nothing)."""
        if other is None or other.empty:
            return self
        if self.empty:
            return other
        return Box(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))

    def slices(self) -> tuple[slice, slice]:
        """`arr[box.slices()]` is the region."""
        return slice(self.y0, self.y1), slice(self.x0, self.x1)


def _size(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}×{shape[0]}"


def is_hole(mask: np.ndarray) -> np.ndarray:
    """The one rule, as booleans: a pixel above 127 is hole (a soft brush's half-painted edge is the boundary)."""
    return np.asarray(mask) > 127


def binary(mask: np.ndarray) -> np.ndarray:
    """A copy of `mask` as a strict 0/255 uint8 mask (`is_hole`'s rule)."""
    return _threshold(mask, cv2.THRESH_BINARY)


def composite(image: np.ndarray, filled: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """`filled` inside the (binary) hole, `image` bit-for-bit everywhere else: the one place a fill is pasted
    back into the photo (the engine's pipeline calls it once per run)."""
    out = image.copy()
    inside = is_hole(hole)
    out[inside] = filled[inside]
    return out


def _threshold(mask: np.ndarray, kind: int) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype == np.uint8 and mask.ndim == 2 and mask.size:
        return cv2.threshold(mask, 127, 255, kind)[1]  # several times faster than numpy on big masks
    hole = mask > 127
    return np.where(hole if kind == cv2.THRESH_BINARY else ~hole, np.uint8(HOLE), np.uint8(KNOWN))


# --- reading ---------------------------------------------------------------------------------------


def _as_uint8_scale(arr: np.ndarray) -> np.ndarray:
    """Any numeric/boolean array → float64 in the 0–255 range (bool: 0/255, float 0–1: ×255, uint16: /257)."""
    if arr.dtype == np.bool_:
        return arr.astype(np.float64) * 255.0
    values = arr.astype(np.float64)
    if np.issubdtype(arr.dtype, np.floating):
        finite = values[np.isfinite(values)]
        if finite.size and finite.min() >= 0 and finite.max() <= 1.0:
            values = values * 255.0
        values[~np.isfinite(values)] = 0.0
    elif arr.dtype == np.uint16:
        values = values / 257.0
    return values


def mask_from_array(arr: np.ndarray, threshold: int = 127) -> np.ndarray:
    """Make a hole mask from a grey, grey+alpha, RGB or RGBA array; hole where the value is > threshold.

    - grey (H×W or H×W×1): the grey level.
    - RGB: the brightest channel, so a mask painted in any bright colour on black works.
    - with alpha (H×W×2 / H×W×4): if the colour is the same everywhere (white strokes on a transparent
      layer, or black ones) the alpha alone; otherwise the colour weighted by alpha, so transparent
      pixels are never holes whatever colour they hide.
    """
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)) or arr.size == 0:
        raise MaskError(f"cannot use an array of shape {arr.shape} as a mask (need H×W grey, RGB or RGBA)")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise MaskError(f"cannot use an array of type {arr.dtype} as a mask")
    if arr.dtype == np.uint8 and (arr.ndim == 2 or arr.shape[2] == 3):
        # The common case (a grey or RGB mask file) without a float copy of a 12-megapixel array.
        level8 = arr if arr.ndim == 2 else arr.max(axis=2)
        return np.where(level8 > threshold, np.uint8(HOLE), np.uint8(KNOWN))
    values = _as_uint8_scale(arr)
    if values.ndim == 2:
        level = values
    else:
        channels = values.shape[2]
        colour = values[:, :, : (1 if channels == 2 else 3)]
        if channels in (2, 4):
            alpha = values[:, :, -1]
            constant = bool(np.all(colour == colour.reshape(-1, colour.shape[2])[0]))
            level = alpha if constant else colour.max(axis=2) * (alpha / 255.0)
        else:
            level = colour.max(axis=2)
    return np.where(level > threshold, np.uint8(HOLE), np.uint8(KNOWN))


def load_mask(
    path: str | os.PathLike[str],
    shape: tuple[int, ...] | None = None,
    *,
    resize: bool = False,
    threshold: int = 127,
) -> np.ndarray:
    """Read any image file as a mask (see mask_from_array). `shape` is the image's (H, W[, C]).

    A different size raises MaskError unless `resize=True`, which scales the mask with
    nearest-neighbour (so it stays binary).
    """
    try:
        loaded = load_image(path)
    except ImageLoadError as exc:
        raise MaskError(f"mask: {exc}") from None
    pixels = loaded.rgb if loaded.alpha is None else np.dstack([loaded.rgb, loaded.alpha])
    mask = mask_from_array(pixels, threshold)
    if shape is None or tuple(shape[:2]) == mask.shape:
        return mask
    height, width = int(shape[0]), int(shape[1])
    if not resize:
        # No advice here: how to ask for scaling is the front end's (`--resize-mask` on the command line).
        raise MaskError(f"mask is {_size(mask.shape)} but the image is {width}×{height}")
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)


def check_mask(image: np.ndarray, mask: np.ndarray) -> None:
    """Raise MaskError unless `mask` is a uint8 H×W array matching the image's height and width."""
    if not isinstance(mask, np.ndarray) or mask.ndim != 2:
        raise MaskError(f"a mask must be a single-channel H×W array, got shape {getattr(mask, 'shape', None)}")
    if mask.dtype != np.uint8:
        raise MaskError(f"a mask must be uint8 (0 = known, 255 = hole), got {mask.dtype}")
    if mask.shape != tuple(image.shape[:2]):
        raise MaskError(f"mask is {_size(mask.shape)} but the image is {_size(image.shape)}")


def check_fillable(mask: np.ndarray) -> None:
    """Raise MaskError when a (binary) mask leaves no known pixel: a fill continues what surrounds the hole, and
    with nothing around it every method would return the photo unchanged (classical) or invent a picture
    (learned). A user who whitened the whole mask wants to be told, not handed a copy."""
    if mask.size and bool(mask.all()):
        raise MaskError("the mask covers the whole image, so there is nothing left to fill from: "
                        "paint only the area to remove")


# --- editing ---------------------------------------------------------------------------------------


# Below this radius dilating with the disk kernel is faster; above it the exact distance transform,
# whose cost does not grow with the radius, is. Both give exactly the same pixels.
_KERNEL_MAX_PX = 16


def _disk(px: int) -> np.ndarray:
    """The structuring element: every offset within Euclidean distance `px` (a round ellipse)."""
    ys, xs = np.ogrid[-px : px + 1, -px : px + 1]
    return (xs * xs + ys * ys <= px * px).astype(np.uint8)


def _distance_to_zero(nonzero: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance from each nonzero pixel to the nearest zero pixel of the array."""
    return cv2.distanceTransform(nonzero.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _roi(hole: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    """The holes' bounding box grown by `margin` and clipped to the image (None without holes).

    Masks are mostly empty; editing only this window makes a brush-sized edit on a 12-megapixel
    photo cost what the stroke covers, not the whole frame. Every pixel outside it is farther than
    `margin` from any hole, so the result is identical to working on the whole mask."""
    x, y, w, h = cv2.boundingRect(hole)
    if w == 0 or h == 0:
        return None
    height, width = hole.shape
    return (
        slice(max(y - margin, 0), min(y + h + margin, height)),
        slice(max(x - margin, 0), min(x + w + margin, width)),
    )


def grow_mask(mask: np.ndarray, px: int) -> np.ndarray:
    """Dilate the hole by a disk of radius `px`: a pixel joins the hole if within `px` (Euclidean) of one.

    A round (elliptical) structuring element rather than a square, so grown corners stay round.
    Negative `px` shrinks.
    """
    if px < 0:
        return shrink_mask(mask, -px)
    out = binary(mask)
    roi = _roi(out, px) if px > 0 else None
    if roi is None:
        return out
    part = out[roi]
    if px <= _KERNEL_MAX_PX:
        out[roi] = cv2.dilate(part, _disk(px))
    else:
        out[roi] = np.where(_distance_to_zero(part == 0) <= px, np.uint8(HOLE), np.uint8(KNOWN))
    return out


def shrink_mask(mask: np.ndarray, px: int) -> np.ndarray:
    """Erode the hole by a disk of radius `px`: a hole pixel stays only if no known pixel is within `px`.

    The image border does not count as known, so a hole touching the edge keeps touching it.
    Negative `px` grows.
    """
    if px < 0:
        return grow_mask(mask, -px)
    out = binary(mask)
    roi = _roi(out, px) if px > 0 else None
    if roi is None:
        return out
    part = out[roi]
    if px <= _KERNEL_MAX_PX:
        out[roi] = cv2.erode(part, _disk(px))  # OpenCV's default border counts as hole here
    elif (part == 0).any():
        out[roi] = np.where(_distance_to_zero(part != 0) > px, np.uint8(HOLE), np.uint8(KNOWN))
    return out


def invert_mask(mask: np.ndarray) -> np.ndarray:
    """Holes become known and known becomes hole."""
    return _threshold(mask, cv2.THRESH_BINARY_INV)


def feather_mask(mask: np.ndarray, px: int) -> np.ndarray:
    """A soft uint8 mask: 255 on the whole binary hole, fading to 0 over about `px` pixels outside it.

    Gaussian falloff (sigma = px / 2) applied outward only: the hole itself is never weakened, so a
    feathered composite still replaces every masked pixel.
    """
    hole = binary(mask)
    if px <= 0:
        return hole
    sigma = px / 2.0
    ksize = 2 * int(np.ceil(3 * sigma)) + 1
    roi = _roi(hole, ksize)
    if roi is None:
        return hole
    out = hole.copy()
    part = hole[roi]
    out[roi] = np.maximum(cv2.GaussianBlur(part, (ksize, ksize), sigma, borderType=cv2.BORDER_REFLECT), part)
    return out


def region_boxes(mask: np.ndarray, min_area: int = 1) -> list[Box]:
    """Bounding boxes of the hole's 8-connected regions with at least `min_area` pixels, sorted top to
    bottom, then left to right (by y0, x0)."""
    hole = (np.asarray(mask) > 127).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(hole, connectivity=8)
    boxes = []
    for label in range(1, count):  # 0 is the known background
        x, y, w, h, area = (int(v) for v in stats[label])
        if area >= min_area:
            boxes.append(Box(x, y, x + w, y + h))
    return sorted(boxes, key=lambda b: (b.y0, b.x0, b.y1, b.x1))


def fill_holes(mask: np.ndarray, max_area: int | None = None) -> np.ndarray:
    """The mask (uint8 255/0) with what it encloses made hole too: every known pocket that no path of known
    pixels (4-connected) joins to the border — all of them, or only those of at most `max_area` pixels."""
    hole = np.asarray(mask) > 127
    count, labels, stats, _ = cv2.connectedComponentsWithStats((~hole).astype(np.uint8), connectivity=4)
    if count <= 1:
        return np.where(hole, HOLE, KNOWN).astype(np.uint8)
    x, y, w, h = (stats[:, i] for i in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
    rows, cols = hole.shape
    enclosed = (x > 0) & (y > 0) & (x + w < cols) & (y + h < rows)
    if max_area is not None:
        enclosed &= stats[:, cv2.CC_STAT_AREA] <= max_area
    enclosed[0] = False  # label 0 is the hole itself
    return np.where(hole | enclosed[labels], HOLE, KNOWN).astype(np.uint8)


def hole_ratio(mask: np.ndarray) -> float:
    """Fraction of pixels that are holes (0.0 for an empty array)."""
    mask = np.asarray(mask)
    return float(np.count_nonzero(mask > 127)) / mask.size if mask.size else 0.0


def region_statistic(labels: np.ndarray, count: int, values: np.ndarray, reduce: str | float) -> np.ndarray:
    """One statistic of `values` (H×W) over each labelled region 1 … count − 1 of `labels` (int H×W, 0 = none,
    as `cv2.connectedComponents` gives): "mean", "max", or a percentile (0–100; 50 = the median). Float64,
    row k − 1 for region k; 0 for a region with no pixels."""
    index = labels.ravel()
    inside = index > 0
    k, v = index[inside], values.ravel()[inside].astype(np.float64)
    sizes = np.bincount(k, minlength=count)[1:]
    if reduce == "mean":
        return np.bincount(k, weights=v, minlength=count)[1:] / np.maximum(sizes, 1)
    if reduce == "max":
        out = np.full(count, -np.inf)
        np.maximum.at(out, k, v)
        return np.where(sizes > 0, out[1:], 0.0)
    if isinstance(reduce, str) or not 0 <= reduce <= 100:
        raise ValueError(f"reduce must be 'mean', 'max' or a percentile 0–100, not {reduce!r}")
    order = np.lexsort((v, k))  # by region, then value
    k_sorted, v_sorted = k[order], v[order]
    starts = np.searchsorted(k_sorted, np.arange(1, count))
    ends = np.searchsorted(k_sorted, np.arange(1, count), side="right")
    return np.array([float(np.percentile(v_sorted[s:e], reduce)) if e > s else 0.0
                     for s, e in zip(starts, ends, strict=True)])
