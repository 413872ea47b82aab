"""Blind restoration on damage and photos a model did not train on: every damage family of
`core.damage_families`, on the photo set's validation photos, no mask given.

    .venv/bin/python benchmarks/blind_generalisation.py [--size 512] [--limit 3] [--seed 0]
        [--methods classical_restore,classical_restore:stains=tint,vcnet] [--families coffee,water]
        [--split val|unseen] [--out models/blind_generalisation.md]

Per method and family: input PSNR, restored PSNR, gain, mask IoU (what the method flags — its predicted mask
and its translucent map — against the pixels the damage visibly changed), and per method the false-alarm
fraction (pixels it flags) and the restored PSNR on the clean photos. Families the shipped checkpoints trained on (the old `core.synthesis`
kinds) are marked "seen", the others "unseen". Photos are grouped by source package: gcompris-qt-data (most
of the training set) and the other packages (wallpapers: the source to hold out of training), each at most
`--limit` photos, chosen by name; contamination-like families paste a patch of the next photo of the set.
`--split unseen` measures the photo source held out of training instead (up to 2 × `--limit` photos).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from inpaint_studio.core.atomic import atomic_write_text
from inpaint_studio.core.damage_families import FAMILIES, check_families, draw_damage
from inpaint_studio.core.hd import HDConfig, HDStrategy
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.metrics import iou, psnr
from inpaint_studio.core.paths import user_cache_dir
from inpaint_studio.core.tint import remove_tint
from inpaint_studio.engine.evaluate import mask_rng, method_spec, prepare
from inpaint_studio.engine.manager import ModelManager
from trainer.blind_choice import CLEAN_CAP

MAIN_PACKAGE = "gcompris-qt-data"
DEFAULT_METHODS = "classical_restore,classical_restore:stains=tint,vcnet"
CAP = CLEAN_CAP  # PSNR of an unchanged photo is infinite; averages use this cap (tune's too)


def photo_groups(folder: Path, limit: int, split: str = "val") -> dict[str, list[Path]]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
    if split == "unseen":  # one source, held out of training and of every choice: as many photos as two groups
        return {"held-out source (unseen split)": files[: 2 * limit]}
    main = [p for p in files if p.name.startswith(MAIN_PACKAGE + "__")]
    other = [p for p in files if not p.name.startswith(MAIN_PACKAGE + "__")]
    return {f"{MAIN_PACKAGE} (val)": main[:limit], "other packages (val, wallpapers)": other[:limit]}


def _flagged(pred: Any) -> np.ndarray:
    """What a method flags as damage (uint8 255): its mask and, where it has one, its translucent map."""
    if pred.translucent is None:
        return pred.mask
    return np.where((pred.mask > 0) | (pred.translucent > 0), 255, 0).astype(np.uint8)


def _capped(value: float) -> float:
    return min(float(value), CAP)


def measure(photos: list[tuple[str, str, np.ndarray]], methods: list[str], families: list[str], seed: int,
            device: str) -> dict[str, Any]:
    """{'rows': per (method, family, group) lists of metrics, 'clean': per method false alarms}."""
    cases = []
    for i, (group, name, clean) in enumerate(photos):
        source = photos[(i + 1) % len(photos)][2] if len(photos) > 1 else None
        for family in families:
            # seeded by the family's place among all families: a run over a few families draws the same damage as
            # the full run (new families are added at the end, so earlier records keep their damage)
            k = list(FAMILIES).index(family)
            damage = draw_damage(clean, mask_rng(seed, name, 2000 + k), family, source)
            if damage.mask.any():
                cases.append((group, family, clean, damage))
    rows_oracle: dict[str, list[float]] = defaultdict(list)
    for _group, family, clean, damage in cases:
        if damage.strength is not None:  # the tint removal alone, given the true stain map
            rows_oracle[family].append(_capped(psnr(remove_tint(damage.image, damage.strength), clean)))
    manager = ModelManager(device=device, hd_config=HDConfig(strategy=HDStrategy.ORIGINAL))
    rows: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    clean_rows: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for entry in methods:
        label, method_name, options = method_spec(entry)
        manager.activate(method_name, load=True, **options)
        start = time.perf_counter()
        for _group, _name, clean in photos:
            pred = manager.predict_mask(clean)
            flagged = _flagged(pred)
            clean_rows[label]["false_alarm"].append(float(np.count_nonzero(flagged)) / flagged.size)
            clean_rows[label]["clean_psnr"].append(_capped(psnr(manager.run(clean, None), clean)))
        for group, family, clean, damage in cases:
            pred = manager.predict_mask(damage.image)
            restored = manager.run(damage.image, None)
            r = rows[(label, family, group)]
            r["input"].append(_capped(psnr(damage.image, clean)))
            r["restored"].append(_capped(psnr(restored, clean)))
            r["iou"].append(iou(_flagged(pred), damage.mask))
        print(f"{label}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
        manager.unload()
    return {"rows": rows, "clean": clean_rows, "oracle": rows_oracle}


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def markdown(result: dict[str, Any], settings: dict[str, Any], methods: list[str], families: list[str],
             groups: list[str]) -> str:
    labels = [method_spec(m)[0] for m in methods]
    lines = [
        "# Blind restoration on seen and unseen damage",
        "",
        f"Written by `benchmarks/blind_generalisation.py` on {settings['date']}: {settings['photos']} {settings.get('split', 'validation')} "
        f"photos at {settings['size']}² ({', '.join(f'{g}: {n}' for g, n in settings['groups'].items())}), seed "
        f"{settings['seed']}, no mask given. PSNR in dB against the clean photo (an unchanged photo counts as "
        f"{CAP:.0f} dB); gain = restored − input; IoU of what the method flags (its mask and its translucent "
        "map) with the pixels the damage visibly changed. *seen*: an old `core.synthesis` kind the shipped checkpoints trained on; *unseen*: a "
        "new family. The issue's targets (unseen): stains ≥ +2 dB each and never worse than the input; "
        "contamination ≥ +3 dB and IoU ≥ 0.5; scratches ≥ 33 dB from ~25 dB; false alarms ≤ 1 % on clean photos.",
        "",
        "## Per family (all photos)",
        "",
        "| family | group | seen | input | " + " | ".join(f"{m} restored (gain) / IoU" for m in labels)
        + " | tint removal given the true stain map |",
        "|---|---|---|---|" + "---|" * (len(labels) + 1),
    ]
    rows = result["rows"]
    for family in families:
        fam = FAMILIES[family]
        cells, inputs = [], []
        for label in labels:
            merged: dict[str, list[float]] = defaultdict(list)
            for g in groups:
                for key, values in rows.get((label, family, g), {}).items():
                    merged[key] += values
            if not merged["input"]:
                cells.append("—")
                continue
            inputs = merged["input"]
            worst = min(np.subtract(merged["restored"], merged["input"]))
            cells.append(f"{_mean(merged['restored']):.2f} ({_mean(merged['restored']) - _mean(inputs):+.2f}, "
                         f"worst {worst:+.2f}) / {_mean(merged['iou']):.2f}")
        oracle = result["oracle"].get(family)
        cells.append(f"{_mean(oracle):.2f} ({_mean(oracle) - _mean(inputs):+.2f})" if oracle else "—")
        lines.append(f"| {family} | {fam.group} | {'seen' if fam.seen else 'unseen'} | "
                     f"{_mean(inputs):.2f} | " + " | ".join(cells) + " |")
    lines += ["", "## Mean gain by photo group (dB, over the families)", "",
              "| method | " + " | ".join(groups) + " |", "|---|" + "---|" * len(groups)]
    for label in labels:
        cells = []
        for g in groups:
            gains = [_mean(rows[(label, f, g)]["restored"]) - _mean(rows[(label, f, g)]["input"])
                     for f in families if rows.get((label, f, g), {}).get("input")]
            cells.append(f"{np.mean(gains):+.2f}" if gains else "—")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "## Clean photos", "", "| method | false alarms (mean / max % of pixels) | restored PSNR (mean / min) |",
              "|---|---|---|"]
    for label in labels:
        c = result["clean"][label]
        lines.append(f"| {label} | {100 * _mean(c['false_alarm']):.2f} / {100 * max(c['false_alarm']):.2f} | "
                     f"{_mean(c['clean_psnr']):.2f} / {min(c['clean_psnr']):.2f} |")
    lines += ["", f"Command: `{settings['command']}`", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--limit", type=int, default=3, help="photos per source-package group")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", choices=("val", "unseen"), default="val",
                    help="val: two source groups; unseen: the photo source held out of training")
    ap.add_argument("--methods", default=DEFAULT_METHODS)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--out", type=Path, default=None, help="write the Markdown here (default: print only)")
    args = ap.parse_args(argv)
    try:
        families = check_families([f for f in args.families.split(",") if f])
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    folder = user_cache_dir() / "photos" / args.split
    if not folder.is_dir():
        raise SystemExit(f"error: no {args.split} photos in {folder} (python -m trainer fetch-photos)")
    groups = photo_groups(folder, args.limit, args.split)
    photos = [(g, p.name, prepare(load_rgb(p), args.size)) for g, paths in groups.items() for p in paths]
    methods = [m for m in args.methods.split(",") if m]
    result = measure(photos, methods, families, args.seed, args.device)
    settings = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "size": args.size,
        "seed": args.seed,
        "photos": len(photos),
        "split": "validation" if args.split == "val" else "held-out source (unseen split)",
        "groups": {g: len(p) for g, p in groups.items()},
        "command": "python benchmarks/blind_generalisation.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    text = markdown(result, settings, methods, families, list(groups))
    print(text)
    if args.out is not None:
        atomic_write_text(args.out, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
