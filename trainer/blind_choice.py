"""Choose how an exported VCNet checkpoint works blind — which detector finds the damage (`mpn` alone or
`mpn+classical`) and which fill repairs it (`rin` or `telea`) — by measuring every combination on damaged
validation photos, and record the choice (with the measurements) as the checkpoint JSON's `"blind"` block,
which the engine's `vcnet` method follows.

    python -m trainer tune models/vcnet-small.safetensors [--limit 12] [--size 256] [--record]

Score: restoration PSNR gain over the damaged input, averaged over the damage kinds and clean photos (the same
figure the default blind method is chosen by, `engine/defaults.py`). A clean photo counts as one more kind: what
the method changes there is a false repair, a loss against the untouched photo (PSNR capped at CLEAN_CAP dB), so
a setting that repairs damage by also repainting the photo's own structures does not win. Also the mask size — the long side of the copy the
MPN looks at — by contamination IoU on larger photos (`inference.mask_size`): a network trained on small crops
finds damage best at the scale it learned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inpaint_studio.core.metrics import iou, psnr
from inpaint_studio.engine.checkpoints import checkpoint_files, update_metadata
from inpaint_studio.engine.evaluate import DAMAGE_KINDS, damaged_cases
from inpaint_studio.engine.methods.vcnet import DETECTORS, FILLS, VCNetMethod


@dataclass(frozen=True)
class ComboScore:
    detector: str
    fill: str
    per_kind: dict[str, dict[str, float]]  # kind → {"iou", "psnr", "input_psnr", "gain"}
    threshold: float = 0.5

    @property
    def mean_gain(self) -> float:
        return float(np.mean([k["gain"] for k in self.per_kind.values()])) if self.per_kind else float("-inf")


THRESHOLDS = (0.5, 0.7, 0.85, 0.9, 0.95)
CLEAN = "clean"  # the clean photos' "kind"
CLEAN_CAP = 60.0  # PSNR of an unchanged photo (infinite) counts as this (benchmarks/blind_generalisation.py too)


def measure_combos(
    make_method: Callable[..., VCNetMethod],
    photos: Sequence[tuple[str, np.ndarray]],
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    combos: Sequence[tuple[str, str, float]] | None = None,
) -> list[ComboScore]:
    """Each (detector, fill, threshold) — by default every detector × fill at 0.5 — on the synthetic damage of
    `photos` (name, RGB), the cases `evaluate` uses, and on the photos left clean. `make_method(detector, fill,
    threshold)`."""
    cases = damaged_cases(list(photos), seed)
    cases += [(CLEAN, rgb, rgb, np.zeros(rgb.shape[:2], np.uint8)) for _, rgb in photos]
    out = []
    for detector, fill, threshold in combos or [(d, f, 0.5) for d in DETECTORS for f in FILLS]:
        if progress is not None:
            progress(f"{detector} + {fill} at {threshold}")
        method = make_method(detector, fill, threshold)
        acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for kind, clean, dirty, target in cases:
            predicted = method.predict_mask(dirty).mask
            restored = method.inpaint(dirty)
            a = acc[kind]
            if kind == CLEAN:  # nothing to find: what it flags is a false alarm
                a["false_alarms"].append(float((predicted > 0).mean()))
            else:
                a["iou"].append(iou(predicted, target))
            a["psnr"].append(min(psnr(restored, clean), CLEAN_CAP))
            a["input_psnr"].append(min(psnr(dirty, clean), CLEAN_CAP))
        per_kind = {}
        for kind in (*DAMAGE_KINDS, CLEAN):
            if kind in acc:
                means = {k: float(np.mean([v for v in vals if np.isfinite(v)] or [0.0])) for k, vals in acc[kind].items()}
                means["gain"] = means["psnr"] - means["input_psnr"]
                per_kind[kind] = means
        out.append(ComboScore(detector, fill, per_kind, threshold))
    return out


# Mean gains closer than this are a tie: on a dozen photos, differences of a few hundredths of a dB are
# noise, and a tie goes to the earlier (simpler) combination — the network's own threshold 0.5 before a
# tuned one.
TIE_DB = 0.1


def choose(scores: Sequence[ComboScore]) -> ComboScore:
    """The earliest combination whose mean gain is within `TIE_DB` of the highest."""
    if not scores:
        raise ValueError("nothing measured")
    top = max(s.mean_gain for s in scores)
    return next(s for s in scores if s.mean_gain >= top - TIE_DB)


def blind_block(best: ComboScore, scores: Sequence[ComboScore], settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "detector": best.detector,
        "fill": best.fill,
        "threshold": best.threshold,
        "why": f"highest mean restoration PSNR gain over the damaged input, clean photos counted as a kind "
               f"({best.mean_gain:+.2f} dB; gains within "
               f"{TIE_DB} dB of the highest count as a tie, won by the simpler setting)",
        "settings": settings,
        "measured": [
            {"detector": s.detector, "fill": s.fill, "threshold": s.threshold, "mean_gain_db": round(s.mean_gain, 3),
             "per_kind": {k: {m: round(v, 4) for m, v in d.items()} for k, d in s.per_kind.items()}}
            for s in scores
        ],
    }


MASK_SIZES = (192, 256, 320, 384, 512, 768)


def measure_mask_sizes(
    make_method: Callable[[int], VCNetMethod], photos: Sequence[tuple[str, np.ndarray]], sizes: Sequence[int],
    seed: int = 0,
) -> dict[int, float]:
    """Mean MPN IoU on the contamination cases of `photos` at each mask size (sizes above the photos' long
    side are left out: they all mean "full size")."""
    cases = [c for c in damaged_cases(list(photos), seed) if c[0] == "contamination"]
    side = max(photos[0][1].shape[:2])
    out = {}
    for size in [s for s in sizes if s <= side]:
        method = make_method(size)
        out[size] = float(np.mean([iou(method.predict_mask(dirty).mask, target) for _, _, dirty, target in cases]))
    return out


def record_inference(checkpoint: Path, values: dict[str, Any]) -> None:
    """Merge `values` into the checkpoint JSON's `inference` block."""
    update_metadata(checkpoint, lambda doc: doc.update(inference={**(doc.get("inference") or {}), **values}))


