"""The measured model table in models/: every available method scored by the engine's own `evaluate` on the
photo set's validation split, next to the classical baselines, and the defaults chosen from it.

    .venv/bin/python benchmarks/model_table.py [--limit 12] [--large-limit 6] [--sizes 256,512] [--seed 0]

Fill: generated free-form holes in the 10–20 / 20–30 / 30–40 % buckets, the centre box and thin strokes (1–8 px),
L1 / PSNR / SSIM in the hole and on the full image, the hole's plausibility (detail ratio, patch SWD: see
`core.metrics`), seconds per image. Blind: `evaluate(..., contaminate=True)` (synthetic damage of
five kinds; mask BCE / IoU, restoration PSNR / SSIM next to the untouched input and to Telea given the true
mask). fsr_best and shiftmap are left out: each costs minutes per photo here.

Seen and unseen photos: the fill part at the first size is measured again on the photo set's `unseen` split
(photos from a package no training photo comes from; `--unseen-limit`, 0 skips it) and reported beside the
validation numbers per method. table.json keeps the validation numbers under `fill` / `edges` / `blind` (the
defaults are chosen from them only) and adds the unseen ones under `unseen`.

Writes models/table.json (every number, settings, date, machine), the generated part of models/README.md
(between the `model-table` markers) and models/contact_sheet.png. Photos: `user_cache_dir()/photos/val`, or
the bundled resources/samples (with a note) when the photo set has not been fetched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from inpaint_studio.core.atomic import atomic_write_text
from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.imageio import load_rgb, save_image
from inpaint_studio.core.paths import SAMPLES_DIR, SHIPPED_MODELS_DIR, user_cache_dir
from inpaint_studio.core.sections import CARD_TABLE_BEGIN, CARD_TABLE_END, replace_section
from inpaint_studio.engine.base import create_method, get_spec, method_specs
from inpaint_studio.engine.defaults import FALLBACK, TABLE_FORMAT, TASKS, choose_default, fill_score
from inpaint_studio.engine.evaluate import evaluate, generated_mask, prepare

BUCKETS: list[Any] = [(0.1, 0.2), (0.2, 0.3), (0.3, 0.4), "centre", "thin"]
BASELINES = ("telea", "navier_stokes", "fsr_fast")
EDGE_BASELINES = ("navier_stokes", "patchmatch")
TOO_SLOW = {"fsr_best": "minutes per photo on this CPU", "shiftmap": "minutes per photo on this CPU"}
# Not a fill of its own: it routes each hole to the per-shape defaults this very table chooses.
ROUTERS = {"auto": "routes each hole to the thin / box / fill default of this table"}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
BEGIN, END = "<!-- model-table:begin (written by benchmarks/model_table.py) -->", "<!-- model-table:end -->"
SHEET_ROWS, SHEET_TILE, SHEET_BUCKET = 4, 192, 1  # contact sheet: 4 photos, 192 px tiles, the 20–30 % bucket


# --- inputs ----------------------------------------------------------------------------------------------


def photo_folder() -> tuple[Path, str]:
    val = user_cache_dir() / "photos" / "val"
    if val.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in val.iterdir()):
        return val, "photo set validation split"
    return SAMPLES_DIR, "resources/samples (the photo set was not fetched: NOT the validation split)"


def unseen_folder() -> Path | None:
    """The photo set's `unseen` split (another source than every training photo), None when not fetched."""
    folder = user_cache_dir() / "photos" / "unseen"
    if folder.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir()):
        return folder
    return None


def short_side(path: Path) -> int:
    try:
        with Image.open(path) as im:
            return min(im.size)
    except OSError:
        return 0


def pick_photos(folder: Path, size: int, limit: int | None) -> list[Path]:
    """Photos at least `size` on the short side first (scored at native detail, not enlarged), by name."""
    photos = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    photos.sort(key=lambda p: short_side(p) < size)  # stable: name order within each group
    return photos[:limit] if limit is not None else photos


# Measured beside a blind method's shipped setting (labels only: they never compete for the default). VCNet's
# mask network alone is what its target ("above the classical detector on scratches") is about; the shipped
# setting may unite it with the classical mask.
BLIND_VARIANTS: dict[str, tuple[str, ...]] = {"vcnet": ("vcnet:detector=mpn",)}


