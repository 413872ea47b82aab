"""Which parts of a blind damage mask are translucent (a tint over a photo that is still there) and which are
opaque (the photo is gone: fill them).

A detector (the classical one, a mask network) says *where* damage is, not what kind. A stain leaves the photo
visible beneath a smooth colour change; painting over it replaces real detail with a blur. Each connected
region of the mask is judged on its own, and called translucent only when all of these hold:

- **it has an interior**: a region thinner than ~5 px (scratches, text strokes, specks) stays opaque;
- **there is detail to keep**: on nearly flat surroundings (sky, a plain wall) a fill loses nothing and is
  more exact than any tint model, so the region stays opaque;
- **structure beneath**: the region's fine detail (luminance minus a small blur, relative to its brightness,
  as a multiplicative tint scales both alike) is 0.5–2.5 × that of a ring around it — ink and paint are flat,
  strokes drawn over a smooth background are busier than it;
- **one colour change along the edge**: the log-ratio of the local mean colour just inside the edge to the
  one just outside has a small robust spread along the whole edge (a tint multiplies whatever lies beneath by
  the same gains; a pasted patch or a stroke over a varied background changes by a different amount at
  every point);
- **a stain's colour change**: that ratio darkens, blue more than red (coffee, tea, foxing, rust), and not as
  far as ink does.

Translucent regions get a soft strength map (float32 0..1: how far each pixel's colour moved along the
region's own shift, against a fill of the region from its surroundings, smoothed) for display, and the tint is
inverted in the log model the edge was measured in (per-channel gains, the +8 of the log standing in for a
small offset). A guard keeps the correction only where it removes at least half of the step at the edge and
leaves the edge no less consistent; otherwise the region is left exactly as it is (neither filled nor
corrected). The correction is capped at the step measured at the edge: a tide line (the rim darkest) would
otherwise be overshot inside — on the seen `stain` family with its true masks the uncapped correction made 3
of 38 regions worse than the input, the capped one none, and the mean gain went from +1.6 to +3.3 dB (bundled
samples at 128²: stain +3.3, coffee +3.4 dB, never worse on any photo). A blob whose edge fades out is
under-corrected instead: a hand-made one at 128² gains +3.8 to +4.8 dB with its error halved (coffee.png:
median 10 → 3 grey levels; tests/test_translucent.py). `core.tint`'s covariance fit needs a known stain map
and refused these. The thresholds were chosen on
the *seen* damage families (the old `core.synthesis` kinds: contamination, scratch, stain, ink, graffiti) and
on clean validation photos, never on the new families reported as unseen (models/blind_generalisation.md):
there they turn no contamination, scratch, ink or graffiti region translucent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
_THIN = 2.5  # px: a region with no pixel farther than this from its edge has no interior to judge
_RING = 6  # px: the ring around a region that stands for its surroundings
_EDGE = 3  # px: the bands just inside and just outside the edge that are compared
_EDGE_SIGMA = 1.5  # px: the local mean colour on either side of the edge
_MIN_PIXELS = 12  # interior / ring / edge pixels needed for a verdict (fewer: opaque, as before)
_DETAIL_SIGMA = 1.2
_DETAIL_RATIO = (0.5, 2.5)  # interior detail / ring detail (each relative to its brightness)
# Surroundings flatter than this (relative detail): nothing beneath to keep, and a fill from them is exact
# while the tint model is not — opaque. Chosen on the seen `stain` family with its true masks (10 validation
# photos at 256², 3 seeds): Telea beat the tint removal on every region below 0.005 but on 2 of 6 below 0.006,
# and on none above.
_FLAT_RING = 0.006
# Blind runs un-tint translucent damage on photos up to this size (the split looks at the whole photo at full
# size); larger photos leave it as it is, still never painted over.
UNTINT_MAX_PIXELS = 4_000_000
_MAX_EDGE_SPREAD = 0.2  # robust spread (log units) of the inside/outside colour ratio along the edge
_DARKER = (-0.5, -0.03)  # mean log change across the edge: darker, but not as dark as ink
_BLUE_MINUS_RED = -0.05  # blue's log change at most this much above red's (blue absorbed most)
_SMOOTH = 4.0  # px: the strength map's smoothing
_MAX_STRENGTH = 0.5  # the correction at most the edge's own shift (never overshoots a stain whose rim is darkest)
_LEFT_OVER = 0.5  # a trusted correction leaves at most this share of the step at the edge


@dataclass(frozen=True)
class DamageSplit:
    """A blind mask split by kind: `opaque` (uint8 255 = fill) and `translucent` (float32 0..1 strength)."""

    opaque: np.ndarray
    translucent: np.ndarray
    untinted: np.ndarray  # the photo with each trusted translucent region's tint removed (RGB uint8)


@dataclass(frozen=True)
class RegionCues:
    """What one region measured (for tuning and tests)."""

    thin: bool
    detail_ratio: float
    edge_spread: float
    shift: np.ndarray  # median log-RGB change across the edge (inside − outside), 3 floats
    ring_detail: float = 0.0  # the surroundings' fine detail, relative to their brightness

    @property
    def translucent(self) -> bool:
        brightness = float(np.mean(self.shift))
        return bool(
            not self.thin
            and self.ring_detail >= _FLAT_RING
            and _DETAIL_RATIO[0] <= self.detail_ratio <= _DETAIL_RATIO[1]
            and self.edge_spread <= _MAX_EDGE_SPREAD
            and _DARKER[0] <= brightness <= _DARKER[1]
            and self.shift[2] - self.shift[0] <= _BLUE_MINUS_RED
        )


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _local_mean(image: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean colour of `image` over `weight`'s pixels near each pixel (Gaussian window) and the window's share
    of such pixels."""
    w = cv2.GaussianBlur(weight.astype(np.float32), (0, 0), _EDGE_SIGMA)
    s = cv2.GaussianBlur(image * weight[..., None].astype(np.float32), (0, 0), _EDGE_SIGMA)
    return s / np.maximum(w, 1e-3)[..., None], w


