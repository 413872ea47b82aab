"""Painting on a 24-megapixel photo: one mouse move (dab + repaint of its dirty rect) against rebuilding the
whole mask overlay, measured in the same run. The design goal is that a move costs what the dab costs.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_canvas.py
"""

from __future__ import annotations

import os
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from inpaint_studio.ui.canvas import CanvasView  # noqa: E402
from inpaint_studio.ui.model.document import Document  # noqa: E402


def main() -> None:
    app = QApplication.instance() or QApplication([])
    image = np.random.default_rng(0).integers(0, 255, (4000, 6000, 3), dtype=np.uint8)
    view = CanvasView()
    view.resize(1200, 800)
    view.show()
    t = time.perf_counter()
    doc = Document(image)
    view.set_document(doc)
    app.processEvents()
    print(f"open 24 MP document: {time.perf_counter() - t:.3f} s")
    view.actual_size()
    view.centerOn(3000, 2000)
    app.processEvents()

    doc.begin_stroke("mask")
    moves, last = 200, (2900.0, 1950.0)
    t = time.perf_counter()
    for i in range(moves):
        point = (2900.0 + i, 1950.0 + 0.5 * i)
        doc.stroke_segment(last, point, 20, hardness=1.0)
        last = point
        app.processEvents()  # paint the dirty rect as the event loop would
    per_move = (time.perf_counter() - t) / moves
    doc.end_stroke("brush")

    t = time.perf_counter()
    for _ in range(5):
        view._mask.refresh(doc.mask)  # the full rebuild the dirty-rect design avoids
        app.processEvents()
    full = (time.perf_counter() - t) / 5
    print(f"per mouse move: {per_move * 1000:.2f} ms; full overlay rebuild: {full * 1000:.1f} ms; "
          f"ratio rebuild/move {full / per_move:.0f}x")


if __name__ == "__main__":
    main()