def method_groups() -> tuple[list[str], list[str], dict[str, str]]:
    """(fill methods, blind methods, {left-out method: why})."""
    fill, blind, left_out = [], [], {}
    for spec in method_specs():
        if spec.name in TOO_SLOW:
            left_out[spec.name] = f"too slow for this table ({TOO_SLOW[spec.name]})"
            continue
        if spec.name in ROUTERS:
            left_out[spec.name] = ROUTERS[spec.name]
            continue
        method = create_method(spec.name)
        if not method.is_available():
            left_out[spec.name] = f"not measured: {method.weights_info()}"
            continue
        (blind if spec.capabilities.blind else fill).append(spec.name)
    order = {name: i for i, name in enumerate(BASELINES)}
    fill.sort(key=lambda n: order.get(n, -1))  # learned methods first, then the baselines
    return fill, blind, left_out


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "opencv": cv2.__version__,
        "numpy": np.__version__,
    }


def code_version() -> dict[str, Any]:
    """The commit measured, and the package files that differed from it (a shared checkout moves)."""
    root = Path(__file__).resolve().parents[1]

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=root, capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = [line[3:] for line in git("status", "--porcelain", "--", "inpaint_studio").splitlines() if line]
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or None, "uncommitted": dirty}


# --- Markdown --------------------------------------------------------------------------------------------


def _f(value: Any, digits: int) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def fill_tables(result: dict[str, Any], size: int, *, hole_only: bool = False) -> list[str]:
    buckets = result["buckets"]
    models = list(dict.fromkeys(r["model"] for r in result["rows"]))
    rows = {(r["model"], r["bucket"]): r for r in result["rows"]}
    n = max((r["n"] for r in result["rows"]), default=0)
    out = []
    parts = [
        ("in the hole: L1 (grey levels, lower is better) / PSNR dB / SSIM", ("l1_hole", "psnr_hole", "ssim_hole")),
        ("texture in the hole: detail (1 = as detailed as the photo, < 1 blur) / patch SWD (lower is more "
         "photo-like)", ("detail", "swd")),
        ("full image: L1 / PSNR dB / SSIM", ("l1", "psnr", "ssim")),
    ]
    for title, keys in parts[:2] if hole_only else parts:
        out += [f"**{size}², {n} photos — {title}**", ""]
        header = ["method", *buckets, "s / image"]
        out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for model in models:
            cells = [model]
            times = []
            for b in buckets:
                r = rows.get((model, b))
                if r is None:
                    cells.append("–")
                    continue
                digits = (2, 2, 3)
                cells.append(" / ".join(_f(r.get(key), d) for key, d in zip(keys, digits, strict=False)))
                times.append(r.get("seconds_per_image") or 0.0)
            cells.append(_f(float(np.mean(times)), 2) if times else "–")
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return out


def edges_table(result: dict[str, Any], size: int) -> list[str]:
    n = max((r["n"] for r in result["rows"]), default=0)
    out = [
        f"**Guided by edges, {size}², {n} photos — edge-aware methods given the photo's own Canny edges (as if traced "
        "by hand); the others ignore them. Hole L1 / detail / edge precision / edge recall (Canny of the fill in "
        "the hole against the given edges, 2 px tolerance)**",
        "",
    ]
    header = ["method", *result["buckets"], "s / image"]
    out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows = {(r["model"], r["bucket"]): r for r in result["rows"]}
    for model in dict.fromkeys(r["model"] for r in result["rows"]):
        cells = [model + (" (uses edges)" if model in result.get("edge_aware", []) else "")]
        times = []
        for b in result["buckets"]:
            r = rows.get((model, b))
            if r is None:
                cells.append("–")
                continue
            cells.append(" / ".join(_f(r.get(k), d) for k, d in
                                    (("l1_hole", 2), ("detail", 2), ("edge_precision", 2), ("edge_recall", 2))))
            times.append(r.get("seconds_per_image") or 0.0)
        cells.append(_f(float(np.mean(times)), 2) if times else "–")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    predicted = [r for r in result["rows"] if r.get("predicted_edge_recall") is not None]
    if predicted:
        out += ["**Edge networks' own prediction in the hole (no edges given) against the photo's edges — edge "
                "precision / recall**", "", "| method | " + " | ".join(result["buckets"]) + " |",
                "|" + "---|" * (len(result["buckets"]) + 1)]
        by = {(r["model"], r["bucket"]): r for r in predicted}
        for model in dict.fromkeys(r["model"] for r in predicted):
            cells = [f"{_f(by[model, b]['predicted_edge_precision'], 2)} / {_f(by[model, b]['predicted_edge_recall'], 2)}"
                     if (model, b) in by else "–" for b in result["buckets"]]
            out.append(f"| {model} | " + " | ".join(cells) + " |")
        out.append("")
    return out


