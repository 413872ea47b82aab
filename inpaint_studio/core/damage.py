"""Classical damage detector: the day-one "Auto mask" / one-click "Restore" before a trained mask network.

Two stages.

1. Seeds — four cues, each turned into a robust z-score (median / MAD over the image, so the photo's own
   contrast sets the scale) and mapped to [0, 1] by a soft ramp; their maximum is the seed probability:

   - colour outliers: distance of each pixel from its 7×7 median (a median removes anything thinner than
     ~3 px, so scratches, specks and stroke edges stand out);
   - thin bright or dark lines: morphological top-hat and black-hat of the luminance with a small disk;
   - saturated-colour outliers: saturation far above the local median saturation (graffiti, paint);
   - long lines: the top-hat / black-hat averaged along its best direction, which lifts a scratch across
     fur or foliage above the short strands around it.

   Each cue is divided by a local measure of its own activity as well as the global one, so busy texture
   (fur, foliage) does not read as damage everywhere.

2. Stroke interiors — ink and paint are a flat layer of one colour, so inside a stroke wider than the 7×7
   median the seed cues are silent. Pixels that are flat (3×3 colour spread near zero: the paint has
   replaced the photo's texture and noise) *and* far from the photo's large-scale background (a median over
   ~1/9 of the image, computed on a small copy) are candidates; a candidate region counts only when it
   touches a seed, so flat sky or a dark jacket far from any mark is left alone. The accepted interiors
   grow by one pixel to take in the anti-aliased rim of the stroke.

Then thin marks with no paint interior that are shorter than 1/5 of the long side are down-weighted (real
glints, catch-lights and rims are short; scratches are long), and the probability is squeezed into
[0.02, 0.95]. `damage_mask` thresholds it; `restore_hole` is what a blind restore fills. Figures:
benchmarks/bench_damage_detector.py and benchmarks/RESULTS.md.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from inpaint_studio.core.errors import InpaintStudioError

# A stroke interior: 3×3 colour spread (Euclidean over RGB, grey levels) below this ...
_FLAT_SPREAD = 2.0
# ... and at least this far (RGB distance) from the large-scale background.
_FAR_FROM_BACKGROUND = 50.0
# The large-scale background is a median over a window of about 1/9 of the long side: wider than any
# stroke or ink spot we expect, narrower than the photo's own regions.
_BLOWN = 250
# Thin marks (no paint interior) shorter than this fraction of the long side are down-weighted.
_MIN_LINE_LENGTH = 0.2
_SHORT_MARK_WEIGHT = 0.4
_PROB_FLOOR, _PROB_CEILING = 0.02, 0.95
_BACKGROUND_SMALL_SIDE = 96
_BACKGROUND_KERNEL = 11


def _robust_z(x: np.ndarray, local: int = 31) -> np.ndarray:
    """How far above typical a cue is, in robust standard deviations; typical = global median and the
    larger of the global and the local (box-window) spread."""
    # Global statistics from a regular subsample: the same answer to a fraction of a grey level, and
    # np.median over every pixel of a 12-megapixel photo is the slowest step otherwise.
    step = max(1, int(np.sqrt(x.size / 250_000)))
    sample = x[::step, ::step]
    med = float(np.median(sample))
    mad = float(np.median(np.abs(sample - med))) * 1.4826
    # numpy, not cv2.absdiff/subtract: OpenCV reads a 1×1 array against a Python float as two scalars and
    # returns a 4×1 result (a 1-pixel photo then got a 4×1 damage map)
    dev = np.abs(x - np.float32(med))
    local_spread = cv2.blur(dev, (local, local)) * 1.2533  # mean |dev| → sigma for a Gaussian
    spread = np.maximum(local_spread, max(mad, 1.0))
    return (x - np.float32(med)) / spread


def _ramp(z: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip((z - lo) / (hi - lo), 0.0, 1.0)


def _colour_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = cv2.absdiff(a, b).astype(np.float32)
    return cv2.sqrt(cv2.transform(cv2.multiply(diff, diff), np.ones((1, 3), np.float32)))


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise InpaintStudioError(f"image must be RGB uint8 H×W×3, got {got}")


def damage_cues(image: np.ndarray) -> dict[str, np.ndarray]:
    """The four seed cues as robust z-scores (float32 H×W), for inspection and tuning."""
    _check_image(image)
    colour = _colour_distance(image, cv2.medianBlur(image, 7))

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    tophat = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, disk).astype(np.float32)
    blackhat = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, disk).astype(np.float32)
    line = np.maximum(tophat, blackhat)

    sat = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)[..., 1]
    sat_out = np.maximum(sat.astype(np.float32) - cv2.medianBlur(sat, 15).astype(np.float32), 0)
    return {
        "colour": _robust_z(colour),
        "line": _robust_z(line),
        "saturation": _robust_z(sat_out),
        "long_line": np.maximum(_long_line(tophat), _long_line(blackhat)),
    }


def _long_line(hat: np.ndarray) -> np.ndarray:
    """Robust z of a top-hat (or black-hat) averaged along its best of 12 directions over 21 px, counted only
    on the line itself (its own response at least half that average). A scratch keeps its full strength
    along its length; fur, foliage and noise (short strands in every direction) average down."""
    along = np.maximum.reduce([cv2.filter2D(hat, -1, k) for k in _line_kernels()])
    return np.where(hat >= 0.5 * along, _robust_z(along), 0).astype(np.float32)


@lru_cache(maxsize=1)
def _line_kernels(length: int = 21, directions: int = 12) -> tuple[np.ndarray, ...]:
    """Normalised anti-aliased line segments through the centre of a length × length kernel."""
    c = length // 2
    kernels = []
    for i in range(directions):
        t = np.pi * i / directions
        dx, dy = c * np.cos(t), c * np.sin(t)
        k = np.zeros((length, length), np.float32)
        cv2.line(k, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1, cv2.LINE_AA)
        kernels.append(k / k.sum())
    return tuple(kernels)


def large_scale_background(image: np.ndarray) -> np.ndarray:
    """The photo with every mark narrower than ~1/9 of its long side removed: a median on a small copy
    (so the cost does not grow with the window at 12 MP), enlarged back."""
    h, w = image.shape[:2]
    factor = max(1.0, max(h, w) / _BACKGROUND_SMALL_SIDE)
    small = cv2.resize(image, (max(1, round(w / factor)), max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.medianBlur(small, _BACKGROUND_KERNEL), (w, h), interpolation=cv2.INTER_LINEAR)


def _colour_spread(image: np.ndarray) -> np.ndarray:
    """3×3 standard deviation of the colour (root of the summed channel variances), grey levels."""
    f = image.astype(np.float32)
    mean = cv2.blur(f, (3, 3))
    var = cv2.blur(f * f, (3, 3)) - mean * mean
    return np.sqrt(np.maximum(var.sum(-1), 0))


def _stroke_interiors(image: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Flat, off-background regions that touch a seed, grown by one pixel (bool H×W)."""
    interior = (_colour_spread(image) < _FLAT_SPREAD) & (
        _colour_distance(image, large_scale_background(image)) > _FAR_FROM_BACKGROUND
    )
    # Blown highlights (specular glints, a white sky) are flat and off-background too, but no paint or
    # ink is pure white in all three channels.
    interior &= image.min(axis=2) < _BLOWN
    count, labels = cv2.connectedComponents((interior | seeds).astype(np.uint8), connectivity=8)
    touches = np.zeros(count, bool)
    touches[np.unique(labels[seeds])] = True
    touches[0] = False
    accepted = (touches[labels] & interior).astype(np.uint8)
    return cv2.dilate(accepted, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))) > 0


