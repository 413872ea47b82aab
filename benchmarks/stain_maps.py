"""The stain network's map alone: what VCNet's tint removal does with the stains it confirms (no opaque fill),
on whole photos, for several thresholds and small-stain areas — the settings an export chooses from.

    .venv/bin/python benchmarks/stain_maps.py [--checkpoint models/vcnet-small.safetensors]
        [--stain-run models/training/stain-hard] [--split val|unseen] [--photos DIR] [--limit 16]
        [--size 512] [--thresholds 0.7,0.8,0.9] [--small-areas 0,400] [--families coffee,foxing,stain,water]

Per setting and family: the mean PSNR gain over the damaged photo (worst photo in brackets) and on how many
photos anything changed ("hit"); for the clean photos (capped at 60 dB, so any change costs) how many changed.
`--stain-run` measures another stain run's network inside the same checkpoint (its own threshold and small
area are what the table varies). A correcting (five-output) network restores by its own correction: the table
then varies `--min-changes` (`blind.stains.min_change`: the least 90th-percentile change, in grey levels, a
corrected region must show) and ignores the thresholds and small areas. Photos: `--limit` spread evenly over the photo set's `--split` (`unseen`: the
photo source held out of training), or every photo of `--photos`. Each family's damage is drawn with the same
seed per photo, so settings and runs compare photo for photo.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.metrics import psnr
from inpaint_studio.core.tint import remove_tint
from inpaint_studio.engine.evaluate import prepare
from trainer.blind_choice import CLEAN_CAP
from trainer.stain import draw_family

DEFAULT_FAMILIES = ("coffee", "foxing", "stain", "water")


def spread(files: list[Path], limit: int) -> list[Path]:
    """`limit` files spread evenly over the sorted list (the photo set's sources are grouped by name)."""
    return files[:: max(1, len(files) // limit)][:limit] if limit else files


def _cases(photos: list[np.ndarray], families: tuple[str, ...]):
    """(family or "clean", damaged photo, clean photo, its PSNR capped at CLEAN_CAP): each family drawn with the
    same seed per photo, so settings and runs compare photo for photo."""
    for family in ("clean", *families):
        for i, clean in enumerate(photos):
            image = clean if family == "clean" else draw_family(clean, np.random.default_rng([7, i]), family).image
            yield family, image, clean, min(CLEAN_CAP, psnr(image, clean))


def measure(method, photos: list[np.ndarray], families: tuple[str, ...], thresholds: list[float],
            small_areas: list[float]) -> dict[tuple[float, float, str], list[tuple[float, bool]]]:
    """(threshold, small area, family or "clean") → per photo (PSNR gain capped at CLEAN_CAP, changed?)."""
    stains = method.meta.setdefault("blind", {}).setdefault("stains", {})
    out: dict[tuple[float, float, str], list[tuple[float, bool]]] = {}
    for family, image, clean, before in _cases(photos, families):
        for t in thresholds:
            for area in small_areas:
                stains["threshold"], stains["small_area"] = t, area
                found, fit = method.stains_and_tint(image, None)
                restored = image if fit is None else remove_tint(image, found, fit)
                gain = min(CLEAN_CAP, psnr(restored, clean)) - before
                out.setdefault((t, area, family), []).append((gain, bool((restored != image).any())))
    return out


def measure_correction(method, photos: list[np.ndarray], families: tuple[str, ...],
                       min_changes: list[float]) -> dict[tuple[float, float, str], list[tuple[float, bool]]]:
    """For a correcting stain network: (min change, 0, family or "clean") → per photo (PSNR gain, changed?)."""
    stains = method.meta.setdefault("blind", {}).setdefault("stains", {})
    out: dict[tuple[float, float, str], list[tuple[float, bool]]] = {}
    for family, image, clean, before in _cases(photos, families):
        for least in min_changes:
            stains["min_change"] = least
            restored = np.clip(np.rint(image + method.stain_change(image)), 0, 255).astype(np.uint8)
            gain = min(CLEAN_CAP, psnr(restored, clean)) - before
            out.setdefault((least, 0.0, family), []).append((gain, bool((restored != image).any())))
    return out


def table(results: dict[tuple[float, float, str], list[tuple[float, bool]]], families: tuple[str, ...],
          setting: str = "threshold | small area (px)") -> str:
    settings = sorted({(t, a) for t, a, _ in results})
    n = len(next(iter(results.values())))
    lines = [f"| {setting} | clean photos changed (of {n}) | "
             + " | ".join(f"{f}: gain (worst), hit" for f in families) + " |",
             "|---|---|---|" + "---|" * len(families)]
    for t, a in settings:
        clean = results[(t, a, "clean")]
        cells = [f"{sum(c for _, c in clean)} ({np.mean([g for g, _ in clean]):+.2f} dB)"]
        for f in families:
            rows = results[(t, a, f)]
            gains = [g for g, _ in rows]
            cells.append(f"{np.mean(gains):+.2f} ({min(gains):+.2f}), {sum(c for _, c in rows)}")
        lines.append(f"| {t:g} | {a:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import torch

    from inpaint_studio.engine.base import create_method
    from trainer.data import photo_files
    from trainer.stain import load_state

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, default=Path("models/vcnet-small.safetensors"))
    p.add_argument("--stain-run", type=Path, help="measure this stain run's network inside the checkpoint")
    p.add_argument("--split", default="val", choices=("val", "unseen"))
    p.add_argument("--photos", type=Path, help="a folder of photos instead of the photo set's split")
    p.add_argument("--limit", type=int, default=16)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--thresholds", default="0.7,0.8,0.9")
    p.add_argument("--small-areas", default="0,400")
    p.add_argument("--min-changes", default="0,12,16,20,24", help="a correcting network: the region rule's values")
    p.add_argument("--families", default=",".join(DEFAULT_FAMILIES))
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    method = create_method("vcnet", checkpoint=str(args.checkpoint))
    method.load()
    if not method.finds_stains:
        print(f"{args.checkpoint} has no stain network", file=sys.stderr)
        return 2
    source = str(args.checkpoint)
    if args.stain_run is not None:
        state = load_state(args.stain_run)
        method.modules["stain"].load_state_dict(state["network"])
        source = f"{args.stain_run} (step {state['step']}) in {args.checkpoint}"
    files = photo_files(args.photos, args.split)  # a --photos folder: every photo in it
    photos = [prepare(load_rgb(f), args.size) for f in spread(files, args.limit)]
    families = tuple(f for f in args.families.split(",") if f)
    start = time.time()
    if method.corrects_stains:
        results = measure_correction(method, photos, families, [float(v) for v in args.min_changes.split(",")])
        text = table(results, families, "min change (grey levels) | —")
    else:
        results = measure(method, photos, families, [float(v) for v in args.thresholds.split(",")],
                          [float(v) for v in args.small_areas.split(",")])
        text = table(results, families)
    where = f"--photos {args.photos}" if args.photos else f"{args.split} split"
    print(f"Stain map alone: {source}; {len(photos)} photos of the {where} at {args.size}², "
          f"{time.time() - start:.0f} s\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