def seen_unseen_table(table: dict[str, Any]) -> list[str]:
    """Per method and bucket: hole L1 / detail on the validation photos (seen: same packages as the training
    photos) next to the unseen photos (another package)."""
    unseen = table.get("unseen") or {}
    out = []
    for size, result in (unseen.get("fill") or {}).items():
        seen = table["fill"].get(size)
        if seen is None:
            continue
        rows_seen = {(r["model"], r["bucket"]): r for r in seen["rows"]}
        rows_unseen = {(r["model"], r["bucket"]): r for r in result["rows"]}
        n_seen = max((r["n"] for r in seen["rows"]), default=0)
        n_unseen = max((r["n"] for r in result["rows"]), default=0)
        out += [f"**Seen vs unseen photos, {size}² — hole L1 / detail on {n_seen} validation photos (the training "
                f"photos' packages) → on {n_unseen} unseen photos ({unseen.get('photo_source', 'unseen split')})**", ""]
        header = ["method", *result["buckets"]]
        out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for model in dict.fromkeys(r["model"] for r in result["rows"]):
            cells = [model]
            for b in result["buckets"]:
                a, u = rows_seen.get((model, b)), rows_unseen.get((model, b))
                pair = [f"{_f(r.get('l1_hole'), 2)} / {_f(r.get('detail'), 2)}" if r else "–" for r in (a, u)]
                cells.append(" → ".join(pair))
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return out


def blind_table(result: dict[str, Any], size: int, n_photos: int) -> list[str]:
    out = [
        f"**Blind restoration, {size}², {n_photos} photos × five synthetic damage kinds** — mask BCE / IoU of the "
        "predicted damage; PSNR dB / SSIM of the restored photo; the untouched damaged input and OpenCV Telea given "
        "the true damage mask for comparison",
        "",
    ]
    header = ["method", "damage", "n", "mask BCE", "mask IoU", "restored", "input", "Telea + true mask", "s / image"]
    out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in result["restoration"]:
        out.append(
            f"| {r['model']} | {r['kind']} | {r['n']} | {_f(r['mask_bce'], 3)} | {_f(r['mask_iou'], 3)} | "
            f"{_f(r['psnr'], 2)} / {_f(r['ssim'], 3)} | {_f(r['input_psnr'], 2)} / {_f(r['input_ssim'], 3)} | "
            f"{_f(r.get('telea_true_mask_psnr'), 2)} / {_f(r.get('telea_true_mask_ssim'), 3)} | "
            f"{_f(r.get('seconds_per_image'), 2)} |"
        )
    out.append("")
    return out


