"""Training samples for a texture-fusion stage: a learned fill and PatchMatch's fill of the same hole.

A fusion network (`networks.texture_fusion`) learns, per pixel, how much of a learned fill's colour and how much of
PatchMatch's to keep; PatchMatch's fine detail is added on top. Both fills are costly (PatchMatch ~0.5 s at 256² on
one core), so they are computed once per sample and kept: one compressed `.npz` per sample holding `truth`, `mask`,
`patchmatch` and one array per learned method (`fill_<method>`), all uint8 at the crop's size. Sample `k` is fully
determined by (seed, k): a stopped run resumes where it left off, and a method added later fills in only its array.

Crops come from training photos only (the photo set's train split or a user's folder); holes from several of
`core.synthesis`'s generators, so the fusion does not learn one hole shape.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from inpaint_studio.core import synthesis
from inpaint_studio.core.atomic import atomic_write_bytes
from inpaint_studio.core.imageio import load_rgb

MaskDraw = Callable[[int, int, np.random.Generator], np.ndarray]
HOLE_RANGES = ((0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5))


def draw_hole(size: int, rng: np.random.Generator) -> np.ndarray:
    """One hole of a random family: free-form strokes in a ratio range, boxes, DeepFill's training masks."""
    kind = int(rng.integers(6))
    if kind < 3:
        return synthesis.bucketed_mask(size, size, HOLE_RANGES[int(rng.integers(len(HOLE_RANGES)))], rng)
    if kind == 3:
        return synthesis.random_box_mask(size, size, rng)
    if kind == 4:
        return synthesis.deepfill_training_mask(size, size, rng)
    return synthesis.bucketed_mask(size, size, (0.15, 0.4), rng, kind="vcnet")


def random_crop(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Scale the short side to a random 1–1.6 × `size` (detail at several scales), then a random square crop."""
    h, w = image.shape[:2]
    short = size * float(rng.uniform(1.0, 1.6))
    scale = short / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    image = cv2.resize(image, (nw, nh), interpolation=interp)
    y0, x0 = int(rng.integers(nh - size + 1)), int(rng.integers(nw - size + 1))
    return np.ascontiguousarray(image[y0 : y0 + size, x0 : x0 + size])


def sample_path(folder: Path, index: int) -> Path:
    return folder / f"sample_{index:05d}.npz"


def read_sample(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _write_sample(path: Path, arrays: dict[str, np.ndarray]) -> None:
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def make_samples(photos: Sequence[Path], methods: Sequence[str], folder: Path, count: int, *, size: int = 256,
                 seed: int = 0, progress: Callable[[int, float], None] | None = None) -> int:
    """Write samples 0 … count−1 that are missing (or lack a method's fill) into `folder`; returns how many were
    written. Each method is a `--model` reference (`deepfill_v2`, `edgeconnect:NAME`, …)."""
    from inpaint_studio.engine.base import create_method
    from inpaint_studio.engine.manager import ModelManager
    from inpaint_studio.engine.named_checkpoints import resolve_model

    if not photos:
        raise ValueError("no training photos")
    folder.mkdir(parents=True, exist_ok=True)
    manager = ModelManager()
    patchmatch = create_method("patchmatch")
    active = ""
    written = 0
    started = time.perf_counter()
    for index in range(count):
        path = sample_path(folder, index)
        arrays = read_sample(path) if path.exists() else {}
        missing = [m for m in methods if f"fill_{m}" not in arrays]
        if arrays and not missing:
            continue
        rng = np.random.default_rng([seed, index])
        photo = photos[int(rng.integers(len(photos)))]
        truth = random_crop(load_rgb(photo), size, rng)
        mask = draw_hole(size, rng)
        if not arrays:
            arrays = {"truth": truth, "mask": mask, "patchmatch": patchmatch.inpaint(truth, mask)}
        for method in missing:
            if method != active:
                choice = resolve_model(method)
                manager.activate(choice.method, load=True, **choice.options())
                active = method
            arrays[f"fill_{method}"] = manager.run(truth, mask, None)
        _write_sample(path, arrays)
        written += 1
        if progress is not None:
            progress(index + 1, time.perf_counter() - started)
    return written


def run(args: argparse.Namespace) -> int:
    import torch

    from inpaint_studio.engine.named_checkpoints import resolve_model
    from trainer.data import photo_files

    torch.set_num_threads(max(1, args.threads))
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for method in methods:
        resolve_model(method)  # an unknown name is one plain line before any work
    photos = photo_files(args.photos, args.split)

    def progress(done: int, seconds: float) -> None:
        print(f"\rsample {done}/{args.count} ({seconds:.0f} s)", end="", file=sys.stderr, flush=True)

    written = make_samples(photos, methods, args.out, args.count, size=args.size, seed=args.seed,
                           progress=progress)
    print(f"\n{written} samples written to {args.out}", file=sys.stderr)
    return 0
