"""Fit the blind-damage verifier (`core.verify`) of a VCNet checkpoint and store it in the checkpoint's JSON.

    python -m trainer verifier --checkpoint models/vcnet-small [--limit 30] [--size 512] [--families seen]

On training photos (the photo set's train split, or `--photos`), each chosen damage family (default: the seen
ones, the old `core.synthesis` kinds) and the clean photo itself, the checkpoint's blind detector runs without a
verifier. Every region of the hole a blind run fills is labelled by what filling it (Telea, the shipped fill)
does to the squared error against the clean photo: harmful when it rises. A logistic model on the regions'
`core.verify.FEATURES` learns that, each region weighted by how much error it moves; the threshold is the
one with the highest mean PSNR gain over the families and the clean photos (capped at `CLEAN_CAP`, as
`trainer tune` scores blind settings). Families left out here are the held-out ones:
`benchmarks/blind_generalisation.py` reports them with the verifier on and off (`vcnet:verify=false`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inpaint_studio.core.verify import Verifier, fit_logistic, region_features

CLEAN = "clean"
THRESHOLDS = (0.9, 0.7, 0.5, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1)


@dataclass
class RegionSet:
    """Regions found on the cases: features, the change in squared error a fill makes, and the case of each."""

    values: list[np.ndarray] = field(default_factory=list)
    delta_sse: list[float] = field(default_factory=list)
    case: list[int] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)  # family, photo, sse_in, pixels

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        width = self.values[0].shape[1] if self.values else 0
        values = np.concatenate(self.values) if self.values else np.zeros((0, width))
        return values, np.asarray(self.delta_sse, np.float64), np.asarray(self.case, np.int64)


def collect(method: Any, photos: Sequence[tuple[str, np.ndarray]], families: Sequence[str], seed: int = 0,
            progress: Callable[[int, float], None] | None = None) -> RegionSet:
    """Run `method` (a VCNet method with `verify=False`) blind on each photo, clean and with each family's damage."""
    from inpaint_studio.core.damage import restore_hole
    from inpaint_studio.core.damage_families import draw_damage
    from inpaint_studio.engine.base import create_method
    from inpaint_studio.engine.evaluate import mask_rng

    telea = create_method("telea")
    out = RegionSet()
    started = time.perf_counter()
    for i, (name, clean) in enumerate(photos):
        source = photos[(i + 1) % len(photos)][1] if len(photos) > 1 else None
        todo = [(CLEAN, clean)]
        for k, family in enumerate(families):
            todo.append((family, draw_damage(clean, mask_rng(seed, name, 2000 + k), family, source).image))
        for family, image in todo:
            pred = method.predict_mask(image)
            hole = restore_hole(pred.mask) if method.fill == "telea" else pred.mask
            fill = telea.inpaint(image, hole)
            err_in = ((image.astype(np.float64) - clean) ** 2).sum(-1)
            err_out = ((fill.astype(np.float64) - clean) ** 2).sum(-1)
            feats = region_features(image, hole, pred.probability, fill)
            count = len(feats.values)
            if count:
                delta = np.bincount(feats.labels.ravel(), weights=(err_out - err_in).ravel(), minlength=count + 1)[1:]
                out.values.append(feats.values)
                out.delta_sse.extend(delta.tolist())
                out.case.extend([len(out.cases)] * count)
            out.cases.append({"family": family, "photo": name, "sse_in": float(err_in.sum()), "pixels": int(err_in.size)})
        if progress is not None:
            progress(i + 1, time.perf_counter() - started)
    return out


def _psnr(sse: float, pixels: int, cap: float) -> float:
    mse = sse / (3.0 * pixels)
    return cap if mse <= 0 else min(cap, 10.0 * float(np.log10(255.0**2 / mse)))


def gains_by_family(regions: RegionSet, veto: np.ndarray, cap: float) -> dict[str, float]:
    """Mean PSNR gain per family (clean included) when the regions with `veto` are left unfilled."""
    _, delta, case = regions.arrays()
    kept = np.bincount(case[~veto], weights=delta[~veto], minlength=len(regions.cases)) if len(case) else np.zeros(
        len(regions.cases))
    out: dict[str, list[float]] = defaultdict(list)
    for c, info in enumerate(regions.cases):
        before = _psnr(info["sse_in"], info["pixels"], cap)
        out[info["family"]].append(_psnr(info["sse_in"] + kept[c], info["pixels"], cap) - before)
    return {k: float(np.mean(v)) for k, v in out.items()}