def region_cues(image: np.ndarray, region: np.ndarray, other_damage: np.ndarray | None = None) -> RegionCues:
    """The cues for one region (bool H×W) of an RGB uint8 photo; `other_damage` (bool) is left out of its
    surroundings."""
    none = np.zeros(3, np.float32)
    dist = cv2.distanceTransform(np.pad(region, 1).astype(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]
    if dist.max() < _THIN:
        return RegionCues(True, 0.0, np.inf, none)
    free = ~region if other_damage is None else ~(region | other_damage)
    ring = (cv2.dilate(region.astype(np.uint8), _disk(_RING + 2)) > 0) & ~(
        cv2.dilate(region.astype(np.uint8), _disk(2)) > 0) & free
    interior = dist >= 2
    if np.count_nonzero(ring) < _MIN_PIXELS or np.count_nonzero(interior) < _MIN_PIXELS:
        return RegionCues(False, 0.0, np.inf, none)
    f = image.astype(np.float32)
    luma = f @ _LUMA
    detail = np.abs(luma - cv2.GaussianBlur(luma, (0, 0), _DETAIL_SIGMA))
    d_in = float(detail[interior].mean()) / (float(luma[interior].mean()) + 8)
    d_ring = float(detail[ring].mean()) / (float(luma[ring].mean()) + 8)
    ratio = d_in / max(d_ring, 1e-6)
    outside = (cv2.dilate(region.astype(np.uint8), _disk(_EDGE)) > 0) & free
    mean_in, w_in = _local_mean(f, region)
    mean_out, w_out = _local_mean(f, outside)
    edge = region & (dist <= _EDGE) & (w_out > 0.1) & (w_in > 0.1)
    if np.count_nonzero(edge) < _MIN_PIXELS:
        return RegionCues(False, ratio, np.inf, none)
    log_ratio = np.log(mean_in[edge] + 8) - np.log(mean_out[edge] + 8)
    shift = np.median(log_ratio, 0)
    spread = float(np.median(1.4826 * np.median(np.abs(log_ratio - shift), 0)))
    return RegionCues(False, ratio, spread, shift.astype(np.float32), d_ring)


def _strength(image: np.ndarray, region: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """How strongly each pixel of a translucent region is tinted (float32 0..1, zero outside it): its log
    colour against a fill of the region from its surroundings (Telea), projected on the edge's shift and
    smoothed (a stain's strength varies slowly), scaled so that the edge's own pixels read 0.5 — the region
    at the strength its edge shows."""
    f = image.astype(np.float32)
    fill = cv2.inpaint(np.ascontiguousarray(image), region.astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
    change = np.log(f + 8) - np.log(fill.astype(np.float32) + 8)
    norm = float(np.dot(shift, shift))
    along = (change @ shift.astype(np.float32)) / max(norm, 1e-6)  # 1 = the edge's shift
    inside = region.astype(np.float32)
    smooth = cv2.GaussianBlur(along * inside, (0, 0), _SMOOTH) / np.maximum(
        cv2.GaussianBlur(inside, (0, 0), _SMOOTH), 1e-3)
    return np.where(region, np.clip(0.5 * smooth, 0.25, _MAX_STRENGTH), 0).astype(np.float32)


def _untint_region(image: np.ndarray, region: np.ndarray, shift: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """The region's colour change inverted: (I + 8)·exp(−shift · strength / 0.5) − 8 per channel (the log
    model the edge was measured in), feathered over a 1-px soft edge; uint8, unchanged outside the region."""
    soft = cv2.GaussianBlur(region.astype(np.float32), (0, 0), 0.7) * region
    k = (soft * strength / 0.5)[..., None]
    out = (image.astype(np.float32) + 8) * np.exp(-k * shift.astype(np.float32)) - 8
    return np.where(region[..., None], np.clip(np.rint(out), 0, 255), image).astype(np.uint8)


def untint_translucent(image: np.ndarray, find_damage: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The photo with the tint of its translucent damage removed where trusted, for a blind run before its opaque
    damage is filled. `find_damage(image)` gives the detector's whole mask; it is not even called above
    UNTINT_MAX_PIXELS (the photo is returned as it is: its translucent damage is still never filled, since the
    blind hole is the split's opaque part)."""
    if image.shape[0] * image.shape[1] > UNTINT_MAX_PIXELS:
        return image
    return split_damage(image, find_damage(image)).untinted


def split_damage(image: np.ndarray, mask: np.ndarray) -> DamageSplit:
    """Split a blind damage mask (uint8, 255 = damage) of an RGB uint8 photo into opaque and translucent parts
    (see the module docstring). Every masked pixel lands in exactly one of them."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("image must be an RGB uint8 H×W×3 array")
    if mask.shape != image.shape[:2]:
        raise ValueError("the mask must be the size of the image")
    damage = mask > 0
    opaque = np.where(damage, 255, 0).astype(np.uint8)
    strength = np.zeros(mask.shape, np.float32)
    restored = image.copy()
    count, labels, stats, _ = cv2.connectedComponentsWithStats(damage.astype(np.uint8), connectivity=8)
    h, w = mask.shape
    margin = 3 * _RING
    for k in range(1, count):
        x, y, bw, bh = stats[k, :4]
        if min(bw, bh) < 2 * _THIN:  # no interior: the cheap common case (scratches, specks)
            continue
        x0, y0, x1, y1 = max(0, x - margin), max(0, y - margin), min(w, x + bw + margin), min(h, y + bh + margin)
        lab = labels[y0:y1, x0:x1]
        region = lab == k
        crop = image[y0:y1, x0:x1]
        others = (lab != k) & (lab > 0)
        cues = region_cues(crop, region, others)
        if not cues.translucent:
            continue
        opaque[y0:y1, x0:x1][region] = 0
        s = _strength(crop, region, cues.shift)
        strength[y0:y1, x0:x1] = np.maximum(strength[y0:y1, x0:x1], s)
        fixed = _untint_region(crop, region, cues.shift, s)
        after = region_cues(fixed, region, others)
        # Guard: the correction must remove most of the step at the edge and leave the edge as consistent.
        if np.abs(after.shift).max() <= _LEFT_OVER * np.abs(cues.shift).max() and after.edge_spread <= cues.edge_spread * 1.1:
            restored[y0:y1, x0:x1][region] = fixed[region]
    return DamageSplit(opaque, strength, restored)
