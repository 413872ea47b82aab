"""PatchMatch next to Telea at 256², 1 MP and 12 MP (the 12 MP photo under the crop strategy), in one run.

Both go through the engine's ModelManager as the app and the CLI run them. Printed: seconds (median of N) and
PatchMatch's time as a ratio of Telea's measured in the same run (absolute times depend on the machine and
its load; the ratio much less). Photos: the bundled sample scaled up (256² crop, 1 MP, 12 MP); holes: free-form
strokes of 20–30 % at 256² and 1 MP, and a few blobs totalling ~3 % at 12 MP (an object removed from a large
photo), the same for both methods.

    .venv/bin/python benchmarks/bench_patchmatch.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np
from bench_hd_strategy import blob_mask

from inpaint_studio.core.hd import HDConfig, HDStrategy
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.paths import SAMPLES_DIR
from inpaint_studio.core.synthesis import bucketed_mask
from inpaint_studio.engine.manager import ModelManager

CASES = [("256²", (256, 256), HDStrategy.ORIGINAL), ("1 MP", (1000, 1000), HDStrategy.ORIGINAL),
         ("12 MP", (3000, 4000), HDStrategy.CROP)]


def case(size: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    h, w = size
    photo = cv2.resize(load_rgb(SAMPLES_DIR / "astronaut.png"), (w, h), interpolation=cv2.INTER_CUBIC)
    if h * w > 2_000_000:
        return photo, blob_mask(h, w, rng)
    return photo, bucketed_mask(h, w, (0.2, 0.3), rng)


def timed(method: str, image: np.ndarray, mask: np.ndarray, strategy: HDStrategy, repeats: int) -> float:
    manager = ModelManager(hd_config=HDConfig(strategy=strategy))
    manager.activate(method, load=True)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        manager.run(image, mask)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'size':<6} {'strategy':<9} {'hole':>6} {'telea s':>8} {'patchmatch s':>13} {'ratio':>7}")
    for label, size, strategy in CASES:
        image, mask = case(size, rng)
        telea = timed("telea", image, mask, strategy, args.repeats)
        patch = timed("patchmatch", image, mask, strategy, args.repeats)
        print(f"{label:<6} {strategy.value:<9} {(mask > 0).mean():>6.1%} {telea:>8.2f} {patch:>13.2f} {patch / telea:>6.0f}×")


if __name__ == "__main__":
    main()
