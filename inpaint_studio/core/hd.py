"""High-resolution strategy: how a fill that is slow (or trained) at ~512² is applied to a large photo.

- ORIGINAL: fill the whole image as it is.
- RESIZE: shrink so the long side is at most `resize_limit` (INTER_AREA), fill, enlarge the result
  (INTER_CUBIC) and paste back only the hole pixels at full resolution.
- CROP: fill a crop (hole bounding box + `crop_margin`) around each hole region; crops that overlap or touch
  are merged until none do, so every hole pixel belongs to exactly one crop and no crop overwrites another's
  fill. A crop still above `resize_limit` is itself resized. Only hole pixels are pasted back.
- AUTO (the rule): ORIGINAL when the long side is at most `resize_limit`; otherwise CROP when the long side
  is above `crop_trigger` and the planned crops cover at most `crop_max_fraction` of the image area
  (cost then follows the hole, not the photo); RESIZE otherwise.

Whatever the strategy, the result is bit-identical to the input wherever mask == 0, and the user's image is
never cropped or resized: only copies are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np

from inpaint_studio.core.masks import Box, composite, region_boxes
from inpaint_studio.core.progress import CancelFn, ProgressFn, check_cancel, report, sub_progress

# (image, hole, edges or None, progress or None) -> filled image of the same shape; the array conventions
# of the engine. Only the hole pixels of what it returns are used.
FillFn = Callable[[np.ndarray, np.ndarray, np.ndarray | None, ProgressFn | None], np.ndarray]


class HDStrategy(str, Enum):
    ORIGINAL = "original"
    RESIZE = "resize"
    CROP = "crop"
    AUTO = "auto"


@dataclass(frozen=True)
class HDConfig:
    strategy: HDStrategy = HDStrategy.AUTO
    resize_limit: int = 1024  # long side the fill sees at most (RESIZE, and crops above it)
    crop_margin: int = 128  # context around each hole region for CROP
    crop_trigger: int = 1024  # AUTO considers CROP only when the long side is above this
    crop_max_fraction: float = 0.25  # AUTO picks CROP only when the crops cover at most this much area


# --- small helpers -------------------------------------------------------------------------------


def pad_to_multiple(arr: np.ndarray, multiple: int, minimum: int = 0) -> tuple[np.ndarray, tuple[int, int]]:
    """Reflection-pad the bottom and right so H and W are multiples of `multiple` (H×W or H×W×C), and at
    least `minimum` (a network whose deepest layers pad by reflection needs a few pixels there).

    Returns the padded array and the original (h, w) for `crop_to`. numpy's reflect mode repeats the
    reflection when the pad is larger than the image; a 1-pixel side cannot be reflected, so it is
    edge-padded instead.
    """
    if multiple < 1:
        raise ValueError(f"multiple must be at least 1, got {multiple}")
    h, w = arr.shape[:2]
    th, tw = max(h, minimum), max(w, minimum)
    ph, pw = th - h + (-th) % multiple, tw - w + (-tw) % multiple
    if ph == 0 and pw == 0:
        return arr.copy(), (h, w)
    pad = [(0, ph), (0, pw)] + [(0, 0)] * (arr.ndim - 2)
    mode = "reflect" if min(h, w) > 1 else "edge"
    return np.ascontiguousarray(np.pad(arr, pad, mode=mode)), (h, w)


def crop_to(arr: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Undo `pad_to_multiple`: the top-left (h, w) of `arr` as a new C-contiguous array."""
    h, w = hw
    return np.ascontiguousarray(arr[:h, :w])


def _overlap_or_touch(a: Box, b: Box) -> bool:
    # Boxes are half-open; sharing an edge (a.x1 == b.x0) counts as touching.
    return a.x0 <= b.x1 and b.x0 <= a.x1 and a.y0 <= b.y1 and b.y0 <= a.y1


def merge_boxes(boxes: list[Box]) -> list[Box]:
    """Replace overlapping or touching boxes by their bounding box, repeatedly, until no two do."""
    merged = list(boxes)
    changed = True
    while changed:
        changed = False
        out: list[Box] = []
        for box in merged:
            for i, other in enumerate(out):
                if _overlap_or_touch(box, other):
                    out[i] = Box(min(box.x0, other.x0), min(box.y0, other.y0), max(box.x1, other.x1), max(box.y1, other.y1))
                    changed = True
                    break
            else:
                out.append(box)
        merged = out
    return sorted(merged, key=lambda b: (b.y0, b.x0))


def plan_crops(mask: np.ndarray, margin: int) -> list[Box]:
    """One crop per hole region (bounding box + `margin`, clipped to the image), merged so none overlap.

    Regions follow masks.py's rule (> 127 is hole)."""
    h, w = mask.shape[:2]
    grown = [
        Box(max(b.x0 - margin, 0), max(b.y0 - margin, 0), min(b.x1 + margin, w), min(b.y1 + margin, h))
        for b in region_boxes(mask)
    ]
    return merge_boxes(grown)


