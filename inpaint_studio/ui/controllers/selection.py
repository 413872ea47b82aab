"""The selection controller: the Select-object tool (box, click +/−), the magic wand and snapping the
mask to the object's edges. The work is `core.selection`'s; this turns the canvas's gestures into one
undoable mask edit each.

One object is built up over several gestures (a box, then clicks that correct it):
each gesture recomputes that object from everything said about it so far and replaces the previous step's
result, on top of the mask as it was before the object was started. Any other edit (a brush stroke, an
undo) ends the object; the next gesture starts a new one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QLabel, QSpinBox, QToolBar

from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.controllers.documents import DocumentController
from inpaint_studio.ui.controllers.feedback import Feedback

# core.selection (OpenCV, core.masks, image I/O) is imported on the first gesture, not while the window opens.
SNAP_BAND_PX = 12
WAND_TOLERANCE = 32  # the wand's starting tolerance: core.selection.WAND_TOLERANCE (a test keeps them equal)


@dataclass
class _ObjectInProgress:
    prompt: Any  # core.selection.Prompt
    base: np.ndarray  # the mask before this object
    subtract: bool
    undo_index: int  # the undo stack's index right after this object's last step


class SelectionController:
    def __init__(self, documents: DocumentController, canvas: CanvasView, feedback: Feedback) -> None:
        self.documents = documents
        self.feedback = feedback
        self._object: _ObjectInProgress | None = None
        self.tolerance_spin = QSpinBox()
        self.contiguous_box = QCheckBox("Contiguous")
        canvas.selectGesture.connect(self.on_select_gesture)

    def add_options(self, bar: QToolBar) -> None:
        """The wand's settings, on the brush toolbar."""
        bar.addSeparator()
        bar.addWidget(QLabel(" Wand tolerance "))
        self.tolerance_spin.setRange(0, 255)
        self.tolerance_spin.setValue(WAND_TOLERANCE)
        self.tolerance_spin.setToolTip("How far a colour may be from the clicked one (0–255 per channel)")
        bar.addWidget(self.tolerance_spin)
        self.contiguous_box.setChecked(True)
        self.contiguous_box.setToolTip("Only pixels connected to the click; off: that colour everywhere")
        self.contiguous_box.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        bar.addWidget(self.contiguous_box)

    def on_select_gesture(self, kind: str, where: tuple, alt: bool) -> None:
        doc = self.documents.document
        if doc is None:
            return
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            if kind == "wand":
                self._wand(where, alt)
            else:
                self._select_object(kind, where, alt)
        finally:
            QGuiApplication.restoreOverrideCursor()

    def _wand(self, where: tuple, subtract: bool) -> None:
        from inpaint_studio.core.selection import magic_wand

        doc = self.documents.document
        region = magic_wand(doc.image, where, self.tolerance_spin.value(), contiguous=self.contiguous_box.isChecked())
        self._object = None
        self.documents.replace("mask", _combine(doc.mask, region, subtract), "Magic wand" + (" (subtract)" if subtract else ""))

    def _select_object(self, kind: str, where: tuple, alt: bool) -> None:
        from inpaint_studio.core.selection import Prompt, select_object

        doc = self.documents.document
        current = self._object if self._object and self._object.undo_index == self.documents.undo_stack.index() else None
        if kind == "box" or current is None:
            # A new object: a box, or a click with none in progress (Alt+click then removes what it hits).
            prompt = Prompt(box=where) if kind == "box" else Prompt(positives=[where])
            current = _ObjectInProgress(prompt, doc.mask.copy(), alt, 0)
        elif alt:
            current.prompt.negatives.append(where)
        else:
            current.prompt.positives.append(where)
        found = select_object(doc.image, current.prompt)
        label = "Remove object" if current.subtract else "Select object"
        self.documents.replace("mask", _combine(current.base, found, current.subtract), label)
        current.undo_index = self.documents.undo_stack.index()
        self._object = current
        if not found.any():
            self.feedback.message("nothing found there: drag a box around the object", 6000)

    def snap_mask(self, direction: str) -> None:
        doc = self.documents.document
        if doc is None or not doc.binary_mask().any():
            return
        from inpaint_studio.core.selection import snap_to_edges

        snapped = snap_to_edges(doc.image, doc.mask, SNAP_BAND_PX, direction=direction)
        self.documents.replace("mask", snapped, {"grow": "Grow to edges", "shrink": "Shrink to edges"}.get(direction, "Snap to edges"))


def _combine(base: np.ndarray, region: np.ndarray, subtract: bool) -> np.ndarray:
    if subtract:
        return np.where(region > 0, np.uint8(0), base)
    return np.maximum(base, region)
