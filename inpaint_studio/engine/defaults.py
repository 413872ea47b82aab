"""Default methods chosen from the measured table in models/table.json (written by benchmarks/model_table.py),
not by name: once trained checkpoints land in models/ and the table is re-run, the defaults follow.

- fill (object removal — the app's Inpaint, the CLI without --model): among methods whose hole L1, averaged over
  the 20–30 % and 30–40 % free-form buckets at the table's smallest size, is within FILL_MARGIN (5 %) of the
  lowest, the one whose texture is most like the photo wins: the lowest patch SWD (`core.metrics.patch_swd`);
  SWDs within 2 % of each other are a tie, won by the detail ratio nearer 1. L1 alone would pick the smoothest
  fill: L1 rewards blur. A table without texture numbers falls back to the L1 rule below.
- box (a large rectangular hole, the table's "centre" bucket): the same texture rule on that bucket.
- thin (thin damage: scratches, a thin brushed line; the "thin" bucket): the lowest hole L1; candidates within 2 %
  of the best are a near-tie, won by the lower recorded time per image (times within 25 % of each other count
  as equal — timing noise — and then the lower L1 wins). A thin hole's detail is the neighbours' anyway.
- edges (a fill guided by the edges a person drew — `inpaint --edges`, the app's "Inpaint with my edges"): the
  table's "edges" part gives edge-aware methods the photo's own edges; among those within FILL_MARGIN of the lowest
  hole L1 there, the highest edge recall (how many of the given edges the fill shows) wins.
- blind: the highest restoration PSNR gain over the untouched damaged input, averaged over damage kinds.

Only methods that are registered and `is_available()` here compete. A missing or unreadable table (or one with
no available method in it) falls back to FALLBACK; this module never raises for that.
Reading the table is plain JSON: no torch, so the UI can call it at start-up.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from inpaint_studio.core import paths

Task = Literal["fill", "box", "thin", "edges", "blind"]
TASKS: tuple[str, ...] = ("fill", "box", "thin", "edges", "blind")
TABLE_FORMAT = "inpaint-studio-model-table"
FALLBACK: dict[str, str] = {
    "fill": "telea", "box": "telea", "thin": "telea", "edges": "edge_guided", "blind": "classical_restore"
}
FILL_BUCKETS = ("20-30%", "30-40%")
TASK_BUCKETS: dict[str, tuple[str, ...]] = {"fill": FILL_BUCKETS, "box": ("centre",), "thin": ("thin",)}
TEXTURE_TASKS = ("fill", "box")  # object removal: texture decides among the accurate enough
FILL_MARGIN = 0.05  # relative hole-L1 margin within which texture (SWD) decides
SWD_TIE = 0.02  # relative SWD difference under which the detail ratio nearer 1 wins
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


def _mean_of(rows: dict[Any, dict[str, Any]], buckets: tuple[str, ...], key: str) -> float | None:
    values = [_number(rows[b].get(key)) for b in buckets if b in rows]
    if len(values) != len(buckets) or any(v is None for v in values):
        return None
    return sum(values) / len(values)  # type: ignore[arg-type]


def bucket_scores(table: dict[str, Any], method: str, buckets: tuple[str, ...] = FILL_BUCKETS) -> dict[str, float] | None:
    """{"l1_hole", and where measured "seconds_per_image", "swd", "detail"}: `method`'s means over `buckets` at the
    table's smallest size, or None when the table lacks a bucket's hole L1 for it."""
    rows = {r.get("bucket"): r for r in _fill_rows(table) if r.get("model") == method}
    l1 = _mean_of(rows, buckets, "l1_hole")
    if l1 is None:
        return None
    out = {"l1_hole": l1}
    for key in ("seconds_per_image", "swd", "detail"):
        value = _mean_of(rows, buckets, key)
        if value is not None:
            out[key] = value
    return out


def fill_score(table: dict[str, Any], method: str) -> tuple[float, float | None] | None:
    """(hole L1 averaged over the 20–30 % and 30–40 % buckets, seconds per image or None), or None when the
    table lacks either bucket for `method`."""
    scores = bucket_scores(table, method)
    return None if scores is None else (scores["l1_hole"], scores.get("seconds_per_image"))


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


def _lowest_l1(scored: list[tuple[str, dict[str, float]]], label: str) -> tuple[str, str]:
    """The L1 rule: the lowest hole L1; near-ties (NEAR_TIE) go to the faster method."""
    best_l1 = min(s["l1_hole"] for _, s in scored)
    near = [(n, s) for n, s in scored if s["l1_hole"] <= best_l1 * (1 + NEAR_TIE)]
    # Among near-ties the faster wins (unknown time counts as slowest). Times within SAME_SPEED of the
    # fastest are timing noise, not a difference: there the lower L1 decides.
    times = [s.get("seconds_per_image", math.inf) for _, s in near]
    fastest = min(times)
    quick = [ns for ns, t in zip(near, times, strict=True) if t <= fastest * SAME_SPEED + SAME_SPEED_ABS]
    name, scores = min(quick, key=lambda ns: ns[1]["l1_hole"])
    why = f"hole L1 {scores['l1_hole']:.2f} {label}"
    if name != min(near, key=lambda ns: ns[1]["l1_hole"])[0]:
        why += f", within {NEAR_TIE:.0%} of the lowest and faster ({scores['seconds_per_image']:.2f} s / image)"
    else:
        why += ", the lowest"
    others = [f"{n} {s['l1_hole']:.2f}" for n, s in near if n != name]
    if others:  # say so when the win is inside the noise
        why += f" (near-tie within {NEAR_TIE:.0%}: {', '.join(others)})"
    return name, why


def _most_photo_like(scored: list[tuple[str, dict[str, float]]], label: str) -> tuple[str, str] | None:
    """The texture rule: within FILL_MARGIN of the lowest L1, the lowest SWD (ties: detail nearer 1)."""
    best_l1 = min(s["l1_hole"] for _, s in scored)
    near = [(n, s) for n, s in scored if s["l1_hole"] <= best_l1 * (1 + FILL_MARGIN)]
    if any("swd" not in s or "detail" not in s for _, s in near):
        return None  # an older table without texture numbers
    best_swd = min(s["swd"] for _, s in near)
    ties = [(n, s) for n, s in near if s["swd"] <= best_swd * (1 + SWD_TIE)]
    name, scores = min(ties, key=lambda ns: (abs(math.log(max(ns[1]["detail"], 1e-6))), ns[1]["swd"]))
    why = (
        f"the most photo-like texture (patch SWD {scores['swd']:.2f}, detail {scores['detail']:.2f}) among methods "
        f"within {FILL_MARGIN:.0%} of the lowest hole L1 {label} (its L1 {scores['l1_hole']:.2f}, lowest {best_l1:.2f})"
    )
    return name, why


def _best_edge_follower(table: dict[str, Any], names: list[str]) -> tuple[str | None, str]:
    edges = table.get("edges")
    if not isinstance(edges, dict) or not isinstance(edges.get("rows"), list):
        return None, "no edge-guided measurement in the table"
    aware = set(edges.get("edge_aware") or []) & set(names)
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for r in edges["rows"]:
        if isinstance(r, dict) and r.get("model") in aware:
            rows.setdefault(r["model"], {})[r.get("bucket")] = r
    scored = []
    for name, by_bucket in rows.items():
        l1, recall = _mean_of(by_bucket, FILL_BUCKETS, "l1_hole"), _mean_of(by_bucket, FILL_BUCKETS, "edge_recall")
        if l1 is not None and recall is not None:
            scored.append((name, l1, recall))
    if not scored:
        return None, "no available edge-aware method measured with edges"
    best_l1 = min(l1 for _, l1, _ in scored)
    near = [s for s in scored if s[1] <= best_l1 * (1 + FILL_MARGIN)]
    name, l1, recall = max(near, key=lambda s: (s[2], -s[1]))
    return name, (
        f"the highest edge recall ({recall:.2f}) given the photo's own edges, among edge-aware methods within "
        f"{FILL_MARGIN:.0%} of the lowest hole L1 there (its L1 {l1:.2f}, lowest {best_l1:.2f})"
    )


def choose_default(
    table: dict[str, Any], task: Task, available: Iterable[str] | None = None, *, exclude: Iterable[str] = ()
) -> tuple[str | None, str]:
    """(best measured available method for `task`, a one-line reason), or (None, reason) when none qualifies.
    `exclude`: names that may not win (the `auto` fill, when choosing the methods it routes to)."""
    if task not in FALLBACK:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, not {task!r}")
    left_out = set(exclude)
    names = [n for n in (list(available) if available is not None else available_methods()) if n not in left_out]
    if task == "edges":
        return _best_edge_follower(table, names)
    if task == "blind":
        gains = [(n, g) for n in names if (g := blind_score(table, n)) is not None]
        if not gains:
            return None, "no available method measured on blind restoration"
        name, gain = max(gains, key=lambda ng: ng[1])
        return name, f"highest restoration PSNR gain over the damaged input ({gain:+.2f} dB)"
    buckets = TASK_BUCKETS[task]
    label = "averaged over the 20–30 % and 30–40 % buckets" if task == "fill" else f"on the {buckets[0]} holes"
    scored = [(n, s) for n in names if (s := bucket_scores(table, n, buckets)) is not None]
    if not scored:
        return None, f"no available method measured on {task}"
    if task in TEXTURE_TASKS and (chosen := _most_photo_like(scored, label)) is not None:
        return chosen
    return _lowest_l1(scored, label)


def default_method(
    task: Task, table_path: Path | None = None, *, available: Iterable[str] | None = None, exclude: Iterable[str] = ()
) -> str:
    """The method to preselect for `task` (one of TASKS); never raises for a missing or broken table.

    `table_path` defaults to SHIPPED_MODELS_DIR / "table.json" (resolved at call time). `available`: the
    method names that can run here when the caller already knows them (the UI's model list); by default every
    registered method is asked `is_available()`."""
    if task not in FALLBACK:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, not {task!r}")
    table = load_table(table_path)
    if table is None:
        return FALLBACK[task]
    try:
        name, _ = choose_default(table, task, available, exclude=exclude)
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
                detail, swd = _number(r.get("detail")), _number(r.get("swd"))
                if l1 is not None:
                    text = f"hole L1 {l1:.1f} @20–30 %"
                    text += f", detail {detail:.2f}, patch SWD {swd:.2f}" if detail is not None and swd is not None else ""
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


# --- plain words -------------------------------------------------------------------------------------------
# What a person reads first in the model picker and `inpaint-studio models`; the numbers stay one click away
# (measured_summary). The thresholds only choose words: they decide nothing.


def _texture_words(detail: float) -> str:
    if detail < 0.5:
        return "smooth, blurred fill"
    if detail < 0.8:
        return "softer than the photo"
    if detail <= 1.25:
        return "photo-like texture"
    return "grainier than the photo"


def _accuracy_words(l1: float, best: float) -> str:
    if l1 <= best * (1 + FILL_MARGIN):
        return "among the most accurate"
    if l1 <= best * 1.2:
        return "fairly accurate"
    return "less accurate than the best"


def _speed_words(seconds: float) -> str:
    if seconds < 0.2:
        return "instant"
    if seconds < 2:
        return "about a second per photo"
    if seconds < 10:
        return "a few seconds per photo"
    return "slow"


def measured_words(table_path: Path | None = None) -> dict[str, str]:
    """{method: how it measured, in plain words}, e.g. "photo-like texture, among the most accurate, about a
    second per photo" or "repairs most of the damage it finds"; empty without a readable table."""
    table = load_table(table_path)
    if table is None:
        return {}
    out: dict[str, str] = {}
    try:
        names = sorted({r["model"] for r in _fill_rows(table) if isinstance(r.get("model"), str)})
        scores = {n: s for n in names if (s := bucket_scores(table, n)) is not None}
        best = min((s["l1_hole"] for s in scores.values()), default=None)
        for name, s in scores.items():
            words = [_texture_words(s["detail"])] if "detail" in s else []
            words.append(_accuracy_words(s["l1_hole"], best))  # type: ignore[arg-type]
            if "seconds_per_image" in s:
                words.append(_speed_words(s["seconds_per_image"]))
            out[name] = ", ".join(words)
        blind = table.get("blind")
        models = {r.get("model") for r in blind.get("restoration", [])} if isinstance(blind, dict) else set()
        for model in sorted(m for m in models if isinstance(m, str)):
            gain = blind_score(table, model)
            if gain is None:
                continue
            text = (
                "repairs most of the damage it finds" if gain >= 3
                else "repairs some of the damage it finds" if gain >= 1
                else "barely improves damaged photos"
            )
            out[model] = f"{out[model]}; {text}" if model in out else text
    except (TypeError, AttributeError, KeyError):
        return out
    return out


def below_default(table_path: Path | None = None, available: Iterable[str] | None = None) -> dict[str, str]:
    """{method: the default it measures below}: fill methods whose hole L1 is more than FILL_MARGIN above the
    object-removal default's, blind methods whose restoration gain is more than 0.5 dB under the blind default's.
    The picker says so where the method is picked."""
    table = load_table(table_path)
    if table is None:
        return {}
    names = list(available) if available is not None else available_methods()
    out: dict[str, str] = {}
    try:
        fill = default_method("fill", table_path, available=names)
        reference = bucket_scores(table, fill)
        for name in names:
            scores = bucket_scores(table, name)
            if name != fill and reference and scores and scores["l1_hole"] > reference["l1_hole"] * (1 + FILL_MARGIN):
                out[name] = fill
        blind = default_method("blind", table_path, available=names)
        best_gain = blind_score(table, blind)
        for name in names:
            gain = blind_score(table, name)
            if name != blind and best_gain is not None and gain is not None and gain < best_gain - 0.5:
                out[name] = blind
    except (TypeError, AttributeError, KeyError):
        return out
    return out
