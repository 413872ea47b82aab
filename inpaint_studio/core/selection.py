"""Select an object without any downloaded weights: GrabCut from a box and/or a few clicks, a magic wand,
and snapping a mask's outline to the object's edges. Every function returns an ordinary uint8 mask
(255 = selected) the size of the image, for the user to keep editing.

GrabCut (OpenCV) models the object's and the background's colours with Gaussian mixtures and cuts along
strong edges between them. It runs on a crop around the object, shrunk to at most `work_side` pixels on its
long side, so a click on a 24-megapixel photo costs what a click on a small one does; the cut is scaled back
and smoothed at full resolution."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from inpaint_studio.core.masks import fill_holes, grow_mask, is_hole, shrink_mask

Point = tuple[float, float]  # (x, y) in image pixels
Rect = tuple[float, float, float, float]  # (x0, y0, x1, y1) in image pixels, any corner order

SELECTED = 255
WORK_SIDE = 512  # GrabCut's cost grows with pixels: half a megapixel at most keeps a click under a second
ITERATIONS = 5
WAND_TOLERANCE = 32
PATCH_TOLERANCE = 16  # a click's even-coloured patch
CLICK_REACH = 0.08  # without a box, a click's first guess reaches this fraction of the image's long side


@dataclass
class Prompt:
    """What the user has said about one object so far: an optional box, clicks on it and off it."""

    box: Rect | None = None
    positives: list[Point] = field(default_factory=list)
    negatives: list[Point] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.box is None and not self.positives


def _check_image(image: np.ndarray) -> tuple[int, int]:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be RGB uint8 H×W×3, got {image.dtype} {image.shape}")
    return image.shape[0], image.shape[1]


def _normal_rect(box: Rect, h: int, w: int) -> tuple[int, int, int, int]:
    x0, x1 = sorted((box[0], box[2]))
    y0, y1 = sorted((box[1], box[3]))
    return (int(max(0, np.floor(x0))), int(max(0, np.floor(y0))),
            int(min(w, np.ceil(x1))), int(min(h, np.ceil(y1))))


def _click_radius(h: int, w: int) -> int:
    """A click marks a small disc, not a single pixel: one pixel is too few samples for a colour model."""
    return max(2, round(max(h, w) / 150))


def select_object(image: np.ndarray, prompt: Prompt, *, work_side: int = WORK_SIDE,
                  iterations: int = ITERATIONS) -> np.ndarray:
    """The object the prompt points at. With a box: inside is "probably object", outside is background.
    With clicks only: the colour-alike region around the positive clicks is the first guess. Positive
    clicks are always selected, negative ones never."""
    h, w = _check_image(image)
    out = np.zeros((h, w), np.uint8)
    if prompt.empty:
        return out
    labels = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    if prompt.box is not None:
        x0, y0, x1, y1 = _normal_rect(prompt.box, h, w)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return out
        labels[:] = cv2.GC_BGD
        labels[y0:y1, x0:x1] = cv2.GC_PR_FGD
    else:
        # No box: the colour-alike region around each click, and a disc around it for objects of many colours.
        guess = np.zeros((h, w), np.uint8)
        for x, y in prompt.positives:
            guess |= magic_wand(image, (x, y), WAND_TOLERANCE)
            cv2.circle(guess, (int(x), int(y)), round(max(h, w) * CLICK_REACH), SELECTED, -1)
        labels[guess > 0] = cv2.GC_PR_FGD
    # A click speaks for the even-coloured patch it lands on, not just its pixel: a negative click on a part
    # of another colour teaches the background model that colour (a few pixels would be outvoted).
    for x, y in prompt.positives:
        labels[magic_wand(image, (x, y), PATCH_TOLERANCE) > 0] = cv2.GC_PR_FGD
    for x, y in prompt.negatives:
        labels[magic_wand(image, (x, y), PATCH_TOLERANCE) > 0] = cv2.GC_BGD
    r = _click_radius(h, w)
    for points, value in ((prompt.positives, cv2.GC_FGD), (prompt.negatives, cv2.GC_BGD)):
        for x, y in points:
            cv2.circle(labels, (int(x), int(y)), r, int(value), -1)
    return _grabcut(image, labels, work_side, iterations)


def _crop_for(labels: np.ndarray, margin_frac: float = 0.25) -> tuple[slice, slice]:
    """The likely object's bounding box plus a margin of background to learn the background from."""
    fg = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.uint8)
    x, y, bw, bh = cv2.boundingRect(fg)
    h, w = labels.shape
    if bw == 0:
        return slice(0, h), slice(0, w)
    m = int(max(bw, bh) * margin_frac) + 8
    return slice(max(0, y - m), min(h, y + bh + m)), slice(max(0, x - m), min(w, x + bw + m))


