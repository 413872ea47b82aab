"""Synthetic holes and damage for evaluation and training (shared by `evaluate` and the trainer).

Every random function takes a `np.random.Generator` and draws only from it, so a seed reproduces a mask or
a damaged photo exactly. Sizes quoted "at 256²" scale with the image diagonal.

- Holes: DeepFill v2 brush strokes (`free_form_mask`), its random box (`random_box_mask`) and their union
  (`deepfill_training_mask`), the Context-Encoder centre square, and `bucketed_mask` to hit a hole-ratio range.
- Damage: VCNet contamination (patches of another photo pasted through a soft stroke mask) and classical
  photo damage (scratches, stains, ink, graffiti). Each returns the exact mask of the pixels that changed.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

DAMAGE_KINDS = ("contamination", "scratch", "stain", "ink", "graffiti", "mixed")
MASK_KINDS = ("free_form", "box", "deepfill", "vcnet")


def _scale(h: int, w: int) -> float:
    """Size factor relative to a 256² image, by diagonal (the brush-stroke length R also uses it)."""
    return math.hypot(h, w) / math.hypot(256, 256)


def _ratio(mask: np.ndarray) -> float:
    return float(np.count_nonzero(mask)) / mask.size


# --- DeepFill v2 holes ----------------------------------------------------------------------------


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _strokes(
    h: int,
    w: int,
    rng: np.random.Generator,
    max_strokes: int,
    min_vertices: int,
    max_vertices: int,
    min_width: float,
    max_width: float,
) -> np.ndarray:
    """Brush strokes as DeepFill v2 draws them (widths given at 256² and scaled to the image)."""
    s = _scale(h, w)
    radius = math.hypot(h, w) / 8  # mean segment length R
    mean_angle, angle_range = 2 * math.pi / 5, 2 * math.pi / 15
    mask = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(1, max_strokes + 1))):
        n = int(rng.integers(min_vertices, max_vertices + 1))
        angle_min = mean_angle - rng.uniform(0, angle_range)
        angle_max = mean_angle + rng.uniform(0, angle_range)
        # Alternate the turning direction so a stroke zig-zags instead of spiralling.
        angles = [
            2 * math.pi - rng.uniform(angle_min, angle_max) if i % 2 == 0 else rng.uniform(angle_min, angle_max)
            for i in range(n)
        ]
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        vertices = [(x, y)]
        for angle in angles:
            # Plain float clamps: np.clip on a scalar costs ~17 µs, most of a stroke mask's time.
            r = _clamp(float(rng.normal(radius, radius / 2)), 0.0, 2 * radius)
            x = _clamp(x + r * math.cos(angle), 0.0, w - 1)
            y = _clamp(y + r * math.sin(angle), 0.0, h - 1)
            vertices.append((x, y))
        width = max(1, round(rng.uniform(min_width, max_width) * s))
        pts = [(round(px), round(py)) for px, py in vertices]
        for a, b in zip(pts[:-1], pts[1:], strict=True):
            cv2.line(mask, a, b, 255, width)
        for p in pts:  # round joints
            cv2.circle(mask, p, width // 2, 255, -1)
    if rng.random() > 0.5:
        mask = mask[:, ::-1]
    if rng.random() > 0.5:
        mask = mask[::-1, :]
    return np.ascontiguousarray(mask)


def free_form_mask(
    h: int,
    w: int,
    rng: np.random.Generator,
    max_strokes: int = 3,
    min_vertices: int = 4,
    max_vertices: int = 11,
    min_width: float = 12,
    max_width: float = 40,
) -> np.ndarray:
    """DeepFill v2 free-form mask: 1–`max_strokes` strokes of `min_vertices`–`max_vertices` vertices, mean
    turning angle 2π/5 (spread U(0, 2π/15), alternating), segment length N(R, R/2) clipped to [0, 2R] with
    R = √(H²+W²)/8, width U(min_width, max_width) px at 256², round joints, random flips."""
    return _strokes(h, w, rng, max_strokes, min_vertices, max_vertices, min_width, max_width)


def random_box_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """DeepFill v2's box: half the image size on each side (128² at 256²) at a random place, each side
    pulled in by a random amount up to 16 px at 256²."""
    bh, bw = max(1, h // 2), max(1, w // 2)
    top, left = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
    dh, dw = max(0, round(16 * h / 256)), max(0, round(16 * w / 256))
    t, b = (int(rng.integers(0, dh + 1)) for _ in range(2))
    lft, r = (int(rng.integers(0, dw + 1)) for _ in range(2))
    mask = np.zeros((h, w), np.uint8)
    y0, y1 = top + t, max(top + t + 1, top + bh - b)
    x0, x1 = left + lft, max(left + lft + 1, left + bw - r)
    mask[y0:y1, x0:x1] = 255
    return mask


def deepfill_training_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """The mask DeepFill v2 trains with: the union of a random box and free-form strokes."""
    return np.maximum(random_box_mask(h, w, rng), free_form_mask(h, w, rng))


def centre_box_mask(h: int, w: int) -> np.ndarray:
    """The Context-Encoder hole: a centred square of a quarter of the image area (64² in 128²),
    limited to the short side on very elongated images."""
    side = min(round(math.sqrt(h * w) / 2), h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    mask = np.zeros((h, w), np.uint8)
    mask[y0 : y0 + side, x0 : x0 + side] = 255
    return mask


def glcic_box_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """GLCIC's training hole: one rectangle with sides of 0.3–0.6 of the crop (48–96 px at 160²) at a random
    place."""
    bh = int(rng.integers(max(1, round(0.3 * h)), max(1, round(0.6 * h)) + 1))
    bw = int(rng.integers(max(1, round(0.3 * w)), max(1, round(0.6 * w)) + 1))
    top, left = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
    mask = np.zeros((h, w), np.uint8)
    mask[top : top + bh, left : left + bw] = 255
    return mask


def vcnet_stroke_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """VCNet's contamination strokes: 8–23 vertices, width 8–16 at 256², hole ratio in [0.2, 0.5)."""
    return bucketed_mask(h, w, (0.2, 0.5), rng, kind="vcnet")


