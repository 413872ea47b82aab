"""What a run leaves behind for a human: CSV logs (training losses, validation metrics), TensorBoard
events when the package is installed, and a loss/metric plot drawn with Pillow (matplotlib is not a
dependency). Only rank 0 writes."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

_COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
            (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


class CsvLog:
    """Append-only CSV whose columns grow as new keys appear (the file is rewritten then)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as fh:
                self.rows = [dict(r) for r in csv.DictReader(fh)]
        self.columns: list[str] = list(self.rows[0]) if self.rows else []

    def truncate_after(self, step: int) -> None:
        """Drop rows past `step` (a resumed run repeats them)."""
        kept = [r for r in self.rows if int(float(r.get("step", 0))) <= step]
        if len(kept) != len(self.rows):
            self.rows = kept
            self._rewrite()

    def append(self, row: dict[str, Any]) -> None:
        new = [k for k in row if k not in self.columns]
        self.rows.append(row)
        if new:
            self.columns += new
            self._rewrite()
            return
        with self.path.open("a", newline="", encoding="utf-8") as fh:
            csv.DictWriter(fh, self.columns).writerow(row)

    def _rewrite(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, self.columns)
            writer.writeheader()
            writer.writerows(self.rows)
        tmp.replace(self.path)


class TensorBoard:
    """Scalars to TensorBoard when `tensorboard` is installed; a no-op otherwise."""

    def __init__(self, log_dir: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            self.writer = None
        else:
            self.writer = SummaryWriter(str(log_dir))

    @property
    def enabled(self) -> bool:
        return self.writer is not None

    def scalars(self, prefix: str, values: dict[str, float], step: int) -> None:
        if self.writer is not None:
            for k, v in values.items():
                self.writer.add_scalar(f"{prefix}/{k}", v, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _series(rows: list[dict[str, Any]], key: str) -> list[tuple[float, float]]:
    out = []
    for r in rows:
        try:
            x, y = float(r["step"]), float(r[key])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(y):
            out.append((x, y))
    return out


def draw_plot(panels: list[tuple[str, list[dict[str, Any]], list[str]]], path: Path, width: int = 900) -> None:
    """One panel per (title, rows, keys): each key a line over `step`, each panel's y range its own."""
    panel_h, margin = 260, 50
    img = Image.new("RGB", (width, panel_h * max(1, len(panels))), "white")
    draw = ImageDraw.Draw(img)
    for i, (title, rows, keys) in enumerate(panels):
        top = i * panel_h
        x0, y0, x1, y1 = margin + 20, top + 30, width - 160, top + panel_h - margin
        draw.rectangle([x0, y0, x1, y1], outline=(0, 0, 0))
        draw.text((x0, top + 8), title, fill=(0, 0, 0))
        series = {k: _series(rows, k) for k in keys}
        points = [p for s in series.values() for p in s]
        if not points:
            draw.text((x0 + 10, y0 + 10), "no data yet", fill=(120, 120, 120))
            continue
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        xmin, xmax = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
        ymin, ymax = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1
        draw.text((4, y0), f"{ymax:.3g}", fill=(0, 0, 0))
        draw.text((4, y1 - 10), f"{ymin:.3g}", fill=(0, 0, 0))
        draw.text((x0, y1 + 6), f"step {xmin:.0f}", fill=(0, 0, 0))
        draw.text((x1 - 70, y1 + 6), f"step {xmax:.0f}", fill=(0, 0, 0))

        def to_px(x: float, y: float) -> tuple[float, float]:
            return (x0 + (x - xmin) / (xmax - xmin) * (x1 - x0), y1 - (y - ymin) / (ymax - ymin) * (y1 - y0))  # noqa: B023

        for j, (key, s) in enumerate(series.items()):
            colour = _COLOURS[j % len(_COLOURS)]
            if len(s) > 1:
                draw.line([to_px(x, y) for x, y in s], fill=colour, width=2)
            elif s:
                px, py = to_px(*s[0])
                draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=colour)
            draw.text((x1 + 10, y0 + 14 * j), key, fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    img.save(tmp)
    tmp.replace(path)
