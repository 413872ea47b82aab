"""Extend the canvas (outpainting): the new border is the mask, any method fills it, one undo step."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from inpaint_studio.ui.model.document import Document
from inpaint_studio.ui.model.extend import extended

from .conftest import make_photo


def test_extended_document_keeps_the_photo_and_masks_the_border():
    doc = Document(make_photo(), alpha=np.full((120, 160), 200, np.uint8))
    doc.mask[5:10, 5:10] = 255
    doc.edges[50, 50] = 255
    big = extended(doc, 10, 20, 30, 40)
    assert big.shape == (120 + 60, 160 + 40)
    assert np.array_equal(big.image[20:140, 10:170], doc.image)
    assert np.array_equal(big.original[20:140, 10:170], doc.original)
    border = np.ones(big.shape, bool)
    border[20:140, 10:170] = False
    assert (big.mask[border] == 255).all() and np.array_equal(big.mask[20:140, 10:170], doc.mask)
    assert big.edges[70, 60] == 255 and not big.edges[border].any()
    assert (big.alpha[border] == 255).all() and (big.alpha[20:140, 10:170] == 200).all()
    assert big.modified
    with pytest.raises(ValueError, match="each side"):
        extended(doc, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="each side"):
        extended(doc, -1, 0, 5, 0)


def test_extend_then_fill_with_any_method_and_undo(window, qtbot):
    win = window
    old = win.document
    photo = old.image.copy()
    assert win.documents.extend_canvas(16, 0, 16, 8)
    doc = win.document
    assert doc is not old and doc.shape == (128, 192) and win.size_label.text() == "192 × 128"
    assert win.canvas.sceneRect().width() == 192 and win.undo_stack.undoText().startswith("Extend canvas")
    win.panel.select_model("telea")
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=20000, check_params_cb=lambda rid, o: o == "applied"):
        qtbot.mouseClick(win.panel.inpaint_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(win.panel.accept_button, Qt.MouseButton.LeftButton)
    assert np.array_equal(doc.image[:120, 16:176], photo)  # the photo untouched, the border filled
    assert not doc.mask.any()
    win.undo_stack.undo()  # the fill
    win.undo_stack.undo()  # the extension: the photo at its size again
    assert win.document is old and old.shape == (120, 160) and win.canvas.sceneRect().width() == 160
    win.undo_stack.redo()
    assert win.document is doc and (doc.mask[:, :16] == 255).all()
    win.undo_stack.redo()
    assert not doc.mask.any() and np.array_equal(doc.image[:120, 16:176], photo)


def test_extend_dialog_reads_four_sides(window):
    from inpaint_studio.ui.extend_dialog import ExtendDialog

    dialog = ExtendDialog(window)
    dialog.spins["top"].setValue(12)
    assert dialog.sides() == (64, 12, 64, 0)
