"""Classical damage detector: the day-one "Auto mask" / one-click "Restore" before a trained mask network.

Three cues, each turned into a robust z-score (median / MAD over the image, so the photo's own contrast
sets the scale) and mapped to [0, 1] by a soft ramp; the damage probability is their maximum:

- colour outliers: distance of each pixel from its 7×7 median (a median removes anything thinner than
  ~3 px, so scratches, specks and stroke edges stand out);
- thin bright or dark lines: morphological top-hat and black-hat of the luminance with a small disk;
- saturated-colour outliers: saturation far above the local median saturation (graffiti, paint).

Each cue is divided by a local measure of its own activity as well as the global one, so busy texture
(fur, foliage) does not read as damage everywhere.
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_studio.core.errors import InpaintStudioError


def _robust_z(x: np.ndarray, local: int = 31) -> np.ndarray:
    """How far above typical a cue is, in robust standard deviations; typical = global median and the
    larger of the global and the local (box-window) spread."""
    # Global statistics from a regular subsample: the same answer to a fraction of a grey level, and
    # np.median over every pixel of a 12-megapixel photo is the slowest step otherwise.
    step = max(1, int(np.sqrt(x.size / 250_000)))
    sample = x[::step, ::step]
    med = float(np.median(sample))
    mad = float(np.median(np.abs(sample - med))) * 1.4826
    dev = cv2.absdiff(x, med)
    local_spread = cv2.blur(dev, (local, local)) * 1.2533  # mean |dev| → sigma for a Gaussian
    spread = np.maximum(local_spread, max(mad, 1.0))
    return cv2.subtract(x, med) / spread


def _ramp(z: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip((z - lo) / (hi - lo), 0.0, 1.0)


def damage_cues(image: np.ndarray) -> dict[str, np.ndarray]:
    """The three cues as robust z-scores (float32 H×W), for inspection and tuning."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise InpaintStudioError(f"image must be RGB uint8 H×W×3, got {got}")
    diff = cv2.absdiff(image, cv2.medianBlur(image, 7)).astype(np.float32)
    colour = cv2.sqrt(cv2.transform(cv2.multiply(diff, diff), np.ones((1, 3), np.float32)))

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    tophat = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, disk).astype(np.float32)
    blackhat = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, disk).astype(np.float32)
    line = np.maximum(tophat, blackhat)

    sat = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)[..., 1]
    sat_out = np.maximum(sat.astype(np.float32) - cv2.medianBlur(sat, 15).astype(np.float32), 0)
    return {"colour": _robust_z(colour), "line": _robust_z(line), "saturation": _robust_z(sat_out)}


def detect_damage(image: np.ndarray) -> np.ndarray:
    """Probability (float32 H×W in [0, 1]) that each pixel of an RGB uint8 photo is damage."""
    cues = damage_cues(image)
    # Ramps centred at z = 4 (colour, line) and z = 8 (saturation: photos have legitimately saturated
    # areas); tuned on synthetic scratches over the bundled samples, where they keep ~1 % of a clean
    # photo flagged.
    prob = np.maximum.reduce(
        [_ramp(cues["colour"], 3.0, 5.0), _ramp(cues["line"], 3.0, 5.0), _ramp(cues["saturation"], 6.0, 10.0)]
    )
    return prob.astype(np.float32)


def damage_mask(prob: np.ndarray, threshold: float = 0.5, min_area: int = 20, dilate: int = 1) -> np.ndarray:
    """Binary hole mask (uint8, 255 = damage) from `detect_damage`'s probability.

    A 3×3 closing joins broken stretches of a line; then regions smaller than `min_area` pixels are
    dropped (an area opening: unlike a plain opening it keeps 1-px scratches); finally a `dilate`-px
    dilation covers the soft fringe of the damage so a fill does not inherit it.
    """
    hole = (prob >= threshold).astype(np.uint8) * 255
    hole = cv2.morphologyEx(hole, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hole, connectivity=8)
    keep = np.zeros(count, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area
    hole = np.where(keep[labels], 255, 0).astype(np.uint8)
    if dilate > 0:
        hole = cv2.dilate(hole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1)))
    return hole
