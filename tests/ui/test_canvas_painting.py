"""Painting on the real canvas with real mouse events: exact pixels, undo/redo, tools, dirty-rect repaint."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from inpaint_studio.ui.tools import Tool

from .qt_helpers import at, drag, scene_xy, send_mouse


def capsule_set(shape, p0, p1, r):
    """Expected pixels: centre within r of the segment p0→p1 (independent vectorised formula)."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    a, b = np.array(p0), np.array(p1)
    d = b - a
    l2 = float(d @ d)
    t = np.zeros_like(xx) if l2 == 0 else np.clip(((xx - a[0]) * d[0] + (yy - a[1]) * d[1]) / l2, 0, 1)
    dist2 = (xx - a[0] - t * d[0]) ** 2 + (yy - a[1] - t * d[1]) ** 2
    return dist2 <= r * r


def test_brush_stroke_changes_exactly_the_capsule_and_undo_redo(window):
    view, doc = window.canvas, window.document
    window.menus.set_tool(Tool.BRUSH)
    view.hardness = 1.0
    view.set_brush_size(10)
    a, b = at(view, 80, 50), at(view, 120, 80)
    pa, pb = scene_xy(view, a), scene_xy(view, b)
    assert 0 < pa[0] < 160 and 0 < pb[1] < 120  # the stroke lands on the photo
    drag(view, [a, b])
    expected = capsule_set(doc.shape, pa, pb, 5.0)
    assert np.array_equal(doc.mask == 255, expected)
    assert np.array_equal(doc.mask[~expected], np.zeros((~expected).sum(), np.uint8))
    painted = doc.mask.copy()
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert not doc.mask.any()
    window.undo_stack.redo()
    assert np.array_equal(doc.mask, painted)
    # The overlay shows the mask exactly where it is (repainted from the document, pixel for pixel).
    alpha = view._mask.pixels >> 24
    assert np.array_equal(alpha > 0, expected)


def test_eraser_and_mask_stays_editable_after_undo(window):
    view, doc = window.canvas, window.document
    view.set_brush_size(20)
    drag(view, [at(view, 80, 50), at(view, 110, 50)])
    drag(view, [at(view, 90, 110), at(view, 100, 110)])
    window.undo_stack.undo()  # the second stroke goes, the first stays and remains editable
    first = doc.mask.copy()
    window.menus.set_tool(Tool.ERASER)
    view.set_brush_size(6)
    p = at(view, 95, 50)
    drag(view, [p])
    erased = capsule_set(doc.shape, scene_xy(view, p), scene_xy(view, p), 3.0)
    expect = first.copy()
    expect[erased] = 0
    assert np.array_equal(doc.mask, expect)


def test_rectangle_and_lasso_fill_and_alt_subtracts(window):
    view, doc = window.canvas, window.document
    window.menus.set_tool(Tool.RECTANGLE)
    a, b = at(view, 70, 40), at(view, 100, 65)
    drag(view, [a, at(view, 80, 50), b])
    (x0, y0), (x1, y1) = scene_xy(view, a), scene_xy(view, b)
    yy, xx = np.mgrid[0 : doc.shape[0], 0 : doc.shape[1]] + 0.5
    inside = (xx >= x0) & (xx <= x1) & (yy >= y0) & (yy <= y1)
    assert np.array_equal(doc.mask == 255, inside)
    drag(view, [at(view, 75, 45), at(view, 80, 50)], modifiers=Qt.KeyboardModifier.AltModifier)
    assert doc.mask.sum() < inside.sum() * 255
    window.documents.clear_mask()
    assert not doc.mask.any()
    window.menus.set_tool(Tool.LASSO)
    drag(view, [at(view, 60, 30), at(view, 100, 30), at(view, 100, 70), at(view, 60, 70)])
    (lx0, ly0), (lx1, ly1) = scene_xy(view, at(view, 60, 30)), scene_xy(view, at(view, 100, 70))
    sq = (xx > lx0) & (xx < lx1) & (yy > ly0) & (yy < ly1)
    assert np.array_equal(doc.mask == 255, sq)


def test_edge_pen_draws_thin_lines_on_the_edge_layer_only(window):
    view, doc = window.canvas, window.document
    window.menus.set_tool(Tool.EDGE_PEN)
    view.edge_width = 1
    drag(view, [at(view, 70, 50), at(view, 110, 50)])
    assert not doc.mask.any()
    rows = np.flatnonzero(doc.edges.any(axis=1))
    assert rows.size == 1  # one pixel thick
    assert (doc.edges[rows[0]] == 255).sum() == 41
    window.menus.set_tool(Tool.EDGE_ERASER)
    view.edge_width = 3
    drag(view, [at(view, 80, 50), at(view, 85, 50)])
    assert (doc.edges[rows[0]] == 255).sum() == 41 - 8  # x 79..86: centres within 1.5 px of 80.5..85.5


def test_brush_size_shortcuts_and_tool_shortcuts(window, qtbot):
    view = window.canvas
    view.set_brush_size(40)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_BracketRight)
    assert view.brush_size > 40
    qtbot.keyClick(view, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(view, Qt.Key.Key_BracketLeft)
    assert view.brush_size < 40
    qtbot.keyClick(view, Qt.Key.Key_R)
    assert view.tool == Tool.RECTANGLE
    qtbot.keyClick(view, Qt.Key.Key_G, Qt.KeyboardModifier.ShiftModifier)
    assert view.tool == Tool.EDGE_ERASER
    qtbot.keyClick(view, Qt.Key.Key_B)
    assert view.tool == Tool.BRUSH


def test_zoom_around_cursor_and_pan_do_not_paint(window):
    view, doc = window.canvas, window.document
    view.set_zoom(8.0)  # the photo is larger than the viewport: the anchor can be held
    anchor = at(view, 90, 60)
    before = view.mapToScene(anchor)
    view.zoom_by(1.5, anchor)
    after = view.mapToScene(anchor)
    assert abs(view.zoom - 12.0) < 1e-6
    assert abs(before.x() - after.x()) < 1.0 and abs(before.y() - after.y()) < 1.0
    view.fit_to_window()
    assert 1.0 < view.zoom < 8.0  # a small photo is fitted larger than 100 %
    view.actual_size()
    drag(view, [at(view, 80, 50), at(view, 30, 0)], button=Qt.MouseButton.MiddleButton)
    window.menus.set_tool(Tool.PAN)
    drag(view, [at(view, 80, 50), at(view, 30, 0)])
    assert not doc.mask.any() and window.undo_stack.count() == 0


def test_stroke_repaints_only_its_box(window):
    """Painting updates the overlay inside the dab's box and leaves the rest of the overlay untouched."""
    view = window.canvas
    view.set_brush_size(8)
    overlay = view._mask.pixels
    overlay[...] = 0xDEADBEEF  # sentinel: anything re-converted outside the dab's box would be overwritten
    p = at(view, 90, 60)
    send_mouse(view, "press", p)
    send_mouse(view, "release", p)
    touched = overlay != 0xDEADBEEF
    ys, xs = np.nonzero(touched)
    assert ys.size and (ys.max() - ys.min()) < 14 and (xs.max() - xs.min()) < 14


def test_photo_layer_shows_the_document_pixels(window):
    img = window.document.image.astype(np.uint32)
    expected = np.uint32(0xFF000000) | (img[..., 0] << 16) | (img[..., 1] << 8) | img[..., 2]
    assert np.array_equal(window.canvas._photo.pixels, expected)