def _grabcut(image: np.ndarray, labels: np.ndarray, work_side: int, iterations: int) -> np.ndarray:
    h, w = labels.shape
    ys, xs = _crop_for(labels)
    crop, lab = image[ys, xs], labels[ys, xs]
    ch, cw = lab.shape
    scale = min(1.0, work_side / max(ch, cw))
    if scale < 1.0:
        size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        small_lab = cv2.resize(lab, size, interpolation=cv2.INTER_NEAREST)
    else:
        small, small_lab = crop, lab.copy()
    fg_like = (small_lab == cv2.GC_FGD) | (small_lab == cv2.GC_PR_FGD)
    bg_like = ~fg_like
    out = np.zeros((h, w), np.uint8)
    if not fg_like.any():
        return out
    if not bg_like.any():  # GrabCut needs both colour models: the whole crop is the object
        out[ys, xs] = SELECTED
        return out
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = np.ascontiguousarray(small[..., ::-1])
    cv2.setRNGSeed(0)  # GrabCut seeds its colour models with k-means: the same prompt gives the same cut
    cv2.grabCut(bgr, small_lab, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    prob = ((small_lab == cv2.GC_FGD) | (small_lab == cv2.GC_PR_FGD)).astype(np.float32)
    if scale < 1.0:
        # Scale the cut up smoothly, then threshold: a staircase of work-size pixels would show on the photo.
        prob = cv2.resize(cv2.GaussianBlur(prob, (3, 3), 0), (cw, ch), interpolation=cv2.INTER_LINEAR)
    cut = np.where(prob >= 0.5, SELECTED, 0).astype(np.uint8)
    cut[lab == cv2.GC_FGD] = SELECTED  # the user's clicks win over the model
    cut[lab == cv2.GC_BGD] = 0
    cut = fill_holes(cut)
    out[ys, xs] = _keep_touching(cut, lab == cv2.GC_FGD) if (lab == cv2.GC_FGD).any() else cut
    return out


def _keep_touching(cut: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Drop islands of object colour elsewhere in the crop that no positive click touches."""
    n, comp = cv2.connectedComponents((cut > 0).astype(np.uint8), connectivity=8)
    if n <= 2:
        return cut
    keep = np.unique(comp[seeds & (cut > 0)])
    return np.where(np.isin(comp, keep[keep > 0]), SELECTED, 0).astype(np.uint8)


def magic_wand(image: np.ndarray, seed: Point, tolerance: int = WAND_TOLERANCE, *,
               contiguous: bool = True) -> np.ndarray:
    """Pixels whose colour is within `tolerance` (0–255, per channel) of the clicked pixel: only those
    connected to it (contiguous), or all of them in the image (global)."""
    h, w = _check_image(image)
    x, y = int(seed[0]), int(seed[1])
    out = np.zeros((h, w), np.uint8)
    if not (0 <= x < w and 0 <= y < h):
        return out
    tol = int(np.clip(tolerance, 0, 255))
    if not contiguous:
        diff = np.abs(image.astype(np.int16) - image[y, x].astype(np.int16)).max(axis=-1)
        out[diff <= tol] = SELECTED
        return out
    flood = np.zeros((h + 2, w + 2), np.uint8)
    flags = 8 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (SELECTED << 8)
    cv2.floodFill(np.ascontiguousarray(image), flood, (x, y), (0, 0, 0), (tol,) * 3, (tol,) * 3, flags)
    out[:] = flood[1:-1, 1:-1]
    return out


def snap_to_edges(image: np.ndarray, mask: np.ndarray, band_px: int, *, direction: str = "both",
                  work_side: int = WORK_SIDE, iterations: int = ITERATIONS) -> np.ndarray:
    """Move the mask's outline, by at most `band_px`, onto the object's edges. Deeper than `band_px` inside
    stays selected and farther outside stays unselected; GrabCut decides the band between. `direction`
    "grow" only adds pixels, "shrink" only removes them, "both" does either."""
    if direction not in ("both", "grow", "shrink"):
        raise ValueError(f"direction must be both, grow or shrink, not {direction!r}")
    _check_image(image)
    sel = np.where(is_hole(mask), SELECTED, 0).astype(np.uint8)
    if not sel.any() or band_px <= 0:
        return sel
    inner = shrink_mask(sel, band_px) if direction != "grow" else sel
    outer = grow_mask(sel, band_px) if direction != "shrink" else sel
    labels = np.full(sel.shape, cv2.GC_BGD, np.uint8)
    labels[outer > 0] = cv2.GC_PR_BGD
    labels[sel > 0] = cv2.GC_PR_FGD
    labels[inner > 0] = cv2.GC_FGD
    result = _grabcut(image, labels, work_side, iterations)
    if direction == "grow":
        return np.maximum(result, sel)
    if direction == "shrink":
        return np.minimum(result, sel)
    return result

