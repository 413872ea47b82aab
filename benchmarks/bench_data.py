"""Training-sample preparation with and without the decoded-photo cache (`cache_mb`): milliseconds per sample
for each recipe's data (DeepFill v2 masks, EdgeConnect masks + Canny edges, VCNet contamination), the cached
figure printed as a ratio to the uncached one measured in the same run.

    .venv/bin/python benchmarks/bench_data.py [--size 128] [--samples 48]

Uses the fetched photo set (python -m trainer fetch-photos), else photos written by trainer.toydata. The cached
pass runs after one warm-up epoch has filled the cache, as every epoch after the first does.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from inpaint_studio.core.paths import user_cache_dir
from trainer.data import InpaintingDataset, synthetic_mask_fn
from trainer.toydata import write_toy_images

CASES = {
    "deepfill_v2": {"mask_fn": synthetic_mask_fn("deepfill")},
    "edgeconnect": {"mask_fn": synthetic_mask_fn("free_form"), "edges": True},
    "vcnet": {"damage": ["contamination"]},
}


def per_sample_ms(ds: InpaintingDataset, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        ds[i % len(ds)]
    return (time.perf_counter() - start) / n * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--samples", type=int, default=48)
    args = ap.parse_args()
    folder = user_cache_dir() / "photos" / "train"
    if not folder.is_dir():
        folder = Path(tempfile.mkdtemp()) / "photos"
        write_toy_images(folder, 64, size=(512, 680))
        print(f"photo set not fetched: {folder} (toy photos)")
    for name, kw in CASES.items():
        plain = InpaintingDataset(folder, args.size, cache_mb=0, **kw)
        cached = InpaintingDataset(folder, args.size, cache_mb=4096, **kw)
        n = min(args.samples, len(plain))
        for i in range(n):  # the first epoch fills the cache
            cached[i]
        cached.set_epoch(1)
        plain.set_epoch(1)
        base = per_sample_ms(plain, n)
        fast = per_sample_ms(cached, n)
        print(f"{name:12s} {args.size}²: decode every time {base:6.1f} ms/sample, cached {fast:6.1f} ms/sample "
              f"(ratio {fast / base:.2f})")


if __name__ == "__main__":
    main()
