"""Classical stain detector: a soft map (float32 0..1) of how strongly each pixel is tinted by a brownish or
yellowish stain (coffee, tea, foxing, rust), for `core.tint` to invert.

A stain shifts colour, not structure. Each pixel's colour (lightly smoothed) is compared with a large-scale
background of the photo (a median over ~1/3 of the long side on a 128-px copy, wider than most blots, so a
blot barely moves it) in log-RGB, where a stain's gain is an offset. A brown tint lowers blue more than green
and green more than red; the brightness part is removed (shadows and shading darken all channels alike), and
the remaining chroma shift is projected on that brown direction. Only darkening shifts count (a stain absorbs
light), and only projections above a floor — the larger of a fixed level and the photo's median plus 5
robust standard deviations, so a colourful photo needs a clearer shift. The projection, scaled so that a
typical coffee stain reads about its true strength, is the map.

Measured on 4 validation photos at 512²: its mask finds few of the generated stains (IoU 0.01–0.08 per
family; 2 % of a clean photo's pixels flagged, up to 6 %) — photos' own browns and the blots' size defeat a
fixed background — so Restore does not use it by default (`classical_restore` option `stains=tint`; numbers in
models/blind_generalisation.md), while `core.tint` given the true map gains +10 to +20 dB on coffee and foxing.

`stain_mask` thresholds the map into a binary mask (uint8 255 = stained) for display and scoring.
"""

from __future__ import annotations

import cv2
import numpy as np

# log-RGB chroma direction of a brown tint (red least absorbed, blue most), made zero-mean and unit length
_BROWN = np.array([0.45, 0.05, -0.5], np.float32)
_BROWN = (_BROWN - _BROWN.mean()) / np.linalg.norm(_BROWN - _BROWN.mean())
_SCALE = 0.45  # projection of a coffee stain of strength 1 (its gains ~ (0.7, 0.5, 0.25))
_FLOOR = 0.06  # projections below this are the photo's own colour variation
_Z = 5.0  # ... and below the photo's median plus this many robust standard deviations
_DARKER = -0.02  # a stain absorbs light: log-brightness at least this far below the background
_MAX_SIDE = 1024  # the map is computed on a copy at most this long and enlarged
_BACKGROUND_SIDE = 128
_BACKGROUND_FRACTION = 1 / 3
_MASK_THRESHOLD = 0.15


def _check(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("image must be an RGB uint8 H×W×3 array")


def stain_background(image: np.ndarray) -> np.ndarray:
    """The photo's large-scale colour (uint8 RGB, same size): a median over ~1/6 of the long side on a copy
    128 px long, enlarged."""
    h, w = image.shape[:2]
    f = min(1.0, _BACKGROUND_SIDE / max(h, w))
    small = cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    k = max(3, int(max(small.shape[:2]) * _BACKGROUND_FRACTION) | 1)
    return cv2.resize(cv2.medianBlur(small, k), (w, h), interpolation=cv2.INTER_LINEAR)


def detect_stains(image: np.ndarray) -> np.ndarray:
    """Soft stain map (float32 H×W in [0, 1]) of an RGB uint8 photo; 0 where nothing brownish darkens it."""
    _check(image)
    h, w = image.shape[:2]
    f = min(1.0, _MAX_SIDE / max(h, w))
    work = image if f == 1.0 else cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    smooth = cv2.GaussianBlur(work, (0, 0), 0.8).astype(np.float32)
    shift = np.log(smooth + 8) - np.log(stain_background(work).astype(np.float32) + 8)
    brightness = shift.mean(-1)
    projection = (shift - brightness[..., None]) @ _BROWN
    # The photo's own spread of the projection sets the floor: colourful photos need a larger shift.
    med = float(np.median(projection))
    spread = 1.4826 * float(np.median(np.abs(projection - med)))
    floor = max(_FLOOR, med + _Z * spread)
    strength = np.where((brightness < _DARKER) & (projection > floor), projection / _SCALE, 0).astype(np.float32)
    strength = np.clip(cv2.GaussianBlur(strength, (0, 0), 0.7), 0, 1)
    if f != 1.0:
        strength = cv2.resize(strength, (w, h), interpolation=cv2.INTER_LINEAR)
    return strength.astype(np.float32)


def stain_mask(strength: np.ndarray, threshold: float = _MASK_THRESHOLD, min_area: int = 4) -> np.ndarray:
    """Binary stain mask (uint8, 255 = stained) from `detect_stains`' map: above `threshold`, regions of at
    least `min_area` pixels."""
    mask = (strength >= threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    return np.where(keep[labels], 255, 0).astype(np.uint8)


# A learned detector's stains are kept only where the translucent judge confirms a tint over the photo (measured
# on whole validation photos: without it, a clean photo lost up to 23 dB to a tint removed where there was none).
def confirmed_stains(image: np.ndarray, where: np.ndarray, amount: np.ndarray, threshold: float,
                     small_area: float = 0) -> np.ndarray:
    """The map the tint removal uses (float32 H×W, 0..1): `amount` (how strongly each pixel is tinted) where a
    detector's `where` (0..1) reaches `threshold` and `core.translucent.split_damage` judges the region a tint
    over the photo rather than the photo's own brown or shaded part. Regions smaller than `small_area` pixels
    are kept unjudged: the judge needs an interior and a ring of surroundings, which foxing's small spots
    lack."""
    from inpaint_studio.core.translucent import split_damage

    _check(image)
    if where.shape != image.shape[:2] or amount.shape != image.shape[:2]:
        raise ValueError("the stain maps must be H×W arrays the size of the image")
    found = where >= threshold
    s = np.where(found, np.clip(amount, 0, 1), 0).astype(np.float32)
    if not found.any():
        return s
    keep = split_damage(image, np.where(found, 255, 0).astype(np.uint8)).translucent > 0
    if small_area > 0:
        _, labels, stats, _ = cv2.connectedComponentsWithStats(found.astype(np.uint8), connectivity=8)
        keep |= (stats[:, cv2.CC_STAT_AREA] < small_area)[labels] & found
    return np.where(keep, s, 0).astype(np.float32)