def markdown(table: dict[str, Any]) -> str:
    s = table["settings"]
    counts = ", ".join(f"{len(table['fill'][k]['settings']['images'])} at {k}²" for k in table["fill"])
    lines = [
        BEGIN,
        "",
        f"Measured {table['date']} on {table['machine']['cpu_count']} CPU cores ({table['machine']['platform']}; "
        f"load average {table['machine']['load_average']} at the start — times are noisy, compare within a table) by "
        f"`{s['command']}`. Photos: {s['photo_source']} ({counts}; photos with a short side of at least the "
        "evaluation size first, by name; each scaled so its short side is the size, then centre-cropped). "
        f"Holes: generated free-form strokes per hole-ratio bucket plus the centre box, seed {s['seed']}; every method "
        "sees the same holes. Every number is in `table.json`.",
        "",
    ]
    for size, result in table["fill"].items():
        lines += fill_tables(result, int(size))
    if table.get("edges"):
        lines += edges_table(table["edges"], int(table["settings"]["sizes"][0]))
    lines += seen_unseen_table(table)
    if table.get("blind"):
        blind = table["blind"]
        lines += blind_table(blind, blind["settings"]["size"], len(blind["settings"]["images"]))
        if blind.get("date"):
            code = blind.get("code") or {}
            lines += [f"(blind part measured {blind['date']}, code {code.get('commit', '?')}"
                      + (f", with uncommitted changes in {', '.join(code['uncommitted'])}" if code.get("uncommitted") else "")
                      + ")", ""]
    lines += ["**Defaults chosen from this table** (`inpaint_studio/engine/defaults.py`; fill = object removal, "
              "box and thin = the shapes `auto` routes, blind = one-click restoration):", ""]
    for task, d in table["defaults"].items():
        lines.append(f"- {task}: `{d['method']}` — {d['why']}")
    if table["left_out"]:
        lines += ["", "**Left out:**", ""]
        lines += [f"- `{name}`: {why}" for name, why in table["left_out"].items()]
    lines += ["", "![contact sheet](contact_sheet.png)", "", END]
    return "\n".join(lines)


def card_section(table: dict[str, Any], method: str) -> str:
    """This method's rows of the table next to the classical baselines (fill) or classical_restore (blind)."""
    keep = {method, *BASELINES, "classical_restore"}
    blind = table.get("blind") or {}
    # `--blind-only` re-measures the blind part alone: its own date, not the table's, dates those rows.
    when = table["date"] + (f"; blind part {blind['date']}" if blind.get("date", table["date"]) != table["date"] else "")
    lines = [f"From `models/table.json` ({when}, {table['settings']['photo_source']}); the whole table "
             "and how it was measured: [README.md](README.md).", ""]
    measured = False
    for size, result in table["fill"].items():
        rows = [r for r in result["rows"] if r["model"] in keep]
        if any(r["model"] == method for r in rows):
            measured = True
            lines += fill_tables({**result, "rows": rows}, int(size), hole_only=True)
    rows = [r for r in blind.get("restoration", []) if r["model"] in keep or r["model"].startswith(f"{method}:")]
    if any(r["model"] == method for r in rows):
        measured = True
        lines += blind_table({**blind, "restoration": rows}, blind["settings"]["size"], len(blind["settings"]["images"]))
    for task, d in table.get("defaults", {}).items():
        lines.append(f"Default for {task}: `{d['method']}` ({d['why']}).")
    return "\n".join(lines).rstrip() if measured else "Not in the measured table (its method had other weights then)."


def _engine_checkpoint(method: str) -> Path | None:
    try:
        found = create_method(method).checkpoint_path()  # type: ignore[attr-defined]
    except (AttributeError, InpaintStudioError, ValueError):
        return None
    return Path(found) if found is not None else None


def update_cards(table: dict[str, Any], folder: Path) -> list[Path]:
    """Write each shipped checkpoint's card section (models/NAME.md next to NAME.json); returns the cards."""
    written = []
    for meta_path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        card = meta_path.with_suffix(".md")
        if doc.get("format") != "inpaint-studio-checkpoint" or not card.is_file():
            continue
        # The table measured each method with the checkpoint the engine picks for it: only that card gets its rows.
        used = _engine_checkpoint(doc["method"])
        section = (card_section(table, doc["method"]) if used is None or used.stem == meta_path.stem
                   else f"Not in the measured table: `{doc['method']}` was measured with `{used.stem}`.")
        text = replace_section(card.read_text(encoding="utf-8"), CARD_TABLE_BEGIN, CARD_TABLE_END, section,
                               heading="## Measured in the model table")
        atomic_write_text(card, text)
        written.append(card)
    return written


def write_readme(section: str, readme: Path) -> None:
    text = readme.read_text(encoding="utf-8") if readme.is_file() else "# models/\n\n"
    inner = section.removeprefix(BEGIN).removesuffix(END)
    atomic_write_text(readme, replace_section(text, BEGIN, END, inner))


# --- contact sheet ---------------------------------------------------------------------------------------


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((18, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, tile])


