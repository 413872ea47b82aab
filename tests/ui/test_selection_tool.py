"""The Select-object tool, the magic wand and snap-to-edges in the real window, driven by mouse events."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from inpaint_studio.core.metrics import iou
from inpaint_studio.ui.tools import Tool

from .qt_helpers import at, drag, send_mouse

ALT = Qt.KeyboardModifier.AltModifier


def click(view, x, y, modifiers=Qt.KeyboardModifier.NoModifier):
    p = at(view, x, y)
    send_mouse(view, "press", p, modifiers=modifiers)
    send_mouse(view, "release", p, modifiers=modifiers)


def red_block(doc):
    truth = np.zeros(doc.shape, np.uint8)
    truth[20:40, 30:60] = 255  # conftest.make_photo's red block
    return truth


def open_scene(win, tmp_path):
    """A red disc with a blue tab on its right, on a noisy background (160×200)."""
    from PIL import Image

    rng = np.random.default_rng(1)
    img = (rng.normal(0, 12, (160, 200, 3)) + (90, 120, 90)).clip(0, 255).astype(np.uint8)
    disc = np.zeros((160, 200), np.uint8)
    cv2.circle(disc, (90, 80), 36, 255, -1)
    img[disc > 0] = (200, 40, 40)
    tab = np.zeros_like(disc)
    tab[70:90, 124:150] = 255
    img[tab > 0] = (60, 60, 200)
    path = tmp_path / "scene.png"
    Image.fromarray(img).save(path)
    assert win.documents.open_path(path)
    win.canvas.actual_size()
    win.canvas.centerOn(100, 80)
    return disc, tab


def test_a_dragged_box_selects_the_object_as_one_undoable_mask_edit(window):
    win, doc = window, window.document
    win.menus.set_tool(Tool.SELECT_OBJECT)
    depth = win.undo_stack.count()
    drag(win.canvas, [at(win.canvas, 22, 12), at(win.canvas, 45, 30), at(win.canvas, 68, 48)])
    assert iou(doc.mask, red_block(doc)) > 0.9
    assert win.undo_stack.count() == depth + 1 and win.undo_stack.undoText() == "Select object"
    win.undo_stack.undo()
    assert not doc.mask.any()


def test_clicks_correct_the_object_and_each_is_a_step(window, qtbot, tmp_path):
    win = window
    disc, tab = open_scene(win, tmp_path)
    doc = win.document
    win.menus.set_tool(Tool.SELECT_OBJECT)
    drag(win.canvas, [at(win.canvas, 48, 38), at(win.canvas, 158, 122)])
    assert (doc.mask[tab > 0] > 0).mean() > 0.9  # the box took the tab too
    click(win.canvas, 140, 80, ALT)  # Alt+click: not this part
    assert (doc.mask[tab > 0] > 0).mean() < 0.2 and iou(doc.mask, disc) > 0.9
    assert win.undo_stack.undoText() == "Select object"
    win.undo_stack.undo()  # back to the box's result, one step
    assert (doc.mask[tab > 0] > 0).mean() > 0.9
    win.undo_stack.undo()
    assert not doc.mask.any()

    # A brush stroke ends the object: the next click starts a new one on top of the stroke.
    win.menus.set_tool(Tool.BRUSH)
    win.canvas.set_brush_size(6)
    drag(win.canvas, [at(win.canvas, 10, 150), at(win.canvas, 40, 150)])
    stroke = doc.mask.copy()
    win.menus.set_tool(Tool.SELECT_OBJECT)
    click(win.canvas, 90, 80)
    assert iou(np.where(stroke > 0, 0, doc.mask), disc) > 0.85
    assert (doc.mask[stroke > 0] == stroke[stroke > 0]).all()  # the stroke kept


def test_magic_wand_contiguous_global_and_subtract(window, tmp_path):
    win, doc = window, window.document
    win.menus.set_tool(Tool.WAND)
    win.selection.tolerance_spin.setValue(10)
    click(win.canvas, 45, 30)
    assert np.array_equal(doc.mask > 0, red_block(doc) > 0)
    assert win.undo_stack.undoText() == "Magic wand"
    click(win.canvas, 45, 30, ALT)
    assert not doc.mask.any() and win.undo_stack.undoText() == "Magic wand (subtract)"
    # The same red elsewhere: contiguous takes one patch, global both.
    img = doc.image.copy()
    img[80:100, 120:150] = (200, 40, 40)
    from PIL import Image

    path = tmp_path / "two.png"
    Image.fromarray(img).save(path)
    assert win.documents.open_path(path)
    win.canvas.actual_size()
    win.canvas.centerOn(80, 60)
    doc = win.document
    click(win.canvas, 45, 30)
    assert doc.mask[25, 45] and not doc.mask[90, 130]
    win.documents.clear_mask()
    win.selection.contiguous_box.setChecked(False)
    click(win.canvas, 45, 30)
    assert doc.mask[25, 45] and doc.mask[90, 130]


def test_shrink_to_edges_tightens_a_loose_outline(window):
    win, doc = window, window.document
    truth = red_block(doc)
    win.menus.set_tool(Tool.RECTANGLE)
    drag(win.canvas, [at(win.canvas, 24, 14), at(win.canvas, 66, 46)])  # a loose box round the block
    loose = doc.mask.copy()
    assert iou(loose, truth) < 0.75
    action = next(a for a in win.findChildren(QAction) if a.text() == "Shrink mask to the object's edges")
    action.trigger()
    assert iou(doc.mask, truth) > 0.9 and not (doc.mask & ~loose).any()
    win.undo_stack.undo()
    assert np.array_equal(doc.mask, loose)


def test_the_wand_starts_at_the_cores_tolerance(window):
    from inpaint_studio.core import selection

    assert window.selection.tolerance_spin.value() == selection.WAND_TOLERANCE


def test_selection_tools_have_keys_and_tooltips(window):
    acts = window.menus.tool_actions
    assert acts[Tool.SELECT_OBJECT].shortcut().toString() == "S" and "Alt+click" in acts[Tool.SELECT_OBJECT].toolTip()
    assert acts[Tool.WAND].shortcut().toString() == "W"
