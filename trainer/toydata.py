"""Generated photo-like images for tests, smoke runs and benchmarks (no download, no shipped data):
smooth two-colour gradients with soft shapes and a stripe texture, so a network can learn to continue them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def flat_image(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """One colour with a gentle gradient: the easiest fill there is (continue the surrounding colour)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    colour = rng.uniform(30, 225, 3)
    slope = rng.uniform(-20, 20, 3)
    img = colour[None, None] + slope[None, None] * (xx / w - 0.5)[..., None]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def toy_image(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    t = (np.cos(angle) * xx / w + np.sin(angle) * yy / h + 1) / 2
    c0, c1 = rng.uniform(20, 235, 3), rng.uniform(20, 235, 3)
    img = c0[None, None] * (1 - t[..., None]) + c1[None, None] * t[..., None]
    period = rng.uniform(6, 16)
    img += 12 * np.sin(2 * np.pi * (xx * np.cos(angle + 1) + yy * np.sin(angle + 1)) / period)[..., None]
    for _ in range(int(rng.integers(1, 4))):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(w // 10, w // 3)), int(rng.integers(h // 10, h // 3)))
        layer = np.zeros((h, w), np.float32)
        cv2.ellipse(layer, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        layer = cv2.GaussianBlur(layer, (0, 0), 2.0)[..., None]
        img = img * (1 - layer) + rng.uniform(0, 255, 3)[None, None] * layer
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def write_toy_images(folder: Path, count: int, size: tuple[int, int] = (96, 128), seed: int = 0,
                     suffix: str = ".png", flat: bool = False) -> list[Path]:
    """`count` toy images of size (h, w) in `folder` (`flat`: single colours); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = folder / f"toy_{i:04d}{suffix}"
        Image.fromarray((flat_image if flat else toy_image)(size[0], size[1], rng)).save(path)
        paths.append(path)
    return paths
