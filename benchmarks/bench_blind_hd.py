"""A blind run (classical_restore, no mask) on a 12-megapixel photo: the HD strategy vs the whole photo.

The bundled coffee photo enlarged to 4000×3000 with twelve 3-px white scratches drawn on it (the clean
enlargement is the truth). `original` is how blind runs went before they followed the HD strategy: damage looked
for and filled on the whole photo. `auto` looks for it on a copy at the strategy's resize limit (1024 px) and
fills the hole found like a painted one (crops around it, or a resize) at full resolution. Both in the same run,
median of N; PSNR against the clean photo on the scratches and on the whole photo.

    .venv/bin/python benchmarks/bench_blind_hd.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np

from inpaint_studio.core.hd import HDConfig, HDStrategy
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.paths import SAMPLES_DIR
from inpaint_studio.engine.manager import ModelManager


def scratched_photo(w: int = 4000, h: int = 3000, scratches: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(damaged, clean, scratch mask)."""
    clean = cv2.resize(load_rgb(SAMPLES_DIR / "coffee.png"), (w, h), interpolation=cv2.INTER_CUBIC)
    damaged, truth = clean.copy(), np.zeros((h, w), np.uint8)
    rng = np.random.default_rng(0)
    for _ in range(scratches):
        x0, y0, x1, y1 = (int(v) for v in rng.integers(0, [w, h, w, h]))
        cv2.line(damaged, (x0, y0), (x1, y1), (250, 250, 250), 3)
        cv2.line(truth, (x0, y0), (x1, y1), 255, 3)
    return damaged, clean, truth


def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    err = ((a[where].astype(np.float64) - b[where].astype(np.float64)) ** 2).mean()
    return float(10 * np.log10(255.0**2 / err))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    damaged, clean, truth = scratched_photo()
    everywhere = np.ones(truth.shape, bool)
    print(f"photo {damaged.shape[1]}x{damaged.shape[0]}, median of {args.repeats}")
    print(f"damaged input       PSNR scratches {psnr(damaged, clean, truth > 0):6.2f}  whole {psnr(damaged, clean, everywhere):6.2f}")
    manager = ModelManager(device="cpu")
    manager.activate("classical_restore")
    times = {}
    for strategy in (HDStrategy.ORIGINAL, HDStrategy.AUTO):
        config = HDConfig(strategy=strategy)
        spent = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            out = manager.run(damaged, None, hd_config=config)
            spent.append(time.perf_counter() - t0)
        times[strategy] = statistics.median(spent)
        changed = (out != damaged).any(axis=2).mean()
        print(f"{strategy.value:<9} {times[strategy]:7.2f} s  PSNR scratches {psnr(out, clean, truth > 0):6.2f}  "
              f"whole {psnr(out, clean, everywhere):6.2f}  pixels changed {changed:.4f}")
    print(f"auto / original time {times[HDStrategy.AUTO] / times[HDStrategy.ORIGINAL]:.3f}")


if __name__ == "__main__":
    main()