def fit_verifier(regions: RegionSet, cap: float, thresholds: Sequence[float] = THRESHOLDS) -> tuple[Verifier, list[dict[str, Any]]]:
    """The logistic model and the threshold with the highest mean gain over the families; and per threshold (and
    without a verifier, threshold 1) the gains it measured."""
    values, delta, _ = regions.arrays()
    if len(values) < 2 or (delta > 0).all() or (delta <= 0).all():
        raise ValueError("the verifier needs regions whose fill helped and regions whose fill harmed")
    mean, scale, weights, bias = fit_logistic(values, delta > 0, np.abs(delta) + 1.0)
    probe = Verifier(mean, scale, weights, bias, 1.0)
    harm = probe.harm(values)
    table = []
    for t in (1.0, *thresholds):
        per_family = gains_by_family(regions, harm > t, cap)
        table.append({"threshold": t, "mean": float(np.mean(list(per_family.values()))), "families": per_family})
    best = max(table[1:], key=lambda row: row["mean"])
    return Verifier(mean, scale, weights, bias, float(best["threshold"])), table


def run(args: argparse.Namespace) -> int:
    import torch

    from inpaint_studio.core.damage_families import SEEN, check_families
    from inpaint_studio.core.errors import InpaintStudioError
    from inpaint_studio.core.imageio import load_rgb
    from inpaint_studio.engine.base import create_method
    from inpaint_studio.engine.checkpoints import update_metadata
    from inpaint_studio.engine.evaluate import prepare
    from trainer.blind_choice import CLEAN_CAP
    from trainer.data import photo_files

    torch.set_num_threads(max(1, args.threads))
    if args.limit < 1:
        raise InpaintStudioError(f"--limit must be at least 1 photo, not {args.limit}")
    try:
        families = list(SEEN) if args.families == "seen" else check_families(f for f in args.families.split(",") if f)
    except ValueError as exc:
        raise InpaintStudioError(str(exc)) from None
    files = photo_files(args.photos, "train")
    files = files[:: max(1, len(files) // args.limit)][: args.limit]  # spread over the set, by name
    auto = create_method("vcnet", checkpoint=args.checkpoint).resolved_options(["marks", "marks_verified"])
    # marks the verifier cannot take back are left out of its fit (read from the JSON, before loading)
    skip_marks = bool(auto.get("marks")) and not auto.get("marks_verified", True)
    method = create_method("vcnet", checkpoint=args.checkpoint, verify=False, **({"marks": False} if skip_marks else {}))
    method.load()
    photos = [(p.name, prepare(load_rgb(p), args.size)) for p in files]

    def progress(done: int, seconds: float) -> None:
        print(f"\rphoto {done}/{len(photos)} ({seconds:.0f} s)", end="", file=sys.stderr, flush=True)

    regions = collect(method, photos, families, seed=args.seed, progress=progress)
    print(file=sys.stderr)
    try:
        verifier, table = fit_verifier(regions, CLEAN_CAP)
    except ValueError as exc:
        raise InpaintStudioError(str(exc)) from None
    for row in table:
        print(f"threshold {row['threshold']:.2f}: mean gain {row['mean']:+.2f} dB  " +
              "  ".join(f"{k} {v:+.2f}" for k, v in row["families"].items()))
    record = {**verifier.to_dict(), "fit": {
        "photos": f"{len(photos)} photos of {'the train split' if args.photos is None else args.photos.name}",
        "size": args.size, "seed": args.seed, "families": [*families, CLEAN], "regions": len(regions.delta_sse),
        "marks_network": "on" if method.marks else "off",
        "rule": "the threshold with the highest mean PSNR gain over the families and clean photos",
        "table": [{**row, "families": {k: round(v, 3) for k, v in row["families"].items()},
                   "mean": round(row["mean"], 3)} for row in table],
    }}
    path = method.checkpoint_path()
    update_metadata(path, lambda meta: meta.setdefault("blind", {}).update(verifier=record))
    print(f"verifier (threshold {verifier.threshold:g}) written into {path}")
    print(json.dumps(verifier.to_dict()))
    return 0

