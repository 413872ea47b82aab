"""The fill pipeline: the one place where a fill's inputs are checked, the mask thresholded, empty masks
short-cut, the high-resolution strategy and the method's working size applied, and the fill pasted back.

`ModelManager.run` and `InpaintMethod.inpaint` both come here; a method only fills the arrays it is handed
(`fill_hole`: RGB uint8, a binary non-empty hole, at the size it runs at) and, when blind, finds its hole
(`blind_hole`). Blind runs follow the same strategy: on a photo above the strategy's `resize_limit` the
damage is looked for on a copy shrunk to it (unless the strategy is ORIGINAL), and the hole found is
filled like a painted one (crops around it, or a resize), at the photo's own resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from inpaint_studio.core.errors import InpaintStudioError, MaskError
from inpaint_studio.core.hd import (
    FillFn,
    HDConfig,
    HDStrategy,
    apply_hd_strategy,
    enlarge_hole,
    fill_resized,
    shrink_image,
)
from inpaint_studio.core.masks import binary, check_fillable, check_mask
from inpaint_studio.core.progress import CancelFn, ProgressFn, check_cancel, report, sub_progress
from inpaint_studio.engine.base import InpaintMethod

# Share of a blind run's progress that finding the damage takes (the fill takes the rest).
_FIND_SHARE = 0.3


def validate_image(image: Any) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise InpaintStudioError(f"image must be RGB uint8 H×W×3, got {got}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise InpaintStudioError("image is empty (0 pixels)")
    return np.ascontiguousarray(image)


def validate_edges(edges: Any, image: np.ndarray) -> np.ndarray:
    if not isinstance(edges, np.ndarray) or edges.dtype != np.uint8 or edges.shape != image.shape[:2]:
        got = f"{edges.dtype} {edges.shape}" if isinstance(edges, np.ndarray) else type(edges).__name__
        raise MaskError(f"edge map must be uint8 {image.shape[1]}×{image.shape[0]} like the image, got {got}")
    return edges


def validate_stains(stains: Any, image: np.ndarray) -> np.ndarray:
    if not isinstance(stains, np.ndarray) or stains.dtype != np.uint8 or stains.shape != image.shape[:2]:
        got = f"{stains.dtype} {stains.shape}" if isinstance(stains, np.ndarray) else type(stains).__name__
        raise MaskError(f"stain map must be uint8 {image.shape[1]}×{image.shape[0]} like the image, got {got}")
    return stains


def prepare_mask(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The user's mask checked against the image and thresholded by core.masks' one rule (> 127 is hole),
    so a soft mask's faint pixels are neither filled nor pasted back."""
    check_mask(image, mask)
    hole = binary(mask)
    check_fillable(hole)
    return hole


def run_fill(method: InpaintMethod, image: np.ndarray, mask: np.ndarray | None, edges: np.ndarray | None = None,
             progress: ProgressFn | None = None, cancel: CancelFn | None = None, *,
             hd_config: HDConfig | None = None, load: Callable[[], object] | None = None,
             stains: np.ndarray | None = None) -> np.ndarray:
    """Fill `mask`'s hole in `image` with `method` (mask None: a blind method finds the hole); pixels
    outside the hole come back bit-identical — except, with `stains` (uint8 H×W strength of translucent
    damage, the Auto mask's amber part), where the tint of those stains is removed first (`core.tint`: only
    a tint it trusts), as a blind run removes the tint of what it finds. `load` loads the method's weights when
    needed (the manager's fallback-aware loader; default: `method.load()`), after the checks and never for an
    empty mask."""
    image = validate_image(image)
    caps = method.capabilities
    if mask is None and not caps.blind:
        raise MaskError(f"model '{method.name}' needs a mask: paint the area to fill")
    hole = prepare_mask(image, mask) if mask is not None else None
    edges = validate_edges(edges, image) if edges is not None and caps.accepts_edges else None
    if stains is not None and validate_stains(stains, image).any():
        report(progress, 0.0, "removing the stains' tint")
        image = method.remove_stains(image, stains)
    check_cancel(cancel)
    if hole is not None and not hole.any():
        report(progress, 1.0, "nothing to fill")
        return image.copy()
    if load is not None:
        load()
    elif not method.loaded:
        method.load()
    config = hd_config if hd_config is not None else HDConfig()
    if hole is None:
        image, found = _find_hole(method, image, config, sub_progress(progress, 0.0, _FIND_SHARE), cancel)
        hole = binary(found)
        check_cancel(cancel)
        if not hole.any():
            report(progress, 1.0, "no damage found")
            return image.copy()
        progress = sub_progress(progress, _FIND_SHARE, 1.0)
    return apply_hd_strategy(image, hole, _fill_fn(method, cancel), edges, config, progress, cancel)


def _find_hole(
    method: InpaintMethod, image: np.ndarray, config: HDConfig, progress: ProgressFn | None, cancel: CancelFn | None
) -> tuple[np.ndarray, np.ndarray]:
    """A blind method's photo to fill and its hole, at full size; above the strategy's limit the hole is
    looked for on a copy shrunk to it, as a fill would run there."""
    image = method.blind_input(image, progress, cancel)
    check_cancel(cancel)
    limit = max(int(config.resize_limit), 1)
    if HDStrategy(config.strategy) is HDStrategy.ORIGINAL or max(image.shape[:2]) <= limit:
        return image, method.blind_hole(image, progress, cancel)
    return image, enlarge_hole(method.blind_hole(shrink_image(image, limit), progress, cancel), image.shape[:2])


def _fill_fn(method: InpaintMethod, cancel: CancelFn | None) -> FillFn:
    """The fill the strategy calls per crop (or on the shrunk copy): the method's, at its working size."""
    size = int(method.working_size or 0)

    def at_size(image: np.ndarray, hole: np.ndarray, edges: np.ndarray | None, progress: ProgressFn | None) -> np.ndarray:
        return method.fill_hole(image, hole, edges, progress, cancel)

    def fill(image: np.ndarray, hole: np.ndarray, edges: np.ndarray | None, progress: ProgressFn | None) -> np.ndarray:
        finishing = method.finishes_fill
        first = sub_progress(progress, 0.0, 0.8) if finishing else progress
        if size and max(image.shape[:2]) > size:
            report(progress, 0.0, f"running {method.name} at {size} px")
            filled = fill_resized(image, hole, at_size, edges, size, first)
        else:
            filled = at_size(image, hole, edges, first)
        if not finishing:
            return filled
        return method.finish_fill(image, hole, filled, edges, sub_progress(progress, 0.8, 1.0), cancel)

    return fill
