"""QUndoStack commands around the document's patches (bounding box + before/after arrays)."""

from __future__ import annotations

from collections.abc import Callable

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


class SwapDocumentCommand(QUndoCommand):
    """Undo/redo a change of the whole document (a bigger canvas): `show(doc)` puts one on screen. Earlier
    patches keep their own document, so undoing past this step edits the old one, as it should."""

    def __init__(self, label: str, old: Document, new: Document, show: Callable[[Document], None]) -> None:
        super().__init__(label)
        self.old, self.new, self.show = old, new, show
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.show(self.new)

    def undo(self) -> None:
        self.show(self.old)
