"""The split view: drag a divider between the image before (left) and the selected result (right)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from inpaint_studio.ui.model.document import Candidate

from .qt_helpers import at, drag


def pixel(win, x, y):
    """What the canvas shows at scene point (x, y), as RGB."""
    image = win.canvas.viewport().grab().toImage()
    p = at(win.canvas, x + 0.5, y + 0.5)
    c = image.pixelColor(p.x(), p.y())
    return np.array([c.red(), c.green(), c.blue()])


def test_dragging_the_divider_shows_before_left_and_after_right(window, qtbot):
    win, doc = window, window.document
    doc.add_candidate(Candidate("test_fast", np.full_like(doc.image, (0, 255, 255)), 0.1, 0, "cyan"))
    win.jobs.show_candidates(0)
    win.canvas.set_zoom(4.0)
    win.canvas.centerOn(80, 60)
    cyan = np.array([0, 255, 255])
    assert np.abs(pixel(win, 70, 60) - cyan).max() < 8 and np.abs(pixel(win, 90, 60) - cyan).max() < 8
    qtbot.keyClick(win.canvas, Qt.Key.Key_Backslash, Qt.KeyboardModifier.ControlModifier)  # Ctrl+\
    assert win.menus.split_action.isChecked() and win.canvas.split_x == 80  # starts in the middle
    drag(win.canvas, [at(win.canvas, 80, 60), at(win.canvas, 70, 62), at(win.canvas, 62, 64)])
    assert abs(win.canvas.split_x - 62) < 1
    left, right = pixel(win, 55, 60), pixel(win, 70, 60)
    assert np.abs(left - doc.image[60, 55]).max() < 8  # the photo as it is, left of the divider
    assert np.abs(right - cyan).max() < 8  # the result, right of it
    assert not doc.mask.any()  # dragging the divider paints nothing
    qtbot.keyClick(win.canvas, Qt.Key.Key_Backslash, Qt.KeyboardModifier.ControlModifier)
    assert win.canvas.split_x is None and np.abs(pixel(win, 55, 60) - cyan).max() < 8


def test_the_split_view_ends_with_the_photo(window, photo_path):
    win = window
    win.menus.split_action.setChecked(True)
    assert win.canvas.split_x is not None
    assert win.documents.open_path(photo_path)
    assert not win.menus.split_action.isChecked() and win.canvas.split_x is None