def _short_thin_marks(seeds: np.ndarray, interiors: np.ndarray) -> np.ndarray:
    """Seed regions (joined by a 3×3 closing, as `damage_mask` does) that have no paint interior and whose
    longer bounding-box side is under `_MIN_LINE_LENGTH` × the image's long side (bool H×W)."""
    joined = cv2.morphologyEx((seeds | interiors).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    painted = np.zeros(count, bool)
    painted[np.unique(labels[interiors])] = True
    short = (extent < _MIN_LINE_LENGTH * max(seeds.shape)) & ~painted
    short[0] = False
    return short[labels]


def detect_damage(image: np.ndarray) -> np.ndarray:
    """Probability (float32 H×W in [0, 1]) that each pixel of an RGB uint8 photo is damage."""
    cues = damage_cues(image)
    # Ramps centred at z = 4 (colour, line), z = 8 (saturation: photos have legitimately saturated areas)
    # and z = 2.5 (long lines: averaging along the line already removed most texture); tuned on synthetic
    # damage over the bundled samples, where they keep under 1 % of a clean photo flagged.
    prob = np.maximum.reduce(
        [
            _ramp(cues["colour"], 3.0, 5.0),
            _ramp(cues["line"], 3.0, 5.0),
            _ramp(cues["saturation"], 6.0, 10.0),
            _ramp(cues["long_line"], 2.0, 3.0),
        ]
    )
    seeds = prob >= 0.5
    interiors = _stroke_interiors(image, seeds)
    prob = np.maximum(prob, interiors.astype(np.float32))
    # A short thin bright or dark arc is more often a real glint, catch-light or rim than a scratch, and a
    # blind fill of it costs more than it repairs: shown faintly, kept out of the default mask.
    prob = np.where(_short_thin_marks(seeds, interiors), prob * _SHORT_MARK_WEIGHT, prob)
    # A heuristic is never certain: squeeze into [floor, ceiling] so the map reads as a calibrated
    # probability (it also bounds the cross-entropy of a confident miss).
    return (_PROB_FLOOR + (_PROB_CEILING - _PROB_FLOOR) * prob).astype(np.float32)


def damage_mask(
    prob: np.ndarray, threshold: float = 0.5, min_area: int = 20, dilate: int = 0, min_length: float = 0.04
) -> np.ndarray:
    """Binary hole mask (uint8, 255 = damage) from `detect_damage`'s probability.

    A 3×3 closing joins broken stretches of a line; then regions are dropped when smaller than `min_area`
    pixels (an area opening: unlike a plain opening it keeps 1-px scratches) or when their longer bounding-box
    side is under `min_length` × the image's long side — short bright arcs are far more often a real glint or
    rim than a scratch, and a blind restore that fills them costs more than it repairs. Finally an optional
    `dilate`-px dilation (off by default: the detector already takes in the rim of wide strokes, and on a
    1-px scratch a dilation triples the hole) covers any remaining soft fringe.
    """
    hole = (prob >= threshold).astype(np.uint8) * 255
    hole = cv2.morphologyEx(hole, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hole, connectivity=8)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = (stats[:, cv2.CC_STAT_AREA] >= min_area) & (extent >= min_length * max(prob.shape))
    keep[0] = False
    hole = np.where(keep[labels], 255, 0).astype(np.uint8)
    if dilate > 0:
        hole = cv2.dilate(hole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1)))
    return hole


