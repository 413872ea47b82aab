"""Tint removal: restore a stained photo by estimating and inverting the colour change, not by painting over it.

A stain leaves the photo visible beneath a tint. Given a soft stain map s (float32 0..1, how strongly each
pixel is stained: detected by `core.stains` or known), the stained photo is modelled per channel c as

    I_c = C_c · (1 + s·a_c) + s·(b_c + e_c·Y(I))

with C the clean photo and Y the luminance: a multiplicative gain (a: coffee darkens blue most), an additive
offset (b) and a pull towards grey (e). The fields gain = 1 + s·a and offset = s·b are smooth wherever s is,
and follow the rim wherever s has one (a tide line is where s is stronger and narrow), so the rim needs no
separate model.

The coefficients are fitted on a small copy of the photo from local windows along the stain's edges, rims
and uneven parts: the photo's texture does not know where the stain runs, so in every 7×7 window the
corrected photo must not correlate with s. For each gain on a grid the offset and grey pull follow in closed
form; each joins only where it halves what the simpler model leaves. One tint serves every blot and spot of
the photo (a stain's colour is the same throughout); then each pixel is inverted in closed form.

Guard — an unreliable estimate must never make the photo worse: the tint must be plausible (gains within
[0.25, 2] at the strongest stain, darkening, blue at least as much as red: coffee, tea, foxing, rust), and in
each region the correction must remove a clear share of the photo–stain covariance; otherwise the region is
left bit-identical. Lightening tints (water marks, fading) fit on the stain's edge but not across a photo's
dark and light parts (measured worse than the input), so they are left alone for now.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
_SMALL_SIDE = 256  # the fit runs on a copy this long (px): the tint is smooth, the photo's detail is not needed
_STAINED = 0.03  # s above this counts as stained
_WINDOW = 7  # local windows (small-copy px) in which photo and stain map must not correlate
_GAINS = np.linspace(-0.9, 1.5, 49)  # the grid of a (gain − 1 at s = 1)
_MIN_REGION = 40  # small-copy pixels; smaller regions share one label
_GAIN_RANGE = (0.25, 2.0)
_MAX_GAIN = 0.98  # every channel loses at least this share of light at the strongest stain
_MIN_IMPROVEMENT = 0.25  # the correction must remove at least this share of the local covariance


@dataclass
class TintFit:
    """The fitted tint: per-region coefficients and what the guard decided."""

    labels: np.ndarray  # int32 H×W (full size): region of each stained pixel, 0 = none
    # region → 3×3 rows (a, b, e) per channel, for the map times `scale`
    coefficients: dict[int, np.ndarray] = field(default_factory=dict)
    accepted: dict[int, bool] = field(default_factory=dict)
    improvement: dict[int, float] = field(default_factory=dict)  # share of the local covariance removed
    scale: float = 1.0  # the strength map is multiplied by this before the model applies (its top → 1)


def _check(image: np.ndarray, strength: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("image must be an RGB uint8 H×W×3 array")
    if not isinstance(strength, np.ndarray) or strength.shape != image.shape[:2]:
        raise ValueError("the stain strength map must be an H×W array the size of the image")


def _small(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(x, size, interpolation=cv2.INTER_AREA)


def _regions(stained: np.ndarray) -> np.ndarray:
    """Connected stained regions (int32 labels); small ones share label 1 (pooled), others 2, 3 …"""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(stained.astype(np.uint8), connectivity=8)
    out = np.zeros_like(labels)
    next_label = 2
    for k in range(1, count):
        if stats[k, cv2.CC_STAT_AREA] < _MIN_REGION:
            out[labels == k] = 1
        else:
            out[labels == k] = next_label
            next_label += 1
    return out


def _invert(image01: np.ndarray, s: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """C = (I − s·(b + e·Y(I))) / (1 + s·a) per channel (0..1 images, s H×W, coef rows (a, b, e))."""
    a, b, e = (coef[:, i].astype(np.float32) for i in range(3))
    sv = s[..., None]
    grey = (image01 @ _LUMA)[..., None]
    return (image01 - sv * (b + e * grey)) / np.maximum(1 + sv * a, 0.05)


def _box(x: np.ndarray) -> np.ndarray:
    return cv2.blur(x, (_WINDOW, _WINDOW))


def _cov_fit(img: np.ndarray, s: np.ndarray, sel: np.ndarray) -> tuple[np.ndarray, float]:
    """Gain and offset of each channel that leave the corrected photo uncorrelated with the stain map in every
    local window (the photo's texture does not know where the stain's edge and rim run): for each gain on a
    grid, the best offset in closed form (the corrected photo is linear in it); the pair with the smallest
    remaining covariance. Returns (3×3 rows (a, b, 0), share of the covariance removed)."""
    sm = _box(s)
    var_s = np.maximum(_box(s * s) - sm * sm, 0)
    weight = (var_s > 1e-5) & sel
    if np.count_nonzero(weight) < 10:
        return np.zeros((3, 3)), 0.0

    def cov(x: np.ndarray) -> np.ndarray:
        return (_box(x * s) - _box(x) * sm)[weight]

    grey = img @ _LUMA
    coef = np.zeros((3, 3), np.float64)
    before = after = 0.0
    for c in range(3):
        chan = img[..., c]
        c0 = cov(chan)
        before += float(np.sum(c0 * c0))
        # best (residual, a, b, e) using the gain alone, + the offset, + the grey pull
        best: list[tuple[float, float, float, float]] = [(np.inf, 0.0, 0.0, 0.0)] * 3
        for a in _GAINS:
            d = 1 + s * a
            u = cov(chan / d)  # cov(C) = u − b·v1 − e·v2
            v = np.stack([cov(s / d), cov(s * grey / d)], 1)
            best[0] = min(best[0], (float(np.dot(u, u)), float(a), 0.0, 0.0))
            for used in (1, 2):
                x = v[:, :used]
                normal = x.T @ x
                normal += 1e-9 * max(float(np.trace(normal)), 1e-12) * np.eye(used)
                sol = np.linalg.solve(normal, x.T @ u)
                r = u - x @ sol
                b, e = float(sol[0]), float(sol[1]) if used == 2 else 0.0
                best[used] = min(best[used], (float(np.dot(r, r)), float(a), b, e))
        # Each added term must halve what the simpler model leaves: where the photo's local means barely
        # vary, gain, offset and grey pull explain the same covariance and the set drifts to extremes.
        chosen = best[0]
        for cand in best[1:]:
            if cand[0] < 0.5 * chosen[0]:
                chosen = cand
            else:
                break
        coef[c] = chosen[1:]
        after += chosen[0]
    return coef, 1 - after / max(before, 1e-12)


def _cov_removed(img: np.ndarray, s: np.ndarray, sel: np.ndarray, coef: np.ndarray) -> float:
    """Share of the local photo–stain covariance inside `sel` that the correction removes (1 = all of it)."""
    sm = _box(s)
    weight = (np.maximum(_box(s * s) - sm * sm, 0) > 1e-5) & sel
    if np.count_nonzero(weight) < 10:
        return 0.0

    def power(x: np.ndarray) -> float:
        return float(sum(np.sum((_box(x[..., c] * s) - _box(x[..., c]) * sm)[weight] ** 2) for c in range(3)))

    return 1 - power(_invert(img, s, coef)) / max(power(img), 1e-12)


def _stain_like(gain: np.ndarray) -> bool:
    """A stain the model inverts reliably: it darkens every channel (a stain absorbs some light of every
    colour), blue at least as much as green and green as red — coffee, tea, foxing, rust. Lightening tints
    (water marks, fading) fit as well on the stain's edge but not across the photo's dark and light parts
    (measured: worse than the input), so they are left as they are; so is a fit that leaves red untouched (on a
    water-marked yellow photo it read the mark as a green-blue tint and cost 1.9 dB)."""
    return bool(gain.max() <= _MAX_GAIN and gain[2] <= gain[1] + 0.02 and gain[1] <= gain[0] + 0.02)


def fit_tint(image: np.ndarray, strength: np.ndarray) -> TintFit:
    """Fit the tint model of each stained region (see the module docstring) and decide which to trust."""
    _check(image, strength)
    h, w = image.shape[:2]
    f = min(1.0, _SMALL_SIDE / max(h, w))
    size = (max(8, round(w * f)), max(8, round(h * f)))
    img = _small(image, size).astype(np.float32) / 255
    s = np.clip(_small(strength.astype(np.float32), size), 0, 1)
    stained = s > _STAINED
    fit = TintFit(np.zeros((h, w), np.int32))
    if not stained.any():
        return fit
    fit.scale = 1.0 / max(float(np.percentile(s[stained], 99)), _STAINED)
    s = s * fit.scale
    grown = cv2.dilate(stained.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    labels = _regions(grown)
    # One tint for the photo (a stain's colour is the same in every blot and spot: pooling makes the fit
    # robust where one small spot alone would drift), then each region judged on its own.
    coef, _ = _cov_fit(img, s, grown)
    s_top = 1.0  # the map's 99th percentile, by the rescaling above
    plausible = bool(
        _GAIN_RANGE[0] <= (1 + s_top * coef[:, 0]).min()
        and (1 + s_top * coef[:, 0]).max() <= _GAIN_RANGE[1]
        and _stain_like(1 + s_top * coef[:, 0])
    )
    for k in np.unique(labels[labels > 0]):
        removed = _cov_removed(img, s, labels == k, coef)
        fit.coefficients[int(k)] = coef
        fit.improvement[int(k)] = removed
        fit.accepted[int(k)] = plausible and removed >= _MIN_IMPROVEMENT
    # Regions at full size: each stained full-size pixel takes the label of its small-copy pixel.
    up = cv2.resize(labels.astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST).astype(np.int32)
    fit.labels[:] = np.where(strength > 0, up, 0)
    return fit


def trusted(strength: np.ndarray, fit: TintFit) -> np.ndarray:
    """`strength` (float32) where the fit's region is trusted, 0 elsewhere: the stains `remove_tint` corrects."""
    keep = np.isin(fit.labels, [k for k, ok in fit.accepted.items() if ok])
    return np.where(keep & (strength > 0), strength, 0).astype(np.float32)


def remove_tint(image: np.ndarray, strength: np.ndarray, fit: TintFit | None = None) -> np.ndarray:
    """The photo with the tint of every trusted stain region inverted (RGB uint8); untrusted regions and
    unstained pixels stay bit-identical."""
    _check(image, strength)
    fit = fit if fit is not None else fit_tint(image, strength)
    out = image.copy()
    s = np.clip(strength.astype(np.float32), 0, 1) * np.float32(fit.scale)
    for k, coef in fit.coefficients.items():
        if not fit.accepted.get(k):
            continue
        sel = (fit.labels == k) & (s > 0)
        if not sel.any():
            continue
        clean = _invert(image[sel][None].astype(np.float32) / 255, s[sel][None], coef)[0]
        out[sel] = np.clip(np.rint(clean * 255), 0, 255).astype(np.uint8)
    return out