def contact_sheet(photos: list[Path], methods: list[str], size: int, seed: int) -> np.ndarray:
    """Rows: photos; columns: input with the hole (grey), mask, each method's fill, ground truth."""
    from inpaint_studio.core.hd import HDConfig, HDStrategy
    from inpaint_studio.engine.manager import ModelManager

    bucket = BUCKETS[SHEET_BUCKET]
    cases = []
    for path in photos:
        image = prepare(load_rgb(path), size)
        mask = generated_mask(size, bucket, seed, path.name, SHEET_BUCKET)  # the very holes the table scored
        holed = image.copy()
        holed[mask > 0] = 128
        cases.append([holed, np.repeat(mask[..., None], 3, axis=2)])
    manager = ModelManager(hd_config=HDConfig(strategy=HDStrategy.ORIGINAL))
    for name in methods:
        manager.activate(name, load=True)
        for path, row in zip(photos, cases, strict=True):
            image = prepare(load_rgb(path), size)
            mask = generated_mask(size, bucket, seed, path.name, SHEET_BUCKET)
            row.append(manager.run(image, mask))
        manager.unload()
    for path, row in zip(photos, cases, strict=True):
        row.append(prepare(load_rgb(path), size))
    titles = ["input + hole", "mask", *methods, "ground truth"]
    grid = []
    for r, row in enumerate(cases):
        tiles = [cv2.resize(t, (SHEET_TILE, SHEET_TILE), interpolation=cv2.INTER_AREA) for t in row]
        if r == 0:
            tiles = [_label(t, title) for t, title in zip(tiles, titles, strict=True)]
        gap = np.full((tiles[0].shape[0], 2, 3), 255, np.uint8)
        line = [x for t in tiles for x in (t, gap)][:-1]
        grid.append(np.hstack(line))
        grid.append(np.full((2, grid[-1].shape[1], 3), 255, np.uint8))
    return np.vstack(grid[:-1])


# --- main ------------------------------------------------------------------------------------------------