def _shrink_binary(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Downscale a 0/255 map keeping every pixel that covers any set pixel, so thin holes and thin edge
    lines survive (nearest-neighbour would drop most of a 1-px stroke)."""
    small = cv2.resize(np.where(arr > 0, 255, 0).astype(np.uint8), size, interpolation=cv2.INTER_AREA)
    return np.where(small > 0, 255, 0).astype(np.uint8)


def fill_resized(
    image: np.ndarray,
    hole: np.ndarray,
    fill: FillFn,
    edges: np.ndarray | None,
    limit: int,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """Fill at most `limit` on the long side; the return value is full size, meaningful only in the hole."""
    h, w = hole.shape
    scale = limit / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small_image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    small_mask = _shrink_binary(hole, size)
    small_edges = _shrink_binary(edges, size) if edges is not None else None
    small_out = _call_fill(fill, small_image, small_mask, small_edges, progress)
    # The shrunk copy is completed (its known pixels kept) before it is enlarged: near the hole's edge the
    # enlarged pixels blend known and filled ones, as a fill at that size would look.
    return cv2.resize(composite(small_image, small_out, small_mask), (w, h), interpolation=cv2.INTER_CUBIC)


def _call_fill(
    fill: FillFn, image: np.ndarray, hole: np.ndarray, edges: np.ndarray | None, progress: ProgressFn | None
) -> np.ndarray:
    out = fill(np.ascontiguousarray(image), np.ascontiguousarray(hole), edges, progress)
    if not isinstance(out, np.ndarray) or out.shape != image.shape or out.dtype != np.uint8:
        got = f"{out.dtype} {out.shape}" if isinstance(out, np.ndarray) else type(out).__name__
        raise ValueError(f"fill returned {got}, expected uint8 {image.shape}")
    return out


def _fill_region(
    image: np.ndarray,
    hole: np.ndarray,
    fill: FillFn,
    edges: np.ndarray | None,
    limit: int,
    progress: ProgressFn | None,
) -> np.ndarray:
    if max(hole.shape) > limit:
        return fill_resized(image, hole, fill, edges, limit, progress)
    return _call_fill(fill, image, hole, edges, progress)


def shrink_image(image: np.ndarray, limit: int) -> np.ndarray:
    """A copy with the long side at most `limit` (INTER_AREA), or the image itself when it is that small."""
    h, w = image.shape[:2]
    if max(h, w) <= limit:
        return image
    scale = limit / max(h, w)
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def enlarge_hole(hole: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """A hole found on a shrunk copy, at the photo's (h, w): every pixel that any hole pixel covers once
    enlarged, so a thin scratch found at a quarter of the size still covers the scratch at full size."""
    if hole.shape == hw:
        return hole
    big = cv2.resize(np.where(hole > 0, 255, 0).astype(np.uint8), (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR)
    return np.where(big > 0, 255, 0).astype(np.uint8)


def _resolve(hole: np.ndarray, config: HDConfig) -> tuple[HDStrategy, list[Box] | None]:
    """The strategy to run and, when it is CROP, its crops (planned once: on 12 MP this costs ~0.3 s)."""
    strategy = HDStrategy(config.strategy)
    margin = max(int(config.crop_margin), 0)
    if strategy is HDStrategy.CROP:
        return strategy, plan_crops(hole, margin)
    if strategy is not HDStrategy.AUTO:
        return strategy, None
    h, w = hole.shape[:2]
    long_side = max(h, w)
    if long_side <= config.resize_limit:
        return HDStrategy.ORIGINAL, None
    if long_side > config.crop_trigger:
        boxes = plan_crops(hole, margin)
        if sum(b.width * b.height for b in boxes) <= config.crop_max_fraction * h * w:
            return HDStrategy.CROP, boxes
    return HDStrategy.RESIZE, None


def choose_strategy(mask: np.ndarray, config: HDConfig) -> HDStrategy:
    """Resolve AUTO by the rule in the module docstring; other strategies are returned as they are."""
    return _resolve(mask, config)[0]


def apply_hd_strategy(
    image: np.ndarray,
    hole: np.ndarray,
    fill: FillFn,
    edges: np.ndarray | None = None,
    config: HDConfig | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> np.ndarray:
    """Fill `hole` of `image` with `fill` under `config`'s strategy and paste the fill back once.

    The caller (the engine's pipeline) hands checked arrays: RGB uint8, a binary 0/255 hole that is not
    empty, edges of the same size or None. Only hole pixels change. `cancel` is checked before the work
    and between crops (raises `Cancelled`); each crop reports its share of `progress`, and `fill` gets a
    callback for its own part.
    """
    config = config if config is not None else HDConfig()
    check_cancel(cancel)
    strategy, boxes = _resolve(hole, config)
    limit = max(int(config.resize_limit), 1)

    if boxes is not None:
        # Every crop's fill goes onto one canvas (crops never overlap), pasted back once below.
        filled = image.copy()
        for i, b in enumerate(boxes):
            check_cancel(cancel)
            report(progress, i / len(boxes), f"crop {i + 1}/{len(boxes)}")
            sl = b.slices()
            crop_edges = edges[sl] if edges is not None else None
            step = sub_progress(progress, i / len(boxes), (i + 1) / len(boxes))
            filled[sl] = _fill_region(image[sl], hole[sl], fill, crop_edges, limit, step)
    else:
        report(progress, 0.0, strategy.value)
        if strategy is HDStrategy.RESIZE and max(hole.shape) > limit:
            filled = fill_resized(image, hole, fill, edges, limit, progress)
        else:
            filled = _call_fill(fill, image, hole, edges, progress)
    check_cancel(cancel)
    out = composite(image, filled, hole)
    report(progress, 1.0, "done")
    return out
