"""Auto mask → the user corrects it with the brush and the eraser → Restore fills THEIR mask."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from inpaint_studio.ui.tools import Tool

from .qt_helpers import at, drag


def click_and_wait(qtbot, win, button):
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=20000, check_params_cb=lambda rid, o: o == "applied"):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_restore_fills_the_corrected_mask_not_a_fresh_detection(window, qtbot):
    win, doc = window, window.document
    panel = win.panel
    panel.select_model("test_blind")
    assert panel.restore_button.text() == "Restore" and "no mask needed" in panel.restore_button.toolTip()
    click_and_wait(qtbot, win, panel.auto_mask_button)
    detected = doc.binary_mask() > 0
    assert detected[20:40, 30:60].all()  # the fake's "damage": the red block
    assert panel.restore_button.text() == "Restore mask" and "your corrections" in panel.restore_button.toolTip()

    # A false alarm erased (the block's left part) and a miss painted (a stroke below it), with the mouse.
    win.menus.set_tool(Tool.ERASER)
    win.canvas.set_brush_size(10)
    drag(win.canvas, [at(win.canvas, 33, 22), at(win.canvas, 33, 37)])
    win.menus.set_tool(Tool.BRUSH)
    win.canvas.set_brush_size(6)
    drag(win.canvas, [at(win.canvas, 90, 80), at(win.canvas, 120, 80)])
    corrected = doc.binary_mask() > 0
    assert (detected & ~corrected).any() and (corrected & ~detected).any()

    click_and_wait(qtbot, win, panel.restore_button)
    result = doc.candidates[-1].image
    changed = (result != doc.image).any(axis=-1)
    grey = (result == 128).all(axis=-1)
    assert not changed[~corrected].any()  # nothing outside the user's mask
    assert grey[corrected].all()  # their painted miss filled, too
    erased = detected & ~corrected
    assert np.array_equal(result[erased], doc.image[erased])  # the erased false alarm left as it was


def test_with_no_mask_restore_detects_and_says_so(window, qtbot):
    win, doc = window, window.document
    win.panel.select_model("test_blind")
    doc_mask = doc.mask.copy()
    doc_mask[5:10, 5:10] = 255
    win.documents.replace("mask", doc_mask, "a mask")
    assert win.panel.restore_button.text() == "Restore mask"
    win.documents.clear_mask()
    assert win.panel.restore_button.text() == "Restore"
    click_and_wait(qtbot, win, win.panel.restore_button)
    red = (doc.image[..., 0] == 200) & (doc.image[..., 1] == 40)
    assert (doc.candidates[-1].image[red] == 128).all()
    win.undo_stack.undo()  # undoing the clear brings the mask, and the button's meaning, back
    assert win.panel.restore_button.text() == "Restore mask"
