"""The campaign's report in plain words (`campaign.md`, beside the numbers in `campaign.json`), and the summary
of a model table it compares before and after."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def table_summary(path: Path) -> dict[str, Any]:
    """The table's defaults and each fill's hole L1 over the 20–40 % buckets at the first size."""
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    fill = table.get("fill") or {}
    first = fill[min(fill, key=int)] if fill else {}
    scores: dict[str, list[float]] = {}
    for row in first.get("rows") or []:
        if row.get("bucket") in ("20-30%", "30-40%") and row.get("l1_hole") is not None:
            scores.setdefault(row["model"], []).append(float(row["l1_hole"]))
    return {"date": table.get("date"),
            "defaults": {k: v.get("method") for k, v in (table.get("defaults") or {}).items()},
            "hole_l1_20_40": {m: round(sum(v) / len(v), 2) for m, v in scores.items()}}


def _metric_words(metrics: dict[str, float]) -> str:
    keys = ("l1_hole", "telea_l1_hole", "edge_l1_hole", "mask_iou", "psnr")
    shown = [f"{k} {metrics[k]:.4g}" for k in keys if k in metrics]
    return ", ".join(shown) or "–"


def _tune_words(tune: dict[str, Any]) -> str:
    if "skipped" in tune:
        return f"skipped: {tune['skipped']}"
    words = []
    if "working_size" in tune:
        words.append(f"working size {tune['working_size'] or 'full'}")
    blind = tune.get("blind") or {}
    if blind:
        words.append(f"blind {blind.get('detector')} + {blind.get('fill')} at {blind.get('threshold')}")
    return ", ".join(words) or "–"


def report_markdown(report: dict[str, Any]) -> str:
    s = report["settings"]
    lines = [
        "# Training campaign",
        "",
        f"Preset **{s['preset']}** on **{s['device']}** ({'AMP, channels-last' if s['amp'] else 'float32'}), "
        f"budget {s['minutes']:g} min ({s['reserve']:.0%} kept for export, tune and floor checks), init {s['init']}, "
        f"data: {s['data']}." + (f" Took {report['total_minutes']:g} min in all." if "total_minutes" in report else ""),
        "",
        *[f"Starting point of {m}: {how}.\n" for m, how in (report.get("init") or {}).items()],
        "## Training stages",
        "",
        "| stage | run | steps | batch | width / size | minutes (planned) | stopped | before | after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["stages"]:
        planned = report["plan_seconds"].get(r["stage"])
        lines.append(
            f"| {r['stage']} | `{r['run_dir']}` | {r['start_step']} → {r['end_step']} ({r['steps']}) | {r['batch_size']} | "
            f"{r['width']:g} / {r['image_size']}² | {r['minutes']:g}"
            f"{f' ({planned / 60:.1f})' if planned is not None else ' (merge)'} | {r['stopped']} | "
            f"{_metric_words(r['before'])} | {_metric_words(r['after'])} |")
    lines += ["", "## Exports", "", "| checkpoint | tune | floor | shipped |", "|---|---|---|---|"]
    for m in report["models"]:
        if "error" in m:
            lines.append(f"| {m['model']}: **not trained** ({m['error']}) | – | – | no |")
            continue
        floor = m["floor"]
        verdict = ("passed" if floor["passed"] else "**below the floor**") + f": {floor['words']}"
        tune = _tune_words(m.get("tune") or {})
        lines.append(f"| `{m['export']}` | {tune or '–'} | {verdict} | {m['shipped']} |")
    table = report.get("table")
    if table:
        lines += ["", "## Model table", "", f"`{table['command']}` (exit {table['exit_code']}, "
                  f"{table['minutes']:g} min, into `{table['out']}`). Before: the shipped table (its own photos and limits); "
                  "after: this measurement, on fewer photos when the limit is smaller, so small differences mean "
                  "little.", "",
                  "| | before | after |", "|---|---|---|"]
        before, after = table.get("before") or {}, table.get("after") or {}
        for task in sorted(set(before.get("defaults", {})) | set(after.get("defaults", {}))):
            lines.append(f"| default for {task} | {before.get('defaults', {}).get(task, '–')} | "
                         f"{after.get('defaults', {}).get(task, '–')} |")
        scores_b, scores_a = before.get("hole_l1_20_40", {}), after.get("hole_l1_20_40", {})
        for method in sorted(set(scores_b) | set(scores_a)):
            lines.append(f"| {method}: hole L1, 20–40 % | {scores_b.get(method, '–')} | {scores_a.get(method, '–')} |")
    elif table is None:
        lines += ["", "The model table was not re-measured (`--no-table`)."]
    return "\n".join(lines) + "\n"
