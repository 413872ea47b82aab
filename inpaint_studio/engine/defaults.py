"""Default methods chosen from the measured table in models/table.json (written by benchmarks/model_table.py),
not by name: once trained checkpoints land in models/ and the table is re-run, the defaults follow.

- fill: the lowest hole L1 averaged over the 20–30 % and 30–40 % buckets at the table's smallest size;
  candidates within 2 % of the best are a near-tie, won by the lower recorded time per image (times within
  25 % of each other count as equal — timing noise — and then the lower L1 wins).
- blind: the highest restoration PSNR gain over the untouched damaged input, averaged over damage kinds.

Only methods that are registered and `is_available()` here compete. A missing or unreadable table (or one with
no available method in it) falls back to `telea` / `classical_restore`; this module never raises for that.
Reading the table is plain JSON: no torch, so the UI can call it at start-up.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from inpaint_studio.core import paths

Task = Literal["fill", "blind"]
TABLE_FORMAT = "inpaint-studio-model-table"
FALLBACK: dict[str, str] = {"fill": "telea", "blind": "classical_restore"}
FILL_BUCKETS = ("20-30%", "30-40%")
NEAR_TIE = 0.02  # relative hole-L1 difference under which the faster method wins
SAME_SPEED, SAME_SPEED_ABS = 1.25, 0.005  # times this close to the fastest count as equally fast (noise)


def _default_table() -> Path:
    # Looked up at call time so tests (and a relocated install) can point SHIPPED_MODELS_DIR elsewhere.
    return paths.SHIPPED_MODELS_DIR / "table.json"


def load_table(table_path: Path | None = None) -> dict[str, Any] | None:
    """The parsed table, or None when it is missing, unreadable or not a model table."""
    path = Path(table_path) if table_path is not None else _default_table()
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(table, dict) or table.get("format") != TABLE_FORMAT:
        return None
    return table


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _fill_rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    fill = table.get("fill")
    if not isinstance(fill, dict) or not fill:
        return []
    try:
        size = min(fill, key=int)  # the smallest size: where the most photos were measured
    except (TypeError, ValueError):
        return []
    rows = fill[size].get("rows") if isinstance(fill[size], dict) else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def fill_score(table: dict[str, Any], method: str) -> tuple[float, float | None] | None:
    """(hole L1 averaged over the 20–30 % and 30–40 % buckets, seconds per image or None), or None when the
    table lacks either bucket for `method`."""
    rows = {r.get("bucket"): r for r in _fill_rows(table) if r.get("model") == method}
    l1s = [_number(rows[b].get("l1_hole")) for b in FILL_BUCKETS if b in rows]
    if len(l1s) != len(FILL_BUCKETS) or any(v is None for v in l1s):
        return None
    times = [_number(rows[b].get("seconds_per_image")) for b in FILL_BUCKETS]
    seconds = sum(times) / len(times) if all(t is not None for t in times) else None  # type: ignore[arg-type]
    return sum(l1s) / len(l1s), seconds  # type: ignore[arg-type]


def blind_score(table: dict[str, Any], method: str) -> float | None:
    """Mean restoration PSNR gain (dB) over the damaged input across damage kinds, or None."""
    blind = table.get("blind")
    rows = blind.get("restoration") if isinstance(blind, dict) else None
    if not isinstance(rows, list):
        return None
    gains = []
    for r in rows:
        if isinstance(r, dict) and r.get("model") == method:
            restored, before = _number(r.get("psnr")), _number(r.get("input_psnr"))
            if restored is not None and before is not None:
                gains.append(restored - before)
    return sum(gains) / len(gains) if gains else None


def available_methods() -> list[str]:
    """Registered methods that can run here (weights found). Creating a method never imports torch."""
    from inpaint_studio.core.errors import InpaintStudioError
    from inpaint_studio.engine.base import create_method, method_specs

    names = []
    for spec in method_specs():
        try:
            if create_method(spec.name).is_available():
                names.append(spec.name)
        except (InpaintStudioError, ValueError, OSError):
            continue
    return names


def choose_default(
    table: dict[str, Any], task: Task, available: Iterable[str] | None = None
) -> tuple[str | None, str]:
    """(best measured available method for `task`, a one-line reason), or (None, reason) when none qualifies."""
    names = list(available) if available is not None else available_methods()
    if task == "fill":
        scored = [(n, s) for n in names if (s := fill_score(table, n)) is not None]
        if not scored:
            return None, "no available method measured on fill"
        best_l1 = min(s[0] for _, s in scored)
        near = [(n, s) for n, s in scored if s[0] <= best_l1 * (1 + NEAR_TIE)]
        # Among near-ties the faster wins (unknown time counts as slowest). Times within SAME_SPEED of the
        # fastest are timing noise, not a difference: there the lower L1 decides.
        times = [s[1] if s[1] is not None else math.inf for _, s in near]
        fastest = min(times)
        quick = [ns for ns, t in zip(near, times, strict=True) if t <= fastest * SAME_SPEED + SAME_SPEED_ABS]
        name, (l1, seconds) = min(quick, key=lambda ns: ns[1][0])
        why = f"hole L1 {l1:.2f} averaged over the 20–30 % and 30–40 % buckets"
        if name != min(near, key=lambda ns: ns[1][0])[0]:
            why += f", within {NEAR_TIE:.0%} of the lowest and faster ({seconds:.2f} s / image)"
        else:
            why += ", the lowest"
        others = [f"{n} {s[0]:.2f}" for n, s in near if n != name]
        if others:  # say so when the win is inside the noise
            why += f" (near-tie within {NEAR_TIE:.0%}: {', '.join(others)})"
        return name, why
    if task == "blind":
        gains = [(n, g) for n in names if (g := blind_score(table, n)) is not None]
        if not gains:
            return None, "no available method measured on blind restoration"
        name, gain = max(gains, key=lambda ng: ng[1])
        return name, f"highest restoration PSNR gain over the damaged input ({gain:+.2f} dB)"
    raise ValueError(f"task must be 'fill' or 'blind', not {task!r}")


def default_method(task: Task, table_path: Path | None = None, *, available: Iterable[str] | None = None) -> str:
    """The method to preselect for `task` ("fill" or "blind"); never raises for a missing or broken table.

    `table_path` defaults to SHIPPED_MODELS_DIR / "table.json" (resolved at call time). `available`: the
    method names that can run here when the caller already knows them (the UI's model list); by default every
    registered method is asked `is_available()`."""
    if task not in FALLBACK:
        raise ValueError(f"task must be 'fill' or 'blind', not {task!r}")
    table = load_table(table_path)
    if table is None:
        return FALLBACK[task]
    try:
        name, _ = choose_default(table, task, available)
    except (TypeError, KeyError, AttributeError, ValueError):  # a table edited into an odd shape
        return FALLBACK[task]
    return name or FALLBACK[task]


def measured_summary(table_path: Path | None = None) -> dict[str, str]:
    """{method: short text of its measured numbers}, e.g. "hole L1 21.2 @20–30 %, 0.01 s / image" or
    "restoration +3.1 dB PSNR"; empty when there is no readable table. For `inpaint-studio models` and the UI."""
    table = load_table(table_path)
    if table is None:
        return {}
    out: dict[str, str] = {}
    try:
        for r in _fill_rows(table):
            if r.get("bucket") == "20-30%" and isinstance(r.get("model"), str):
                l1, seconds = _number(r.get("l1_hole")), _number(r.get("seconds_per_image"))
                if l1 is not None:
                    text = f"hole L1 {l1:.1f} @20–30 %"
                    out[r["model"]] = text + (f", {seconds:.2f} s / image" if seconds is not None else "")
        blind = table.get("blind")
        models = {r.get("model") for r in blind.get("restoration", [])} if isinstance(blind, dict) else set()
        for model in sorted(m for m in models if isinstance(m, str)):
            gain = blind_score(table, model)
            if gain is not None:
                text = f"restoration {gain:+.1f} dB PSNR"
                out[model] = f"{out[model]}; {text}" if model in out else text
    except (TypeError, AttributeError):
        return out
    return out