def run_mask_size(checkpoint: Path, photos: Sequence[tuple[str, np.ndarray]], seed: int, record: bool,
                  log: Callable[[str], None] = print) -> int:
    def make(size: int) -> VCNetMethod:
        method = VCNetMethod(checkpoint=checkpoint, device="cpu", detector="mpn", mask_size=size)
        method.load()
        return method

    scores = measure_mask_sizes(make, photos, MASK_SIZES, seed)
    best = max(scores, key=lambda s: (round(scores[s], 6), s))
    side = max(photos[0][1].shape[:2])
    log(f"mask size on {side}-px photos: " + ", ".join(f"{k} → IoU {v:.3f}" for k, v in scores.items())
        + f"; chosen {best}")
    if record:
        record_inference(checkpoint, {"mask_size": best, "mask_size_measured": {
            "photo_side": side, "contamination_iou": {str(k): round(v, 4) for k, v in scores.items()}}})
    return best


def record_block(checkpoint: Path, block: dict[str, Any]) -> None:
    update_metadata(checkpoint, lambda doc: doc.update(blind=block), method="vcnet")


def run(checkpoint: Path, photos: Sequence[tuple[str, np.ndarray]], seed: int, record: bool,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure, log, choose and (with `record`) write the block; `photos` are (name, RGB) at the size to score."""

    def make(detector: str, fill: str, threshold: float) -> VCNetMethod:
        method = VCNetMethod(checkpoint=checkpoint, device="cpu", detector=detector, fill=fill, threshold=threshold)
        method.load()
        return method

    def show(s: ComboScore) -> None:
        kinds = ", ".join(f"{k} IoU {d['iou']:.2f} {d['gain']:+.2f} dB" if "iou" in d else
                          f"{k} false alarms {100 * d['false_alarms']:.2f} % {d['gain']:+.2f} dB"
                          for k, d in s.per_kind.items())
        log(f"{s.detector:>14} + {s.fill:<5} at {s.threshold:.2f}: mean {s.mean_gain:+.2f} dB  ({kinds})")

    # Detector × fill at 0.5, then the threshold of the best pair (a mask network trained on contamination
    # alone also fires on other photos: a higher threshold trades its recall for fewer false repairs).
    scores = measure_combos(make, photos, seed, progress=lambda m: log(f"measuring {m}"))
    pair = choose(scores)
    scores += measure_combos(make, photos, seed, progress=lambda m: log(f"measuring {m}"),
                             combos=[(pair.detector, pair.fill, t) for t in THRESHOLDS if t != pair.threshold])
    best = choose(scores)
    for s in scores:
        show(s)
    settings = {"photos": [name for name, _ in photos], "size": photos[0][1].shape[0], "seed": seed}
    block = blind_block(best, scores, settings)
    log(f"chosen: {best.detector} + {best.fill} at {best.threshold} ({block['why']})")
    if record:
        record_block(checkpoint, block)
        log(f"recorded in {checkpoint_files(checkpoint)[1]}")
    return block
