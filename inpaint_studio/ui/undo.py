"""QUndoStack commands around the document's patches (bounding box + before/after arrays)."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from inpaint_studio.ui.model.document import Document, Patch


class PatchCommand(QUndoCommand):
    """Undo/redo one patch. The change is already applied when pushed, so the first redo() does nothing."""

    def __init__(self, document: Document, patch: Patch) -> None:
        super().__init__(patch.label)
        self.document = document
        self.patch = patch
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.document.apply(self.patch, forward=True)

    def undo(self) -> None:
        self.document.apply(self.patch, forward=False)