FRAME_BAND = 3  # px from the photo's border
FRAME_SHARE = 0.8  # a found region with at least this share of its pixels in that band is the photo's frame


def without_frame_lines(mask: np.ndarray, band: int = FRAME_BAND, share: float = FRAME_SHARE) -> np.ndarray:
    """`mask` (uint8, 255 = damage) without the regions lying along the photo's border: a scan's frame line or
    an edge artefact, not a scratch, and a fill from one side replaces it with a guess (measured: a 1-px black
    frame line at the foot of a held-out photo cost it 6.9 dB). A blot that merely reaches the border stays."""
    found = (mask > 0).astype(np.uint8)
    h, w = found.shape
    if not found.any() or min(h, w) <= 2 * band:
        return found * 255
    count, labels, stats, _ = cv2.connectedComponentsWithStats(found, connectivity=8)
    border = np.ones((h, w), bool)
    border[band:h - band, band:w - band] = False
    on_border = np.bincount(labels[border & (found > 0)], minlength=count)
    frame = on_border >= share * stats[:, cv2.CC_STAT_AREA]
    frame[0] = False
    return np.where(frame[labels], 0, found * 255).astype(np.uint8)


def restore_hole(mask: np.ndarray, rim: int = 1, min_thickness: int = 5, min_core: float = 0.15) -> np.ndarray:
    """The hole a blind restore fills (uint8, 255 = fill): `mask` plus a `rim`-px band around each wide
    region — one where at least `min_core` of the pixels lie `min_thickness` // 2 px inside it (ink and paint
    strokes, whose anti-aliased edge the detector only partly takes in, and a fill seeded from that edge
    would inherit its colour). Thin lines stay as they are: widening a 1-px scratch only makes Telea blur
    more of the photo."""
    hole = (mask > 0).astype(np.uint8)
    if rim <= 0 or not hole.any():
        return hole * 255
    core = cv2.erode(hole, np.ones((min_thickness, min_thickness), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hole, connectivity=8)
    core_area = np.bincount(labels[core > 0], minlength=count)
    wide = core_area >= min_core * stats[:, cv2.CC_STAT_AREA]
    wide[0] = False
    grown = cv2.dilate(wide[labels].astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rim + 1,) * 2))
    return np.maximum(hole, grown) * 255
