"""Original vs Crop high-resolution strategy on a synthetic 12-megapixel photo with a ~3 % hole.

Crop should cost about what the hole costs. Two fills are timed, each Original vs Crop in the same run
(median of N): OpenCV Telea, whose own cost already follows the hole (fast marching visits hole pixels),
so Crop saves only Telea's whole-image overhead; and a stand-in for a network, whose cost follows the
pixels it is given (a fixed stack of whole-image filters), where Crop's time ratio should approach the
fraction of the image its crops cover.

    .venv/bin/python benchmarks/bench_hd_strategy.py [--size 4000x3000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np

from inpaint_studio.core.hd import HDConfig, HDStrategy, apply_hd_strategy, plan_crops


def synthetic_photo(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth multi-scale noise over colour gradients: photo-like statistics, no downloads."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([xx / w * 180 + 40, yy / h * 150 + 50, (xx + yy) / (w + h) * 120 + 60], -1)
    for cell, amp in ((400, 50), (60, 25), (8, 10)):
        coarse = rng.normal(0, 1, (h // cell + 2, w // cell + 2, 3)).astype(np.float32)
        base += amp * cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(base, 0, 255).astype(np.uint8)


def blob_mask(h: int, w: int, rng: np.random.Generator, target: float = 0.03, blobs: int = 5) -> np.ndarray:
    """A few elliptical blobs totalling about `target` of the image."""
    mask = np.zeros((h, w), np.uint8)
    area_each = target * h * w / blobs
    for _ in range(blobs):
        a = np.sqrt(area_each / np.pi) * rng.uniform(0.7, 1.4)
        b = area_each / (np.pi * a)
        centre = (int(rng.uniform(0.1, 0.9) * w), int(rng.uniform(0.1, 0.9) * h))
        cv2.ellipse(mask, centre, (int(a), int(b)), rng.uniform(0, 180), 0, 360, 255, -1)
    return mask


def telea_fill(image: np.ndarray, mask: np.ndarray, edges: np.ndarray | None, progress: object = None) -> np.ndarray:
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    return cv2.cvtColor(cv2.inpaint(bgr, mask, 5, cv2.INPAINT_TELEA), cv2.COLOR_BGR2RGB)


def per_pixel_fill(image: np.ndarray, mask: np.ndarray, edges: np.ndarray | None, progress: object = None) -> np.ndarray:
    """Network stand-in: cost proportional to input area (a network's convolutions), not to the hole."""
    x = image.astype(np.float32)
    for _ in range(6):
        x = cv2.GaussianBlur(x, (0, 0), 3.0)
    return np.clip(x, 0, 255).astype(np.uint8)


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="4000x3000", help="WxH of the synthetic photo")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--margin", type=int, default=HDConfig().crop_margin)
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    rng = np.random.default_rng(0)
    image = synthetic_photo(h, w, rng)
    mask = blob_mask(h, w, rng)

    # resize_limit above the long side: the crops are filled at full resolution, like Original.
    limit = max(h, w) + 1
    original = HDConfig(strategy=HDStrategy.ORIGINAL, resize_limit=limit)
    crop = HDConfig(strategy=HDStrategy.CROP, resize_limit=limit, crop_margin=args.margin)
    boxes = plan_crops(mask, args.margin)
    crop_area = sum(b.width * b.height for b in boxes) / (h * w)
    hole = np.count_nonzero(mask) / (h * w)

    print(f"image {w}x{h} ({w * h / 1e6:.1f} MP), median of {args.repeats}")
    print(f"hole pixels / total            {hole:.4f}")
    print(f"crops: {len(boxes)}, crop area / total {crop_area:.4f} (margin {args.margin})")
    for name, fill in (("OpenCV Telea r=5", telea_fill), ("per-pixel stand-in", per_pixel_fill)):
        out_o = apply_hd_strategy(image, mask, fill, config=original)
        out_c = apply_hd_strategy(image, mask, fill, config=crop)
        t_original = median_time(lambda f=fill: apply_hd_strategy(image, mask, f, config=original), args.repeats)
        t_crop = median_time(lambda f=fill: apply_hd_strategy(image, mask, f, config=crop), args.repeats)
        known = mask == 0
        same = bool((out_o[known] == image[known]).all() and (out_c[known] == image[known]).all())
        print(f"-- fill: {name}")
        print(f"original                       {t_original:.3f} s")
        print(f"crop                           {t_crop:.3f} s")
        print(f"crop / original time           {t_crop / t_original:.4f}")
        print(f"outside-mask identical         {same}")
        if fill is telea_fill:
            diff = np.abs(out_o.astype(int) - out_c.astype(int))[mask > 0].mean()
            print(f"mean |original - crop| in hole {diff:.2f} grey levels")


if __name__ == "__main__":
    main()
