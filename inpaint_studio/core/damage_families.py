"""Named families of photo damage, each one holdable: draw from all families except a held-out set, so a mask
network can be validated on damage it never trained on (issue 14).

Every family is a function `(image, rng, source) -> Damage`, deterministic from the numpy Generator alone.
`Damage.mask` is 255 on the pixels the damage visibly changed (more than `VISIBLE` grey levels in some
channel); translucent families (stains, fading, yellowing) also give `strength`, the soft map (float32 0..1)
of how strongly each pixel is tinted, and `translucent=True`: the photo is still there beneath a colour change,
so a restore should remove the tint rather than paint over it.

Families marked `seen` are the old `core.synthesis` kinds the shipped checkpoints trained on; the others are
new generators ("unseen" for those checkpoints). Sizes quoted "at 512²" scale with the image diagonal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from inpaint_studio.core import synthesis

# A pixel counts as damaged when some channel moved by more than this (a fainter change is invisible).
VISIBLE = 3
_SUPER = 4  # supersampling factor for anti-aliased thin marks


@dataclass(frozen=True)
class Damage:
    """A damaged photo and its ground truth (RGB uint8, mask uint8 255 = damaged, strength float32 or None)."""

    image: np.ndarray
    mask: np.ndarray
    family: str
    translucent: bool = False
    strength: np.ndarray | None = None


DrawFn = Callable[[np.ndarray, np.random.Generator, "np.ndarray | None"], Damage]


@dataclass(frozen=True)
class Family:
    name: str
    group: str  # "scratch", "contamination" or "stain": which of the targets it counts towards
    translucent: bool
    seen: bool  # an old core.synthesis kind (the shipped checkpoints trained on it)
    uses_source: bool  # pastes parts of another photo when one is given
    draw: DrawFn
    description: str


def _scale(h: int, w: int) -> float:
    """Size factor relative to a 512² image, by diagonal."""
    return math.hypot(h, w) / math.hypot(512, 512)


def _visible(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    diff = np.abs(before.astype(np.int16) - after.astype(np.int16)).max(axis=-1)
    return np.where(diff > VISIBLE, 255, 0).astype(np.uint8)


def _blend(image: np.ndarray, layer: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[..., None].astype(np.float32)
    out = image.astype(np.float32) * (1 - a) + layer.astype(np.float32) * a
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _smooth_noise(h: int, w: int, rng: np.random.Generator, cell: float) -> np.ndarray:
    """Low-frequency noise in [0, 1] (white noise on a grid of `cell`-px cells, cubic enlargement)."""
    gh, gw = max(2, int(h / max(cell, 1.0)) + 2), max(2, int(w / max(cell, 1.0)) + 2)
    big = cv2.resize(rng.random((gh, gw)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return (big - big.min()) / max(float(big.max() - big.min()), 1e-6)


def _any_colour(rng: np.random.Generator) -> np.ndarray:
    """White-ish, dark or any colour at all (scratches in colour film show every hue)."""
    r = rng.random()
    if r < 0.4:
        return np.full(3, rng.uniform(200, 255)) - rng.uniform(0, 15, 3)
    if r < 0.7:
        return np.full(3, rng.uniform(0, 50)) + rng.uniform(0, 20, 3)
    return rng.uniform(0, 255, 3)


def _curve(h: int, w: int, rng: np.random.Generator, length: float, n: int = 48) -> np.ndarray:
    """A random smooth path (float (n, 2) x, y): a near-vertical wander (film scratch) or a Bézier (fold)."""
    if rng.random() < 0.4:
        x = rng.uniform(0, w)
        y0 = rng.uniform(-0.1, 1.0) * h
        ys = np.linspace(y0, y0 + length, n)
        xs = x + np.cumsum(rng.normal(0, 0.003 * w, n))
        return np.stack([xs, ys], 1)
    start = np.array([rng.uniform(0, w), rng.uniform(0, h)])
    theta = rng.uniform(0, 2 * math.pi)
    end = start + length * np.array([math.cos(theta), math.sin(theta)])
    bend = rng.normal(0, 0.15 * length, size=(2, 2))
    c1, c2 = start + (end - start) / 3 + bend[0], start + 2 * (end - start) / 3 + bend[1]
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 3 * start + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t**2 * c2 + t**3 * end


def _thin_alpha(h: int, w: int, paths: list[np.ndarray], width: float) -> np.ndarray:
    """Coverage (float32 0..1) of polylines `width` px wide, drawn 4× larger and averaged down: anti-aliased
    at sub-pixel widths, which cv2's own LINE_AA cannot do below ~2 px."""
    big = np.zeros((h * _SUPER, w * _SUPER), np.uint8)
    thickness = max(1, round(width * _SUPER))
    for p in paths:
        pts = np.rint(p * _SUPER).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(big, [pts], False, 255, thickness, cv2.LINE_8)
    return cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _broken(path: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """The path cut into segments with gaps (a scratch that skips where the emulsion held)."""
    if rng.random() < 0.5 or len(path) < 8:
        return [path]
    pieces, i = [], 0
    while i < len(path) - 1:
        run = int(rng.integers(3, 16))
        pieces.append(path[i : i + run + 1])
        i += run + int(rng.integers(1, 5))
    return [p for p in pieces if len(p) >= 2]


# --- scratches, hairlines, dust ----------------------------------------------------------------------------


def hairlines(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """2–8 scratches and hairlines, 1–8 px wide (at 512², mostly thin), any colour, anti-aliased, often broken
    into segments, with strength varying along the line."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    out = image.copy()
    for _ in range(int(rng.integers(2, 9))):
        width = float(rng.choice([1, 1, 1.5, 2, 2, 3, 4, 5, 6, 8])) * s * rng.uniform(0.8, 1.2)
        path = _curve(h, w, rng, rng.uniform(0.15, 1.0) * math.hypot(h, w))
        alpha = _thin_alpha(h, w, _broken(path, rng), max(width, 0.7))
        alpha *= rng.uniform(0.75, 1.0) * (0.7 + 0.3 * _smooth_noise(h, w, rng, 40 * s))
        layer = np.empty_like(image)
        layer[:] = _to_uint8(_any_colour(rng))
        out = _blend(out, layer, alpha)
    return Damage(out, _visible(image, out), "hairline")


def dust(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """Dust specks (0.5–3 px at 512², dark or light), short curly fibres, and — half the time — film grain.
    The grain is over the whole photo but too faint to be a hole: it is in the image, not in the mask."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    out = image.astype(np.float32)
    if rng.random() < 0.5:
        out += rng.normal(0, rng.uniform(1.0, 2.5), (h, w, 1)).astype(np.float32)
    grained = _to_uint8(out)
    marks = np.zeros((h * _SUPER, w * _SUPER), np.uint8)
    for _ in range(int(rng.integers(30, 250))):
        c = (round(rng.uniform(0, w) * _SUPER), round(rng.uniform(0, h) * _SUPER))
        axes = (max(1, round(rng.uniform(0.5, 3) * s * _SUPER)), max(1, round(rng.uniform(0.5, 3) * s * _SUPER)))
        cv2.ellipse(marks, c, axes, rng.uniform(0, 180), 0, 360, 255, -1)
    fibres = [_curve(h, w, rng, rng.uniform(8, 60) * s, n=12) for _ in range(int(rng.integers(0, 7)))]
    alpha = cv2.resize(marks, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    if fibres:
        alpha = np.maximum(alpha, _thin_alpha(h, w, fibres, max(0.8, 1.2 * s)))
    alpha *= rng.uniform(0.8, 1.0)
    dark = rng.random() < 0.6  # dust on a print scans dark; on a negative it prints white
    layer = np.empty_like(image)
    layer[:] = _to_uint8(np.full(3, rng.uniform(0, 40) if dark else rng.uniform(220, 255)))
    out8 = _blend(grained, layer, alpha)
    return Damage(out8, np.where(alpha * 255 > VISIBLE * 2, _visible(grained, out8), 0).astype(np.uint8), "dust")


def worn(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """A worn, handled print — the issue's heavier scratch case (input ~25 dB at 512²): 4–12 scratches 2–5 px
    wide, straight or gently curved, each ink (dark blue or black), white or grey, anti-aliased with uneven
    pressure, and 4–16 small opaque blotches (radius 2–7 px) of the same inks — a different generator from
    `hairlines`, `dust` and the old `scratch`, so it can be held out of everything."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    inks = [np.array([25, 30, 70], np.float32), np.array([15, 15, 18], np.float32),
            np.array([245, 245, 240], np.float32), np.array([128, 128, 128], np.float32)]

    def ink() -> np.ndarray:
        return inks[int(rng.integers(len(inks)))] + rng.normal(0, 12, 3).astype(np.float32)

    out = image.copy()
    for _ in range(int(rng.integers(4, 13))):
        length = rng.uniform(0.1, 0.7) * math.hypot(h, w)
        start = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        theta = rng.uniform(0, 2 * math.pi)
        t = np.linspace(0, 1, 24)[:, None]
        sag = rng.normal(0, 0.05 * length) * np.sin(np.pi * t) * np.array([[-math.sin(theta), math.cos(theta)]])
        path = start + t * length * np.array([math.cos(theta), math.sin(theta)]) + sag
        alpha = _thin_alpha(h, w, [path], rng.uniform(2, 5) * s)
        alpha *= rng.uniform(0.8, 1.0) * (0.75 + 0.25 * _smooth_noise(h, w, rng, 30 * s))
        layer = np.empty_like(image)
        layer[:] = _to_uint8(ink())
        out = _blend(out, layer, alpha)
    blots = np.zeros((h * _SUPER, w * _SUPER), np.uint8)
    colour = ink()
    for _ in range(int(rng.integers(4, 17))):
        c = (round(rng.uniform(0, w) * _SUPER), round(rng.uniform(0, h) * _SUPER))
        axes = (max(1, round(rng.uniform(2, 7) * s * _SUPER)), max(1, round(rng.uniform(2, 7) * s * _SUPER)))
        cv2.ellipse(blots, c, axes, rng.uniform(0, 180), 0, 360, 255, -1)
    layer = np.empty_like(image)
    layer[:] = _to_uint8(colour)
    out = _blend(out, layer, cv2.resize(blots, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0)
    return Damage(out, _visible(image, out), "worn")


# --- contamination and overlays ----------------------------------------------------------------------------


def _shape_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Union of 1–4 shapes: ragged blobs, brush strokes or rotated rectangles (float32 0/1)."""
    s = _scale(h, w)
    m = np.zeros((h, w), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(int(rng.integers(1, 5))):
        kind = rng.random()
        if kind < 0.4:
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            rx, ry = rng.uniform(25, 130) * s, rng.uniform(25, 130) * s
            d = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2) + 0.6 * (_smooth_noise(h, w, rng, 40 * s) - 0.5)
            m = np.maximum(m, (d < 1).astype(np.float32))
        elif kind < 0.75:
            m = np.maximum(m, synthesis.free_form_mask(h, w, rng, 2, 4, 12, 10, 40).astype(np.float32) / 255)
        else:
            c = (float(rng.uniform(0, w)), float(rng.uniform(0, h)))
            size = (float(rng.uniform(30, 220) * s), float(rng.uniform(20, 160) * s))
            box = cv2.boxPoints((c, size, float(rng.uniform(0, 180)))).astype(np.int32)
            cv2.fillPoly(m, [box], 1.0)
    return m


def _paste_layer(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None) -> np.ndarray:
    """What is pasted: a patch of another photo (rescaled 0.4–2×, maybe flipped), of this photo from elsewhere,
    or a flat or graded colour."""
    h, w = image.shape[:2]
    r = rng.random()
    if r < 0.15:
        a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        t = np.linspace(0, 1, w if rng.random() < 0.5 else h, dtype=np.float32)
        ramp = t[None, :, None] if t.size == w else t[:, None, None]
        return _to_uint8(np.broadcast_to(a + (b - a) * ramp, (h, w, 3)))
    src = source if source is not None and r < 0.8 else image
    f = rng.uniform(0.4, 2.0)
    sh, sw = src.shape[:2]
    scaled = cv2.resize(src, (max(8, round(sw * f)), max(8, round(sh * f))), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    if rng.random() < 0.5:
        scaled = scaled[:, ::-1]
    patch = synthesis._random_crop(np.ascontiguousarray(scaled), h, w, rng)
    if src is image:  # shift so the photo is not pasted onto itself in place
        patch = np.roll(patch, (int(rng.integers(h // 4, 3 * h // 4 + 1)), int(rng.integers(w // 4, 3 * w // 4 + 1))), (0, 1))
    return patch


def paste(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """Contamination: pasted photo patches (another photo, this one, or a colour) through shapes with soft alpha
    edges (feather 0.5–6 px at 512²), opacity 0.8–1, blended normally, by multiply, screen, or
    lighten/darken; 5–35 % of the image."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    for _ in range(6):
        shape = _shape_mask(h, w, rng)
        if 0.05 <= shape.mean() <= 0.35:
            break
    alpha = cv2.GaussianBlur(shape, (0, 0), rng.uniform(0.5, 6.0) * s) * rng.uniform(0.8, 1.0)
    layer = _paste_layer(image, rng, source).astype(np.float32)
    base = image.astype(np.float32)
    mode = rng.choice(["normal"] * 5 + ["multiply", "screen", "lighten", "darken"])
    if mode == "multiply":
        layer = base * layer / 255
    elif mode == "screen":
        layer = 255 - (255 - base) * (255 - layer) / 255
    elif mode == "lighten":
        layer = np.maximum(base, layer)
    elif mode == "darken":
        layer = np.minimum(base, layer)
    out = _blend(image, _to_uint8(layer), alpha)
    return Damage(out, _visible(image, out), "paste")


_FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_PLAIN,
)
_WORDS = ("SAMPLE", "PROOF", "(c) 1987", "photo", "Studio", "COPY", "draft", "archive", "12.08.94", "'98 7 14")


def _text_alpha(h: int, w: int, rng: np.random.Generator, text: str, height: float, thickness: int,
                angle: float = 0.0) -> np.ndarray:
    canvas = np.zeros((h, w), np.uint8)
    font = int(rng.choice(_FONTS)) | (cv2.FONT_ITALIC if rng.random() < 0.2 else 0)
    scale = height / 22.0
    (tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
    org = (round(rng.uniform(-0.1 * tw, max(1.0, w - 0.8 * tw))), round(rng.uniform(th, max(th + 1.0, h))))
    cv2.putText(canvas, text, org, font, scale, 255, thickness, cv2.LINE_AA)
    if angle:
        rot = cv2.getRotationMatrix2D((org[0] + tw / 2, org[1] - th / 2), angle, 1.0)
        canvas = cv2.warpAffine(canvas, rot, (w, h), flags=cv2.INTER_LINEAR)
    return canvas.astype(np.float32) / 255


def text(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """Opaque text: captions, date stamps, labels; 1–4 items, 10–60 px high at 512², any colour, some with a
    dark or light outline."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    out = image.copy()
    for _ in range(int(rng.integers(1, 5))):
        word = str(rng.choice(_WORDS)) if rng.random() < 0.6 else "".join(
            rng.choice(list("ABCDEFGHJKLMNPRSTUVWXYZabcdefghkmnprstuvwxyz0123456789 .:-"), int(rng.integers(3, 12))))
        height = rng.uniform(10, 60) * s
        thick = max(1, round(height / rng.uniform(8, 16)))
        alpha = _text_alpha(h, w, rng, word, height, thick)
        if rng.random() < 0.3:  # outlined lettering
            ring = cv2.dilate(alpha, np.ones((3, 3), np.uint8), iterations=max(1, thick // 2))
            layer = np.empty_like(image)
            layer[:] = 0 if rng.random() < 0.5 else 255
            out = _blend(out, layer, ring)
        layer = np.empty_like(image)
        layer[:] = _to_uint8(rng.uniform(0, 255, 3) if rng.random() < 0.6 else [255, 150, 40])  # date-stamp orange
        out = _blend(out, layer, alpha * rng.uniform(0.9, 1.0))
    return Damage(out, _visible(image, out), "text")


def watermark(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """A see-through watermark: large (optionally tiled, tilted) white, grey or black lettering at 25–60 %
    opacity. The photo shows through, but the marks are crisp: it is filled like a hole, not un-tinted."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    word = str(rng.choice(_WORDS))
    angle = float(rng.uniform(-40, 40)) if rng.random() < 0.6 else 0.0
    alpha = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 2 if rng.random() < 0.5 else 7))):
        height = rng.uniform(30, 110) * s
        alpha = np.maximum(alpha, _text_alpha(h, w, rng, word, height, max(2, round(height / 9)), angle))
    grey = 255.0 if rng.random() < 0.6 else rng.uniform(0, 128)
    layer = np.empty_like(image)
    layer[:] = _to_uint8(np.full(3, grey))
    out = _blend(image, layer, alpha * rng.uniform(0.25, 0.6))
    return Damage(out, _visible(image, out), "watermark")


# --- translucent: stains, fading, yellowing ----------------------------------------------------------------


def _tinted(image: np.ndarray, gain: np.ndarray, offset: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """image × (1 + strength·(gain − 1)) + strength·offset, per channel (gain, offset: 3-vectors or H×W×3)."""
    k = strength[..., None].astype(np.float32)
    return _to_uint8(image.astype(np.float32) * (1 + k * (np.asarray(gain, np.float32) - 1)) + k * np.asarray(offset, np.float32))


def _translucent(image: np.ndarray, out: np.ndarray, strength: np.ndarray, family: str) -> Damage:
    mask = np.where(strength > 0.02, _visible(image, out), 0).astype(np.uint8)
    return Damage(out, mask, family, translucent=True, strength=np.clip(strength, 0, 1).astype(np.float32))


def _blot(h: int, w: int, rng: np.random.Generator, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """A ragged round blot: (distance from its centre in radii, with a wandering outline; inside 0/1)."""
    s = _scale(h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
    ecc = rng.uniform(0.75, 1.25)
    d = np.sqrt(((xx - cx) / (radius * ecc)) ** 2 + ((yy - cy) / (radius / ecc)) ** 2)
    d = d + 0.35 * (_smooth_noise(h, w, rng, max(8.0, radius * 0.6)) - 0.5) + 0.05 * (_smooth_noise(h, w, rng, 10 * s) - 0.5)
    return d, (d < 1).astype(np.float32)


def coffee(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """Coffee and tea blots: 1–3 ragged blots (radius 25–120 px at 512²) of a faint brown or orange tint that
    multiplies the photo, uneven inside, with a tide line — a narrow (2–6 px) darker ring at the edge — and
    sometimes a few splash drops."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    strength = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        radius = rng.uniform(25, 120) * s
        d, inside = _blot(h, w, rng, radius)
        body = rng.uniform(0.25, 0.6) * (0.7 + 0.3 * _smooth_noise(h, w, rng, radius * 0.5)) * inside
        rim_width = rng.uniform(2, 6) * s / radius  # in radii
        rim = rng.uniform(0.3, 0.5) * np.exp(-(((d - 1 + rim_width) / rim_width) ** 2)) * (d < 1.05)
        strength = np.maximum(strength, np.clip(body + rim, 0, 1))
    for _ in range(int(rng.integers(0, 5))):  # splash drops
        d, inside = _blot(h, w, rng, rng.uniform(3, 10) * s)
        strength = np.maximum(strength, inside * rng.uniform(0.3, 0.6))
    strength = cv2.GaussianBlur(strength, (0, 0), 0.7 * s)
    colour = np.array([rng.uniform(150, 215), rng.uniform(95, 160), rng.uniform(30, 90)], np.float32) / 255
    if rng.random() < 0.3:  # tea: lighter, more orange
        colour = np.array([rng.uniform(215, 245), rng.uniform(160, 200), rng.uniform(70, 130)], np.float32) / 255
    return _translucent(image, _tinted(image, colour, np.zeros(3), strength), strength, "coffee")


def spill(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """Heavy spills: 1–2 large dark coffee, tea or rust blots (radius 40–160 px at 512²), each a union of
    overlapping discs with splashes around it, the body taking 35–80 % of the light (blue most), darker
    towards a tide line 3–10 px wide where the liquid dried — a different generator from `coffee`, and strong
    enough to read as a blot from across the room."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    strength = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 3))):
        radius = rng.uniform(40, 160) * s
        cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h
        inside = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(3, 9))):  # overlapping discs make the outline
            r = radius * rng.uniform(0.35, 0.8)
            a, dist = rng.uniform(0, 2 * np.pi), radius * rng.uniform(0, 0.5)
            cv2.circle(inside, (round(cx + dist * np.cos(a)), round(cy + dist * np.sin(a))), max(1, round(r)), 1, -1)
        for _ in range(int(rng.integers(0, 8))):  # splashes thrown outwards
            a, dist = rng.uniform(0, 2 * np.pi), radius * rng.uniform(1.0, 1.8)
            cv2.circle(inside, (round(cx + dist * np.cos(a)), round(cy + dist * np.sin(a))),
                       max(1, round(rng.uniform(2, 9) * s)), 1, -1)
        depth = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
        rim_width = rng.uniform(3, 10) * s
        body = rng.uniform(0.35, 0.8) * (0.8 + 0.2 * _smooth_noise(h, w, rng, radius * 0.4))
        rim = np.exp(-(depth / rim_width) ** 2) * rng.uniform(0.15, 0.35)
        part = np.where(inside > 0, np.clip(body + rim, 0, 1), 0).astype(np.float32)
        strength = np.maximum(strength, part)
    strength = cv2.GaussianBlur(strength, (0, 0), rng.uniform(0.6, 2.0) * s)
    red = rng.uniform(0.55, 0.8)
    colour = np.array([red, red * rng.uniform(0.55, 0.8), red * rng.uniform(0.15, 0.4)], np.float32)
    return _translucent(image, _tinted(image, colour, np.zeros(3), strength), strength, "spill")


def water(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """Water marks: 1–2 large ragged areas (radius 50–180 px at 512²) where the print faded — lighter, less
    saturated — with a light (sometimes faintly brown) rim at the edge the water dried along."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    strength = np.zeros((h, w), np.float32)
    rims = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 3))):
        radius = rng.uniform(50, 180) * s
        d, inside = _blot(h, w, rng, radius)
        strength = np.maximum(strength, rng.uniform(0.35, 0.8) * (0.75 + 0.25 * _smooth_noise(h, w, rng, radius * 0.4)) * inside)
        rim_width = rng.uniform(2, 5) * s / radius
        rims = np.maximum(rims, np.exp(-(((d - 1 + rim_width) / rim_width) ** 2)) * (d < 1.05))
    strength = cv2.GaussianBlur(strength, (0, 0), 1.0 * s)
    rims = cv2.GaussianBlur(rims, (0, 0), 0.6 * s)
    f = image.astype(np.float32)
    grey = f @ np.array([0.299, 0.587, 0.114], np.float32)
    k = strength[..., None]
    desat, lift = rng.uniform(0.3, 0.7), rng.uniform(0.1, 0.3)
    faded = f + k * desat * (grey[..., None] - f)  # towards grey
    faded = faded + k * lift * (255 - faded)  # and lighter
    rim_colour = np.array([255, 250, 240], np.float32) if rng.random() < 0.7 else np.array([200, 170, 120], np.float32)
    r = (rims * rng.uniform(0.25, 0.5))[..., None]
    out = _to_uint8(faded * (1 - r) + r * rim_colour)
    return _translucent(image, out, np.maximum(strength, rims * 0.5), "water")


def foxing(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """Foxing: 30–300 small rust-brown spots (radius 1–7 px at 512²), soft-edged, often in clusters, each a
    multiplicative brown tint of 30–80 %."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    strength = np.zeros((h, w), np.float32)
    centres = [(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(int(rng.integers(1, 6)))]
    for _ in range(int(rng.integers(30, 300))):
        if rng.random() < 0.6:  # in a cluster
            cx, cy = centres[int(rng.integers(len(centres)))]
            x, y = cx + rng.normal(0, 40 * s), cy + rng.normal(0, 40 * s)
        else:
            x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(1, 7) * s
        x0, x1 = max(0, int(x - 3 * r) - 1), min(w, int(x + 3 * r) + 2)
        y0, y1 = max(0, int(y - 3 * r) - 1), min(h, int(y + 3 * r) + 2)
        if x0 >= x1 or y0 >= y1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        spot = rng.uniform(0.3, 0.8) * np.exp(-(((xx - x) ** 2 + (yy - y) ** 2) / (r * r)) ** 1.5)
        strength[y0:y1, x0:x1] = np.maximum(strength[y0:y1, x0:x1], spot)
    colour = np.array([rng.uniform(160, 200), rng.uniform(90, 130), rng.uniform(40, 75)], np.float32) / 255
    return _translucent(image, _tinted(image, colour, np.zeros(3), strength), strength, "foxing")


def _region_field(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth 0..1 field over part of the photo: from one edge or corner inwards, or a soft-edged patch."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.6:
        theta = rng.uniform(0, 2 * math.pi)
        proj = (xx / w - 0.5) * math.cos(theta) + (yy / h - 0.5) * math.sin(theta)
        start = rng.uniform(-0.3, 0.2)
        field = np.clip((proj - start) / rng.uniform(0.2, 0.6), 0, 1)
    else:
        d, _ = _blot(h, w, rng, rng.uniform(0.25, 0.5) * math.hypot(h, w))
        field = np.clip((1.2 - d) / 0.6, 0, 1)
    return field * (0.8 + 0.2 * _smooth_noise(h, w, rng, 0.2 * max(h, w)))


def fading(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """Fading: over part of the photo (from an edge, or a soft patch) contrast drops towards the paper colour
    (cream to white), by up to 25–55 %."""
    h, w = image.shape[:2]
    strength = _region_field(h, w, rng) * rng.uniform(0.25, 0.55)
    paper = np.array([rng.uniform(235, 255), rng.uniform(228, 250), rng.uniform(205, 240)], np.float32)
    # image·(1−k) + k·paper: gain 0, offset paper at full strength
    out = _tinted(image, np.zeros(3, np.float32), paper, strength)
    return _translucent(image, out, strength / max(float(strength.max()), 1e-6), "fading")


def yellowing(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """Yellowing: over part of the photo blue drops most, green less, with a slight warm lift of the shadows."""
    h, w = image.shape[:2]
    field = _region_field(h, w, rng)
    amount = rng.uniform(0.15, 0.4)
    gain = np.array([1.0, 1 - 0.35 * amount, 1 - amount], np.float32)
    offset = np.array([12, 8, 0], np.float32) * amount / 0.4
    out = _tinted(image, gain, offset, field)
    return _translucent(image, out, field, "yellowing")


def _tint_field(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """The training tints' strength (float32 0..1): 1–4 parts drawn from ragged blots (radius 6–160 px at
    512²), fields of small spots (radius 1–8 px), elongated streaks and bare rims; each with its own strength
    (0.15–0.75), unevenness, edge softness (sharp to 15 px) and sometimes a darker or lighter rim of 1–8 px."""
    s = _scale(h, w)
    strength = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 5))):
        kind = rng.choice(["blot", "spots", "streak", "rim"], p=[0.45, 0.3, 0.1, 0.15])
        level = rng.uniform(0.15, 0.75)
        if kind == "spots":
            part = np.zeros((h, w), np.float32)
            cx, cy, spread = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(15, 120) * s
            for _ in range(int(rng.integers(5, 120))):
                x, y = cx + rng.normal(0, spread), cy + rng.normal(0, spread)
                r = max(0.6, rng.uniform(1, 8) * s)
                cv2.circle(part, (round(x * 4), round(y * 4)), round(r * 4), float(rng.uniform(0.5, 1.0)),
                           -1, cv2.LINE_AA, shift=2)
            part = cv2.GaussianBlur(part, (0, 0), max(0.5, rng.uniform(0.3, 2.0) * s)) * level
        else:
            radius = rng.uniform(6, 160) * s
            d, inside = _blot(h, w, rng, radius)
            if kind == "streak":  # a drip or smear: the blot stretched along a random direction
                d, inside = _blot(h, w, rng, radius * 0.5)
                angle = rng.uniform(0, 180)
                centre = (w / 2, h / 2)
                m = cv2.getRotationMatrix2D(centre, angle, 1.0)
                m[:, :2] *= np.array([[1 / rng.uniform(2, 5)], [1.0]])
                inside = cv2.warpAffine(inside, m, (w, h), flags=cv2.INTER_LINEAR)
            soft = rng.uniform(0.3, 15) * s if rng.random() < 0.6 else 0.5 * s
            part = cv2.GaussianBlur(inside, (0, 0), max(0.5, soft))
            part = part * (rng.uniform(0.5, 1.0) + rng.uniform(0, 0.5) * _smooth_noise(h, w, rng, max(8.0, radius * 0.5)))
            if kind == "rim" or rng.random() < 0.4:
                width = rng.uniform(1, 8) * s / max(radius, 1.0)
                rim = np.exp(-(((d - 1 + width) / width) ** 2)) * (d < 1.05)
                part = rim if kind == "rim" else part + rng.uniform(-0.3, 0.6) * rim
            part = np.clip(part, 0, 1.2) * level
        strength = np.maximum(strength, part.astype(np.float32))
    return np.clip(strength, 0, 1)


def tint_blots(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """Training variety for the stain network (not one of the report's families, so that coffee, water and
    foxing stay unseen by it): one darkening tint — mostly warm (brown, orange, yellow, rust), sometimes any
    hue — over 1–4 parts drawn from ragged blots (radius 6–160 px at 512²), fields of small spots (radius
    1–8 px), elongated streaks and bare rims; each with its own strength (0.15–0.75), unevenness, edge softness
    (sharp to 15 px) and sometimes a darker or lighter rim of 1–8 px."""
    h, w = image.shape[:2]
    strength = _tint_field(h, w, rng)
    colour = np.ones(3, np.float32)
    while colour.min() > 0.65:  # a tint that shows: some channel loses a third of its light at full strength
        if rng.random() < 0.85:  # warm: red absorbed least, blue most
            r = rng.uniform(0.5, 0.97)
            g = r * rng.uniform(0.5, 0.92)
            colour = np.array([r, g, g * rng.uniform(0.2, 0.85)], np.float32)
        else:
            colour = rng.uniform(0.3, 0.95, 3).astype(np.float32)
    offset = rng.uniform(-10, 10, 3).astype(np.float32) if rng.random() < 0.3 else np.zeros(3, np.float32)
    return _translucent(image, _tinted(image, colour, offset, strength), strength, "tint")


def lift_blots(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """Training variety for the stain network's correction (not a report family: water and fading stay unseen):
    the training tints' blots, spots, streaks and rims, but lightening — the print faded towards a paper colour
    (10–45 %) and lost some of its colour (0–70 %)."""
    h, w = image.shape[:2]
    strength = _tint_field(h, w, rng)
    f = image.astype(np.float32)
    grey = f @ np.array([0.299, 0.587, 0.114], np.float32)
    k = strength[..., None]
    paper = np.array([255, rng.uniform(235, 255), rng.uniform(210, 255)], np.float32)
    out = f + k * rng.uniform(0, 0.7) * (grey[..., None] - f)
    out = out + k * rng.uniform(0.1, 0.45) * (paper - out)
    return _translucent(image, _to_uint8(out), strength, "lift")


def speck_tints(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
    """Training variety for the stain network (not a report family: foxing stays unseen): many small darkening
    specks — 10–400 soft round or oval dots (radius 0.7–10 px at 512²), scattered or in 1–4 clouds, sharp or
    blurred, each its own strength (0.2–0.9) — of one warm tint with a little colour drift from speck to speck."""
    h, w = image.shape[:2]
    s = _scale(h, w)
    strength = np.zeros((h, w), np.float32)
    clouds = [(rng.uniform(0, w), rng.uniform(0, h), rng.uniform(10, 150) * s) for _ in range(int(rng.integers(1, 5)))]
    scattered = rng.uniform(0, 1)
    blur = rng.uniform(0.3, 2.5) * s
    r_low, r_high = sorted(rng.uniform(0.7, 10, 2))
    for _ in range(int(rng.integers(10, 400))):
        if rng.random() < scattered:
            x, y = rng.uniform(0, w), rng.uniform(0, h)
        else:
            cx, cy, spread = clouds[int(rng.integers(len(clouds)))]
            x, y = cx + rng.normal(0, spread), cy + rng.normal(0, spread)
        r = max(0.6, rng.uniform(r_low, r_high) * s)
        axes = (max(1, round(r * 4 * rng.uniform(0.6, 1.4))), max(1, round(r * 4 * rng.uniform(0.6, 1.4))))
        cv2.ellipse(strength, (round(x * 4), round(y * 4)), axes, float(rng.uniform(0, 180)), 0, 360,
                    float(rng.uniform(0.2, 0.9)), -1, cv2.LINE_AA, shift=2)
    strength = np.clip(cv2.GaussianBlur(strength, (0, 0), max(0.4, blur)) * rng.uniform(1.0, 1.6), 0, 1)
    r = rng.uniform(0.5, 0.9)
    g = r * rng.uniform(0.45, 0.9)
    colour = np.array([r, g, g * rng.uniform(0.2, 0.8)], np.float32)
    drift = 1 + 0.15 * (np.stack([_smooth_noise(h, w, rng, 40 * s) for _ in range(3)], -1) - 0.5)
    gain = np.clip(colour * drift, 0.05, 1).astype(np.float32)
    return _translucent(image, _tinted(image, gain, np.zeros(3), strength), strength, "specks")


# --- the old core.synthesis kinds, as families ------------------------------------------------------------


def _legacy(kind: str, translucent: bool = False) -> DrawFn:
    def draw(image: np.ndarray, rng: np.random.Generator, source: np.ndarray | None = None) -> Damage:
        if kind == "contamination" and source is None:
            source = image[::-1, ::-1]
        d = synthesis.synthesize_damage(image, rng, kind, noise_source=source)
        strength = d.alpha.astype(np.float32) if translucent and d.alpha is not None else None
        return Damage(d.image, d.mask, kind, translucent=translucent, strength=strength)

    draw.__doc__ = f"core.synthesis '{kind}' damage"
    return draw


_ALL = (
    Family("contamination", "contamination", False, True, True, _legacy("contamination"), "VCNet: another photo through soft strokes"),
    Family("scratch", "scratch", False, True, False, _legacy("scratch"), "1–3 px bright or dark film scratches"),
    Family("stain", "stain", True, True, False, _legacy("stain", translucent=True), "semi-opaque brown stains with a ring"),
    Family("ink", "contamination", False, True, False, _legacy("ink"), "dark pen strokes and ink spots"),
    Family("graffiti", "contamination", False, True, False, _legacy("graffiti"), "saturated spray strokes, scribbles"),
    Family("hairline", "scratch", False, False, False, hairlines, "1–8 px scratches in any colour, broken"),
    Family("dust", "scratch", False, False, False, dust, "dust specks, fibres, film grain"),
    Family("paste", "contamination", False, False, True, paste, "pasted patches, soft edges, blend modes"),
    Family("text", "contamination", False, False, False, text, "captions and date stamps"),
    Family("watermark", "contamination", False, False, False, watermark, "see-through tiled lettering"),
    Family("coffee", "stain", True, False, False, coffee, "coffee and tea blots with tide lines"),
    Family("water", "stain", True, False, False, water, "faded, desaturated water marks, light rim"),
    Family("foxing", "stain", True, False, False, foxing, "many small rust-brown spots"),
    Family("fading", "stain", True, False, False, fading, "contrast loss towards the paper colour"),
    Family("yellowing", "stain", True, False, False, yellowing, "a yellow cast over part of the photo"),
    Family("spill", "stain", True, False, False, spill, "heavy dark coffee or rust spills with splashes"),
    Family("worn", "scratch", False, False, False, worn, "many 2–5 px ink, white or grey scratches and blotches"),
)
FAMILIES: dict[str, Family] = {f.name: f for f in _ALL}
SEEN = tuple(f.name for f in _ALL if f.seen)
UNSEEN = tuple(f.name for f in _ALL if not f.seen)


def check_families(names: Iterable[str]) -> list[str]:
    """The names as a list, or ValueError naming the unknown ones and the known families."""
    names = list(names)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown damage famil{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)} "
                         f"(known: {', '.join(FAMILIES)})")
    return names


def draw_damage(image: np.ndarray, rng: np.random.Generator, family: str, source: np.ndarray | None = None) -> Damage:
    """Damage `image` (RGB uint8) with the named family; `source` is another photo for the pasting families."""
    synthesis._check_image(image)
    check_families([family])
    if source is not None:
        synthesis._check_image(source)
    return FAMILIES[family].draw(image, rng, source)


def families_except(held_out: Iterable[str] = ()) -> list[str]:
    """Every family's name except the held-out ones (ValueError on an unknown name or when none is left)."""
    out = set(check_families(held_out))
    left = [n for n in FAMILIES if n not in out]
    if not left:
        raise ValueError("every damage family is held out: nothing left to draw from")
    return left


def draw_except(image: np.ndarray, rng: np.random.Generator, held_out: Iterable[str] = (),
                source: np.ndarray | None = None) -> Damage:
    """Damage from a family drawn uniformly among all but the held-out ones."""
    names = families_except(held_out)
    return draw_damage(image, rng, names[int(rng.integers(len(names)))], source)