def _parts(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each measured part of a table by a stable key: fill/SIZE, unseen/SIZE, edges."""
    out = {f"fill/{k}": v for k, v in table.get("fill", {}).items()}
    out.update({f"unseen/{k}": v for k, v in (table.get("unseen") or {}).get("fill", {}).items()})
    if table.get("edges"):
        out["edges"] = table["edges"]
    return out


def merge_rows(full: dict[str, Any], partial: dict[str, Any]) -> list[str]:
    """Put `partial`'s rows (a `--methods` run) into `full`, replacing the same methods' rows, part by part; a part
    measured on other photos or at another size is skipped (its holes differ). Returns the skipped parts."""
    target, skipped = _parts(full), []
    for key, new in _parts(partial).items():
        methods = {r["model"] for r in new["rows"]}
        old = target.get(key)
        if not methods:
            continue
        if old is None or (old["settings"]["images"], old["settings"].get("size")) != (
                new["settings"]["images"], new["settings"].get("size")):
            skipped.append(key)
            continue
        old["rows"] = [r for r in old["rows"] if r["model"] not in methods] + new["rows"]
        old["settings"]["methods"] = [m for m in old["settings"]["methods"] if m not in methods] + sorted(methods)
        if key == "edges":
            old["edge_aware"] = sorted(set(old.get("edge_aware", [])) | set(new.get("edge_aware", [])))
        for m in methods:
            full.get("left_out", {}).pop(m, None)
    return skipped


def _previous_table(path: Path) -> dict[str, Any]:
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: this needs an existing model table {path}: {exc}") from None
    if table.get("format") != TABLE_FORMAT or not table.get("fill"):
        raise SystemExit(f"error: {path} is not a model table with fill results")
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=12, help="photos at the smallest size (default 12)")
    ap.add_argument("--large-limit", type=int, help="photos at the larger sizes (default half of --limit)")
    ap.add_argument("--sizes", default="256,512", help="comma-separated evaluation sizes; the first is also blind")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-blind", action="store_true", help="skip the blind restoration part")
    ap.add_argument(
        "--blind-only",
        action="store_true",
        help="re-measure only the blind part (after a detector change) into the existing table.json",
    )
    ap.add_argument("--reuse-blind", action="store_true",
                    help="keep the blind part of the existing table.json (dated) instead of re-measuring it")
    ap.add_argument("--edges-only", action="store_true",
                    help="re-measure only the edge-guided part into the existing table.json")
    ap.add_argument("--unseen-only", action="store_true",
                    help="re-measure only the unseen-photos part into the existing table.json")
    ap.add_argument("--unseen-limit", type=int,
                    help="unseen photos measured at the first size (default --limit; 0 skips the unseen part)")
    ap.add_argument("--photos", type=Path, help="validation photos (default: the photo set's val split)")
    ap.add_argument("--unseen-photos", type=Path, help="unseen photos (default: the photo set's unseen split)")
    ap.add_argument("--methods", help="comma-separated fill methods to measure (default: every available one)")
    ap.add_argument("--merge", action="store_true",
                    help="with --methods: put the new rows into the existing table.json in --out (same photos and "
                    "holes; use the full run's --limit/--large-limit/--sizes) and choose the defaults again")
    ap.add_argument("--out", type=Path, default=SHIPPED_MODELS_DIR, help="folder for table.json, README.md, sheet")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    large_limit = args.large_limit if args.large_limit is not None else max(1, math.ceil(args.limit / 2))
    folder, source = (args.photos, f"{args.photos}") if args.photos else photo_folder()
    if folder == SAMPLES_DIR:
        print(f"note: photos from {source}", file=sys.stderr)
    unseen_dir = args.unseen_photos or unseen_folder()
    unseen_limit = args.limit if args.unseen_limit is None else args.unseen_limit
    fill, blind, left_out = method_groups()
    if args.methods:
        wanted = [m.strip() for m in args.methods.split(",") if m.strip()]
        unknown = [m for m in wanted if m not in fill and m not in blind]
        if unknown:
            raise SystemExit(f"error: not an available method here: {', '.join(unknown)}")
        fill, blind = [m for m in fill if m in wanted], [m for m in blind if m in wanted]
    print(f"fill methods: {', '.join(fill)}; blind: {', '.join(blind) or 'none'}", file=sys.stderr)
    for name, why in left_out.items():
        print(f"left out {name}: {why}", file=sys.stderr)

    started = time.perf_counter()
    only = args.blind_only or args.edges_only or args.unseen_only
    if args.merge and (not args.methods or only):
        raise SystemExit("error: --merge goes with --methods (and without --blind-only/--edges-only/--unseen-only)")
    merge_into = _previous_table(args.out / "table.json") if args.merge else None  # refused before any work
    previous = _previous_table(args.out / "table.json") if only else None
    table: dict[str, Any] = previous or {
        "format": TABLE_FORMAT,
        "version": 1,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "settings": {
            "command": "python benchmarks/model_table.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "photo_source": source,
            "photo_folder": str(folder),
            "sizes": sizes,
            "limit": args.limit,
            "large_limit": large_limit,
            "seed": args.seed,
            "buckets": ["10-20%", "20-30%", "30-40%", "centre", "thin"],
        },
        "code": code_version(),
        "fill": {},
        "blind": None,
        "left_out": left_out,
    }

    def progress(fraction: float, message: str) -> None:
        print(f"\r[{time.perf_counter() - started:6.0f} s] {fraction:5.1%} {message:<60}", end="", file=sys.stderr)

    for k, size in enumerate([] if previous else sizes):
        photos = pick_photos(folder, size, args.limit if k == 0 else large_limit)
        result = evaluate(photos, fill, generate=BUCKETS, seed=args.seed, size=size, progress=progress)
        table["fill"][str(size)] = result.to_dict()
        print(file=sys.stderr)
    if (not previous or args.unseen_only) and unseen_dir is not None and unseen_limit > 0:
        # The same holes (seeded by photo name) on photos of another source: the fill part at the first size only.
        photos = pick_photos(unseen_dir, sizes[0], unseen_limit)
        result = evaluate(photos, fill, generate=BUCKETS, seed=args.seed, size=sizes[0], progress=progress)
        table["unseen"] = {
            "photo_source": "the photo set's unseen split: opencv-doc, a package no training photo comes from"
            if args.unseen_photos is None else str(unseen_dir),
            "photo_folder": str(unseen_dir),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "fill": {str(sizes[0]): result.to_dict()},
        }
        print(file=sys.stderr)
    elif not previous:
        print("note: no unseen photos (run `python -m trainer fetch-photos --split unseen`): unseen part skipped",
              file=sys.stderr)
    if not previous or args.edges_only:
        # Edges: edge-aware methods given the photo's own edges (as if traced by hand), the diffusion and PatchMatch
        # fills beside them (which ignore edges) for comparison.
        photos = pick_photos(folder, sizes[0], args.limit)
        aware = [name for name in fill if get_spec(name).capabilities.accepts_edges]
        entries = [*aware, *(b for b in EDGE_BASELINES if b in fill)]
        result = evaluate(photos, entries, generate=BUCKETS[1:3], seed=args.seed, size=sizes[0], guide_edges=True,
                          progress=progress)
        table["edges"] = {**result.to_dict(), "edge_aware": aware}
        print(file=sys.stderr)
    if args.reuse_blind and not previous:
        table["blind"] = (_previous_table(args.out / "table.json").get("blind")) or None
    elif blind and not args.no_blind and not args.edges_only and not args.unseen_only:
        photos = pick_photos(folder, sizes[0], args.limit)
        entries = [*blind, *(v for name in blind for v in BLIND_VARIANTS.get(name, ()))]
        result = evaluate(photos, entries, generate=[], seed=args.seed, size=sizes[0], contaminate=True,
                          progress=progress)
        table["blind"] = result.to_dict()
        table["blind"]["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        table["blind"]["code"] = code_version()
        print(file=sys.stderr)

    if merge_into is not None:
        measured, table = table, merge_into
        for key in merge_rows(table, measured):
            print(f"note: {key} not merged: measured on other photos or at another size", file=sys.stderr)
        table["settings"].setdefault("merged", []).append(measured["settings"]["command"])
        fill = sorted({r["model"] for r in table["fill"][str(table["settings"]["sizes"][0])]["rows"]})
        blind = sorted({r["model"] for r in (table.get("blind") or {}).get("restoration", [])}
                       - {v for variants in BLIND_VARIANTS.values() for v in variants})
    table["defaults"] = {}
    for task in TASKS:
        # `auto` routes box and thin holes to those defaults, so it cannot be one of them itself.
        exclude = ("auto",) if task in ("box", "thin") else ()
        name, why = choose_default(table, task, available=blind if task == "blind" else fill, exclude=exclude)
        table["defaults"][task] = {
            "method": name or FALLBACK[task], "why": why if name else f"nothing measured: {FALLBACK[task]}"
        }
    if merge_into is not None:
        pass  # the full run's settings and time stay; the merge is listed in settings["merged"]
    elif previous:
        key = "edges_command" if args.edges_only else "unseen_command" if args.unseen_only else "blind_command"
        table["settings"][key] = "python benchmarks/model_table.py " + " ".join(argv if argv is not None else sys.argv[1:])
    else:
        table["seconds"] = round(time.perf_counter() - started, 1)

    args.out.mkdir(parents=True, exist_ok=True)
    # The numbers first: a contact sheet that fails (a checkpoint removed meanwhile) must not lose an hour's table.
    atomic_write_text(args.out / "table.json", json.dumps(table, indent=2) + "\n")
    if not previous:  # a merge redraws it too: the merged method's fills changed
        sheet_photos = pick_photos(folder, sizes[0], args.limit)[:SHEET_ROWS]
        sheet = contact_sheet(sheet_photos, [m for m in fill if create_method(m).is_available()], sizes[0], args.seed)
        save_image(args.out / "contact_sheet.png", sheet, overwrite=True)
    write_readme(markdown(table), args.out / "README.md")
    for card in update_cards(table, args.out):
        print(f"updated {card.name}", file=sys.stderr)
    for name in fill:
        score = fill_score(table, name)
        print(f"{name}: hole L1 over 20-40 % at {sizes[0]}² = {_f(score[0] if score else None, 2)}", file=sys.stderr)
    print(f"wrote {args.out / 'table.json'} and README.md in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
