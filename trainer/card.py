"""The model card written next to an exported checkpoint (`NAME.md`): what the network is next to the paper's,
every training stage that produced it (a run seeded by `init_from` lists the run it came from first), the
validation curve of each stage, the validation numbers at export, and how to continue training.

`benchmarks/model_table.py` later fills the section between the `card-table` markers with this model's rows
of the measured table in models/README.md.
"""

from __future__ import annotations

import csv
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inpaint_studio.core.sections import CARD_TABLE_BEGIN as TABLE_BEGIN
from inpaint_studio.core.sections import CARD_TABLE_END as TABLE_END
from trainer.config import ConfigError
from trainer.recipes import get_recipe

CURVE_ROWS = 12  # a curve longer than this is thinned to evenly spaced rows (first and last kept)


@dataclass
class Stage:
    """One training run in the chain that produced the exported weights."""

    run_dir: Path | None
    config: dict[str, Any]
    steps: int
    wall_time_s: float
    device: str
    curve: list[dict[str, str]] = field(default_factory=list)  # val.csv rows, each with "wall_time" added


def read_curve(run_dir: Path | None) -> list[dict[str, str]]:
    """val.csv of a run, each row given the wall time of the nearest logged training step at or before it."""
    if run_dir is None or not (run_dir / "val.csv").is_file():
        return []
    with (run_dir / "val.csv").open(newline="", encoding="utf-8") as fh:
        rows = [dict(r) for r in csv.DictReader(fh)]
    walls: list[tuple[int, float]] = []
    if (run_dir / "log.csv").is_file():
        with (run_dir / "log.csv").open(newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                try:
                    walls.append((int(float(r["step"])), float(r["wall_time"])))
                except (KeyError, TypeError, ValueError):
                    continue
    for row in rows:
        step = int(float(row.get("step", 0)))
        before = [w for s, w in walls if s <= step]
        row["wall_time"] = f"{before[-1]:.0f}" if before and step > 0 else "0"
    return rows


def thin(rows: Sequence[dict[str, str]], limit: int = CURVE_ROWS) -> list[dict[str, str]]:
    if len(rows) <= limit:
        return list(rows)
    picks = sorted({round(i * (len(rows) - 1) / (limit - 1)) for i in range(limit)})
    return [rows[i] for i in picks]


def _num(value: str | None, digits: int = 4) -> str:
    try:
        return f"{float(value):.{digits}g}" if value not in (None, "") else "–"
    except ValueError:
        return "–"


def curve_table(rows: Sequence[dict[str, str]], key: str) -> list[str]:
    """Markdown rows: step, minutes, the stage's key metric next to Telea's, PSNR, mask IoU, edge precision and
    recall where logged."""
    if not rows:
        return ["No validation curve was recorded."]
    extra = [k for k in ("psnr", "ssim_hole", "detail", "swd", "mask_iou", "edge_l1_hole", "edge_precision", "edge_recall")
             if k in rows[0] and k != key]
    cols = [key, *([f"telea_{key}"] if f"telea_{key}" in rows[0] else []), *extra]
    out = ["| step | minutes | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for r in thin(rows):
        minutes = f"{float(r.get('wall_time', 0)) / 60:.0f}"
        out.append(f"| {r.get('step', '')} | {minutes} | " + " | ".join(_num(r.get(c)) for c in cols) + " |")
    return out


def _stage_weights(cfg: dict[str, Any]) -> dict[str, Any]:
    """The loss weights this stage trained with: a stage's unused default terms (EdgeConnect's edge losses in
    its inpaint stage) are left out; settings the user added (hole, adversarial_start) stay."""
    weights = dict(cfg.get("weights") or {})
    try:
        recipe = get_recipe(str(cfg.get("recipe")))
    except ConfigError:
        return weights
    stage = str(cfg.get("stage") or recipe.default_stage())
    terms = recipe.loss_terms(stage)
    if terms is None:
        return weights
    defaults = recipe.defaults(stage).get("weights", {})
    return {k: v for k, v in weights.items() if k in terms or k not in defaults}


def _settings(cfg: dict[str, Any]) -> str:
    schedule = cfg.get("lr_schedule", "constant")
    lr = f"lr {cfg.get('lr')}" + (f" ({schedule}, warm-up {cfg.get('warmup_steps', 0)})" if schedule != "constant" else "")
    what = (f"damage {', '.join(cfg.get('damage') or [])}" if cfg.get("recipe") == "vcnet"
            else f"masks {cfg.get('mask_kind')}")
    used = _stage_weights(cfg)
    weights = ", ".join(f"{k} {v:g}" if isinstance(v, int | float) else f"{k} {v}" for k, v in used.items())
    network = f"; network {cfg['network']}" if cfg.get("network") else ""
    if float(cfg.get("mask_tau_max", 1.0)) < 1.0:
        weights += f" (mask BCE τ capped at {cfg['mask_tau_max']})"
    return (f"{cfg.get('image_size')}², batch {cfg.get('batch_size')}, width {cfg.get('width')}, {lr}, betas "
            f"{cfg.get('betas')}, {what}; loss weights {weights}{network}; {cfg.get('threads') or 'default'} CPU "
            f"thread(s) when on CPU; seed {cfg.get('seed')}")


def _published_words(method: str) -> str:
    from inpaint_studio.engine.importer import ensure_layouts, list_layouts

    ensure_layouts()
    if any(layout.method == method for layout in list_layouts()):
        return "the paper's full checkpoints still import (`inpaint-studio models import FILE`)."
    return "no published checkpoints exist for this method."


def model_card(
    name: str,
    method: str,
    meta: dict[str, Any],
    networks: Sequence[tuple[str, str, dict[str, Any], int, int | None]],
    stages: Sequence[Stage],
    best_key: str,
    resume_hint: str,
    notes: str = "",
    curve_image: bool = True,
) -> str:
    """networks: (component, registered network, config, parameters, parameters at the paper's width)."""
    t, m = meta["training"], meta["metrics"]
    total_s = sum(s.wall_time_s for s in stages)
    lines = [
        f"# {name}", "",
        f"Method `{method}`, trained from scratch with the Inpaint Studio trainer (recipe `{t['recipe']}`{', stage `' + t['stage'] + '`' if t['stage'] else ''}); "
        f"{len(stages)} training stage(s), {total_s / 3600:.2f} h of training in all. A smaller variant than the "
        f"paper's where the parameter counts below say so; {_published_words(method)}", "",
        *([f"Variant: **{meta['variant']}** (our own design, not the paper's layout).", ""] if meta.get("variant") else []),
        "## Networks", "",
        "| component | network | parameters | at the paper's width | config |", "|---|---|---|---|---|",
    ]
    for comp, net, config, params, paper in networks:
        lines.append(f"| `{comp}` | `{net}` | {params:,} | {f'{paper:,}' if paper else '–'} | `{config}` |")
    if notes.strip():
        # Notes written with their own heading (as the shipped cards' are) keep it instead of gaining a second.
        text = notes.strip()
        heading = [] if text.startswith("## ") else ["## Where it stands", ""]
        lines += ["", *heading, text]
    lines += ["", "## Training", ""]
    for i, s in enumerate(stages, 1):
        cfg = s.config
        key = best_key if i == len(stages) else _stage_key(s.curve)
        where = f"`{s.run_dir}`" if s.run_dir is not None else "(run directory not kept)"
        lines += [
            f"**Stage {i}: `{cfg.get('recipe')}{' ' + cfg['stage'] if cfg.get('stage') else ''}`** — {where}, "
            f"{s.steps} steps, {s.wall_time_s / 60:.0f} min on {s.device}",
            "",
            f"- {_settings(cfg)}",
            f"- data: {cfg.get('data') or 'photo set train split (trainer/data/photos.tsv)'}; validation: "
            f"{cfg.get('val_data') or 'photo set val split'} ({cfg.get('val_images')} images, fixed masks)",
            "",
            f"Validation curve (`{key}`, lower is better"
            + ("; Telea on the same images and holes):" if f"telea_{key}" in (s.curve or [{}])[0] else "):"),
            "",
            *curve_table(s.curve, key),
            "",
        ]
    lines += [
        f"Feature trunk for perceptual/style losses: {t.get('feature_trunk', 'none')}; terms off for want of a "
        f"trunk: {', '.join(t['vgg_terms_off']) or 'none'}. Exported {time.strftime('%Y-%m-%d %H:%M')} from "
        f"`{Path(t['checkpoint']).name}` ({'float16' if meta.get('half') else 'float32'} weights) on "
        f"{platform.node() or 'unknown host'}"
        + (f"; the training curve image is `{name}.curve.png`." if curve_image else "."), "",
        "## Validation at export (training scale, this model next to Telea on the same images and holes)", "",
    ]
    keys = [k for k in m if not k.startswith("telea_")]
    if keys:
        lines += ["| metric | this model | Telea |", "|---|---|---|"]
        lines += [f"| {k} | {m[k]:.4g} | {m['telea_' + k]:.4g} |" if f"telea_{k}" in m else f"| {k} | {m[k]:.4g} | |"
                  for k in keys]
    else:
        lines.append("No validation metrics were recorded.")
    lines += [
        "", "L1 in grey levels (0–255), PSNR in dB, SSIM in [0, 1]; `_hole` = inside the mask only; detail = the "
        "fill's |Laplacian| energy in the hole over the truth's (1 = as detailed as the photo, < 1 blur); swd = patch "
        "texture distance to the truth in the hole (lower is more photo-like; `core/metrics.py`).", "",
        "## Measured in the model table", "", TABLE_BEGIN,
        "Not measured yet: run `python benchmarks/model_table.py`.", TABLE_END, "",
        "## Continue training", "", resume_hint, "",
    ]
    return "\n".join(lines)


def _stage_key(curve: Sequence[dict[str, str]]) -> str:
    # A stage that fills is judged by its fill (VCNet's RIN stage logs its frozen MPN's BCE too), an edge
    # stage by its edges, a mask stage by its BCE.
    for key in ("l1_hole", "edge_l1_hole", "mask_bce_tau"):
        if curve and key in curve[0]:
            return key
    return "l1_hole"
