"""A shipped checkpoint carries the numbers it gave on one bundled photo, so anyone (and the test suite) can
check that the weights in models/ load through the engine and still produce what was recorded.

The recorded block is a top-level field of the checkpoint JSON:

    "sample_check": {"image": "chelsea.png", "size": 256, "bucket": [0.2, 0.3], "seed": 0,
                     "l1_hole": 17.3, "psnr_hole": 21.0, "ssim_hole": 0.41}

The photo comes from resources/samples, is prepared exactly as `evaluate` prepares photos (short side scaled to
`size`, centre crop) and gets the generated free-form hole of `bucket` that `evaluate` would give it. A method
that predicts masks (VCNet) also records `mask_iou` and `blind_psnr` on the same photo contaminated (seeded)
with patches of a second bundled photo, so a broken mask network or blind setting cannot ship either.

    .venv/bin/python -m inpaint_studio.engine.sample_check models/NAME.json            # check
    .venv/bin/python -m inpaint_studio.engine.sample_check --record models/NAME.json   # measure and record
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.paths import SAMPLES_DIR

SAMPLE_IMAGE = "chelsea.png"
KEY = "sample_check"
# Allowed drift between the machine that recorded and the one that checks (BLAS, CPU vs GPU, float16).
TOLERANCE: dict[str, float] = {"l1_hole": 0.5, "psnr_hole": 0.3, "ssim_hole": 0.01, "mask_iou": 0.03,
                                "blind_psnr": 0.3}
FILL_KEYS = ("l1_hole", "psnr_hole", "ssim_hole")  # every checkpoint; the others only where measured
DAMAGE_SOURCE = "coffee.png"  # the photo whose patches contaminate the sample for the blind check


def measure(
    checkpoint: str | Path,
    *,
    image: str = SAMPLE_IMAGE,
    size: int = 256,
    bucket: tuple[float, float] = (0.2, 0.3),
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, Any]:
    """Load `checkpoint` through the engine (its JSON names the method), fill the sample's hole and score it."""
    import numpy as np

    from inpaint_studio.core.imageio import load_rgb
    from inpaint_studio.core.metrics import image_metrics, iou, psnr
    from inpaint_studio.core.synthesis import synthesize_damage
    from inpaint_studio.engine.base import create_method
    from inpaint_studio.engine.checkpoints import checkpoint_files, read_metadata
    from inpaint_studio.engine.evaluate import generated_mask, prepare

    st_path, _ = checkpoint_files(checkpoint)
    meta = read_metadata(st_path)
    method = create_method(meta["method"], checkpoint=st_path, device=device)
    method.load()
    photo = prepare(load_rgb(SAMPLES_DIR / image), size)
    mask = generated_mask(size, tuple(bucket), seed, image, 0)
    blind: dict[str, float] = {}
    try:
        filled = method.inpaint(photo, mask)
        if method.capabilities.predicts_mask:
            other = prepare(load_rgb(SAMPLES_DIR / DAMAGE_SOURCE), size)
            damage = synthesize_damage(photo, np.random.default_rng(seed), "contamination", noise_source=other)
            blind["mask_iou"] = iou(method.predict_mask(damage.image).mask, damage.mask)
            blind["blind_psnr"] = psnr(method.inpaint(damage.image), photo)
    finally:
        method.unload()
    scores = {**image_metrics(filled, photo, mask), **blind}
    return {
        "image": image,
        "size": size,
        "bucket": list(bucket),
        "seed": seed,
        **{k: round(float(scores[k]), 4) for k in TOLERANCE if k in scores},
    }


def recorded(checkpoint: str | Path) -> dict[str, Any] | None:
    from inpaint_studio.engine.checkpoints import read_metadata

    block = read_metadata(checkpoint).get(KEY)
    return block if isinstance(block, dict) else None


def check(checkpoint: str | Path, *, device: str = "cpu", tolerance: Mapping[str, float] | None = None) -> list[str]:
    """Problems found (empty = the checkpoint reproduces its recorded numbers), one line each."""
    tol = {**TOLERANCE, **(tolerance or {})}
    name = Path(checkpoint).name
    block = recorded(checkpoint)
    if block is None:
        return [f"{name}: no '{KEY}' recorded (run `python -m inpaint_studio.engine.sample_check --record`)"]
    try:
        got = measure(
            checkpoint,
            image=str(block.get("image", SAMPLE_IMAGE)),
            size=int(block.get("size", 256)),
            bucket=tuple(block.get("bucket", (0.2, 0.3))),
            seed=int(block.get("seed", 0)),
            device=device,
        )
    except (InpaintStudioError, OSError, ValueError, TypeError) as exc:
        return [f"{name}: cannot be measured: {exc}"]
    problems = []
    for key, allowed in tol.items():
        if key not in got and key not in FILL_KEYS:
            continue  # not measured for this kind of method
        want = block.get(key)
        if not isinstance(want, int | float):
            problems.append(f"{name}: recorded {key} is missing")
        elif not (math.isfinite(got[key]) and abs(got[key] - want) <= allowed):
            problems.append(f"{name}: {key} is {got[key]:.4f}, recorded {want:.4f} (tolerance {allowed})")
    return problems


def record(checkpoint: str | Path, *, device: str = "cpu", **settings: Any) -> dict[str, Any]:
    """Measure and write the block into the checkpoint's JSON (atomically); returns it."""
    from inpaint_studio.engine.checkpoints import update_metadata

    block = measure(checkpoint, device=device, **settings)
    update_metadata(checkpoint, lambda doc: doc.update({KEY: block}))
    return block


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m inpaint_studio.engine.sample_check", description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoints", nargs="+", type=Path)
    ap.add_argument("--record", action="store_true", help="measure and write the numbers into each JSON")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    failed = 0
    for path in args.checkpoints:
        try:
            if args.record:
                print(f"{path}: recorded {record(path, device=args.device)}")
                continue
            problems = check(path, device=args.device)
        except InpaintStudioError as exc:
            problems = [f"{path}: {exc}"]
        for line in problems:
            print(line, file=sys.stderr)
        failed += bool(problems)
        if not problems:
            print(f"{path}: matches its recorded numbers")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