def thin_stroke_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Thin damage as a person paints it over a scratch, a wire or a hair: 3–8 smooth curves, each 1–8 px wide
    at 256² (scaled with the image), long relative to the image. The model table's "thin" bucket."""
    s = _scale(h, w)
    mask = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(3, 9))):
        width = max(1, round(float(rng.uniform(1, 8)) * s))
        cv2.polylines(mask, [_random_curve(h, w, rng)], False, 255, width, cv2.LINE_8)
    return mask


def _draw(kind: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "free_form":
        return free_form_mask(h, w, rng)
    if kind == "box":
        return random_box_mask(h, w, rng)
    if kind == "deepfill":
        return deepfill_training_mask(h, w, rng)
    if kind == "vcnet":
        return _strokes(h, w, rng, 3, 8, 23, 8, 16)
    raise ValueError(f"unknown mask kind '{kind}' (known: {', '.join(MASK_KINDS)})")


def bucketed_mask(
    h: int,
    w: int,
    ratio_range: tuple[float, float],
    rng: np.random.Generator,
    kind: str = "free_form",
    attempts: int = 10,
) -> np.ndarray:
    """A mask of `kind` whose hole ratio lies in [lo, hi).

    First up to `attempts` fresh draws (the natural shape when one lands in range); then masks are
    accumulated by union until the ratio reaches lo, and the last addition is cut along a random straight
    line so the count lands on a target drawn uniformly in the range. A bounded number of unions, then a
    deterministic growth around the existing hole, guarantee termination.
    """
    lo, hi = float(ratio_range[0]), float(ratio_range[1])
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"ratio range must satisfy 0 <= lo < hi <= 1, got {ratio_range}")
    n = h * w
    k_min, k_max = math.ceil(lo * n), math.ceil(hi * n) - 1
    # Pixel counts k with lo <= k/n < hi; guard against float rounding at the ends.
    while k_min / n < lo:
        k_min += 1
    while k_max >= 0 and k_max / n >= hi:
        k_max -= 1
    if k_min > k_max:
        raise ValueError(f"no {h}×{w} mask has a hole ratio in [{lo}, {hi})")

    for _ in range(attempts):
        mask = _draw(kind, h, w, rng)
        if k_min <= np.count_nonzero(mask) <= k_max:
            return mask

    target = int(rng.integers(k_min, k_max + 1))
    acc = np.zeros((h, w), bool)
    for _ in range(200):
        count = int(np.count_nonzero(acc))
        if count >= k_min:
            break
        added = (_draw(kind, h, w, rng) > 0) & ~acc
        if count + int(np.count_nonzero(added)) <= k_max:
            acc |= added
            continue
        acc |= _first_pixels(added, target - count, _line_order(h, w, rng))
    else:
        count = int(np.count_nonzero(acc))
        if count < k_min:  # strokes kept missing: grow around what is there (or from the centre)
            seed = acc.copy() if acc.any() else np.zeros((h, w), bool)
            seed[h // 2, w // 2] = True
            dist = cv2.distanceTransform(np.where(seed, 0, 255).astype(np.uint8), cv2.DIST_L2, 5)
            acc |= _first_pixels(~acc, target - count, dist)
    return np.where(acc, 255, 0).astype(np.uint8)


def _line_order(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Projection of each pixel on a random direction: taking the smallest cuts along a straight line."""
    theta = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    return (xx * math.cos(theta) + yy * math.sin(theta)).astype(np.float64)


def _first_pixels(candidates: np.ndarray, k: int, order: np.ndarray) -> np.ndarray:
    """The `k` candidate pixels with the smallest `order` (ties broken by raster position)."""
    out = np.zeros(candidates.shape, bool)
    idx = np.flatnonzero(candidates)
    if k <= 0 or idx.size == 0:
        return out
    chosen = idx[np.argsort(order.ravel()[idx], kind="stable")[:k]]
    out.ravel()[chosen] = True
    return out


# --- damage ---------------------------------------------------------------------------------------


@dataclass
class Contamination:
    """A damaged photo and the exact ground truth: `mask` is 255 on precisely the pixels whose value
    changed; `alpha` (float32 H×W in [0, 1]) is the blend weight used, where one exists."""

    image: np.ndarray
    mask: np.ndarray
    alpha: np.ndarray | None = None


def _changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.where((before != after).any(-1), 255, 0).astype(np.uint8)


def _blend(image: np.ndarray, layer: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[..., None].astype(np.float32)
    out = image.astype(np.float32) * (1 - a) + layer.astype(np.float32) * a
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _random_crop(source: np.ndarray, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A random h×w crop of `source`, enlarged first when it is smaller than h×w."""
    sh, sw = source.shape[:2]
    if sh < h or sw < w:
        f = max(h / sh, w / sw)
        source = cv2.resize(source, (max(w, math.ceil(sw * f)), max(h, math.ceil(sh * f))), interpolation=cv2.INTER_CUBIC)
        sh, sw = source.shape[:2]
    y, x = int(rng.integers(0, sh - h + 1)), int(rng.integers(0, sw - w + 1))
    return np.ascontiguousarray(source[y : y + h, x : x + w])


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("image must be an RGB uint8 H×W×3 array")


def contaminate(
    image: np.ndarray, noise_source: np.ndarray, rng: np.random.Generator, mask: np.ndarray | None = None
) -> Contamination:
    """VCNet data synthesis: I = O⊙(1−M) + N⊙M with N a random crop of another photo and M the stroke mask
    (`vcnet_stroke_mask` unless given) softened at its edge by a Gaussian for alpha blending."""
    _check_image(image)
    _check_image(noise_source)
    h, w = image.shape[:2]
    m = vcnet_stroke_mask(h, w, rng) if mask is None else mask
    noise = _random_crop(noise_source, h, w, rng)
    sigma = max(0.6, 1.2 * _scale(h, w))
    alpha = cv2.GaussianBlur((m > 0).astype(np.float32), (0, 0), sigma)
    out = _blend(image, noise, alpha)
    return Contamination(out, _changed(image, out), alpha.astype(np.float32))


def _random_curve(h: int, w: int, rng: np.random.Generator, n: int = 40, length: float | None = None) -> np.ndarray:
    """A smooth random curve (cubic Bézier) as an (n, 1, 2) int32 polyline for cv2."""
    length = length if length is not None else rng.uniform(0.2, 0.9) * math.hypot(h, w)
    start = np.array([rng.uniform(0, w), rng.uniform(0, h)])
    theta = rng.uniform(0, 2 * math.pi)
    end = start + length * np.array([math.cos(theta), math.sin(theta)])
    bend = rng.normal(0, 0.15 * length, size=(2, 2))
    c1 = start + (end - start) / 3 + bend[0]
    c2 = start + 2 * (end - start) / 3 + bend[1]
    t = np.linspace(0, 1, n)[:, None]
    pts = (1 - t) ** 3 * start + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t**2 * c2 + t**3 * end
    return np.rint(pts).astype(np.int32).reshape(-1, 1, 2)


def _scratches(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Film scratches and folds: 1–3 px bright or dark lines, mostly long and near-vertical."""
    h, w = image.shape[:2]
    out = image.copy()
    alpha_all = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(2, 7))):
        alpha = np.zeros((h, w), np.float32)
        if rng.random() < 0.5:  # a vertical film scratch that wanders a little
            x = rng.uniform(0, w)
            ys = np.linspace(rng.uniform(-0.1, 0.4) * h, rng.uniform(0.6, 1.1) * h, 30)
            xs = x + np.cumsum(rng.normal(0, 0.004 * w, ys.size))
            pts = np.rint(np.stack([xs, ys], 1)).astype(np.int32).reshape(-1, 1, 2)
        else:  # a fold or a random scratch
            pts = _random_curve(h, w, rng)
        # Crisp (not anti-aliased) so the changed band really is 1–3 px (cv2 thickness 2 draws 3 px);
        # strength varies along the line.
        cv2.polylines(alpha, [pts], False, 1.0, int(rng.integers(1, 3)), cv2.LINE_8)  # 1 or 3 px wide
        alpha *= rng.uniform(0.6, 1.0) * (0.6 + 0.4 * _smooth_noise(h, w, rng, 24))
        level = rng.uniform(215, 255) if rng.random() < 0.6 else rng.uniform(0, 40)
        layer = np.full_like(image, int(level))
        out = _blend(out, layer, alpha)
        alpha_all = np.maximum(alpha_all, alpha)
    return out, alpha_all


def _smooth_noise(h: int, w: int, rng: np.random.Generator, cell: float) -> np.ndarray:
    """Low-frequency noise in [0, 1]: white noise on a coarse grid, enlarged with cubic interpolation."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    coarse = rng.random((gh, gw)).astype(np.float32)
    big = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return (big - big.min()) / max(float(big.max() - big.min()), 1e-6)


def _stains(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Blotchy semi-opaque brown/yellow stains with a darker tide-line ring at the edge (water stains)."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    alpha = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        rx, ry = (rng.uniform(15, 60) * s for _ in range(2))
        d = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
        d = d + 0.5 * (_smooth_noise(h, w, rng, 12 * s) - 0.5)  # ragged outline
        blob = (d < 1.0).astype(np.float32)
        ring = np.exp(-(((d - 0.95) / 0.08) ** 2)) * blob
        strength = rng.uniform(0.35, 0.7)
        alpha = np.maximum(alpha, strength * (0.5 * blob + 0.5 * ring) * (0.6 + 0.4 * _smooth_noise(h, w, rng, 6 * s)))
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.5, 0.8 * s))
    colour = np.array([rng.uniform(150, 210), rng.uniform(105, 165), rng.uniform(30, 85)], np.float32)
    # Stains tint by multiplication: a dark pixel stays dark, a light one turns brown.
    layer = np.clip(image.astype(np.float32) * colour / 255.0, 0, 255).astype(np.uint8)
    return _blend(image, layer, alpha), alpha


def _ink(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Dark opaque pen strokes and ink spots."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    alpha = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        pts = _random_curve(h, w, rng, length=rng.uniform(0.1, 0.5) * math.hypot(h, w))
        cv2.polylines(alpha, [pts], False, 1.0, max(1, round(rng.uniform(2, 7) * s)), cv2.LINE_AA)
    for _ in range(int(rng.integers(0, 5))):
        centre = (round(rng.uniform(0, w)), round(rng.uniform(0, h)))
        axes = (max(1, round(rng.uniform(2, 12) * s)), max(1, round(rng.uniform(2, 12) * s)))
        cv2.ellipse(alpha, centre, axes, rng.uniform(0, 180), 0, 360, 1.0, -1, cv2.LINE_AA)
    alpha *= rng.uniform(0.85, 1.0)
    colour = [rng.uniform(0, 35), rng.uniform(0, 35), rng.uniform(0, 70)]  # black to dark blue
    layer = np.empty_like(image)
    layer[:] = np.array(colour).round().astype(np.uint8)
    return _blend(image, layer, alpha), alpha


def _saturated(rng: np.random.Generator) -> np.ndarray:
    hsv = np.array([[[rng.integers(0, 180), rng.integers(200, 256), rng.integers(200, 256)]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0]


def _graffiti(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Saturated spray strokes and text-like scribbles."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    out = image.copy()
    alpha_all = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        alpha = np.zeros((h, w), np.float32)
        if rng.random() < 0.5:
            text = "".join(rng.choice(list(string.ascii_letters + string.digits), int(rng.integers(2, 7))))
            org = (round(rng.uniform(0, 0.6) * w), round(rng.uniform(0.2, 1.0) * h))
            font_scale = rng.uniform(0.6, 1.6) * s
            thickness = max(1, round(rng.uniform(1, 4) * s))
            canvas = np.zeros((h, w), np.uint8)  # putText draws only on 8-bit images
            cv2.putText(canvas, text, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 255, thickness, cv2.LINE_AA)
            alpha = canvas.astype(np.float32) / 255.0
        else:
            pts = _random_curve(h, w, rng, n=60, length=rng.uniform(0.15, 0.6) * math.hypot(h, w))
            pts = pts + np.rint(rng.normal(0, 2 * s, pts.shape)).astype(np.int32)  # a shaky hand
            cv2.polylines(alpha, [pts], False, 1.0, max(1, round(rng.uniform(2, 6) * s)), cv2.LINE_AA)
        alpha *= rng.uniform(0.8, 1.0)
        layer = np.empty_like(image)
        layer[:] = _saturated(rng)
        out = _blend(out, layer, alpha)
        alpha_all = np.maximum(alpha_all, alpha)
    return out, alpha_all


_SIMPLE_DAMAGE: dict[str, Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]]] = {
    "scratch": _scratches,
    "stain": _stains,
    "ink": _ink,
    "graffiti": _graffiti,
}


def synthesize_damage(
    image: np.ndarray, rng: np.random.Generator, kind: str, noise_source: np.ndarray | None = None
) -> Contamination:
    """Damage `image` with one of DAMAGE_KINDS; the result's mask is exactly the pixels that changed.

    "contamination" needs `noise_source` (another photo); "mixed" layers two or three kinds (contamination
    among them only when a noise source is given).
    """
    _check_image(image)
    if kind == "contamination":
        if noise_source is None:
            raise ValueError("contamination needs a noise_source photo")
        return contaminate(image, noise_source, rng)
    if kind in _SIMPLE_DAMAGE:
        out, alpha = _SIMPLE_DAMAGE[kind](image, rng)
        return Contamination(out, _changed(image, out), alpha)
    if kind == "mixed":
        kinds = list(_SIMPLE_DAMAGE) + (["contamination"] if noise_source is not None else [])
        chosen = rng.choice(kinds, size=int(rng.integers(2, 4)), replace=False)
        out = image
        alpha = np.zeros(image.shape[:2], np.float32)
        for k in chosen:
            step = synthesize_damage(out, rng, str(k), noise_source)
            out = step.image
            if step.alpha is not None:
                alpha = np.maximum(alpha, step.alpha)
        return Contamination(out, _changed(image, out), alpha)
    raise ValueError(f"unknown damage kind '{kind}' (known: {', '.join(DAMAGE_KINDS)})")
