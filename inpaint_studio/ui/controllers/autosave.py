"""The autosave: mask, edges and accepted results written in the background about AUTOSAVE_DELAY_MS after a
change, and offered back after a crash. It follows the documents controller's `changed` signal."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from inpaint_studio.ui.controllers.documents import DocumentController
from inpaint_studio.ui.controllers.feedback import Feedback
from inpaint_studio.ui.model import autosave
from inpaint_studio.ui.model.document import Document

AUTOSAVE_DELAY_MS = 1500


class AutosaveController(QObject):
    def __init__(self, parent: QWidget, documents: DocumentController, feedback: Feedback) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.documents = documents
        self.feedback = feedback
        self.writer: autosave.BackgroundWriter | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(AUTOSAVE_DELAY_MS)
        self.timer.timeout.connect(self.autosave_now)
        documents.changed.connect(self.schedule)

    def schedule(self) -> None:
        # Throttled, not debounced: continuous painting still saves every AUTOSAVE_DELAY_MS.
        if not self.timer.isActive():
            self.timer.start()

    def snapshot(self) -> autosave.Snapshot | None:
        doc = self.documents.document
        if doc is None:
            return None
        changed = doc.image_token != 0 or doc.path is None
        return autosave.Snapshot(
            image_path=str(doc.path.resolve()) if doc.path else None,
            mask=doc.mask.copy(),
            edges=doc.edges.copy(),
            image=doc.image.copy() if changed else None,
            original_shape=doc.shape,
        )

    def autosave_now(self) -> None:
        snap = self.snapshot()
        if snap is None:
            return
        if self.writer is None:
            self.writer = autosave.BackgroundWriter()
        self.writer.submit(snap)

    def flush(self, timeout: float = 10.0) -> bool:
        if self.timer.isActive():
            self.timer.stop()
            self.autosave_now()
        return self.writer.flush(timeout) if self.writer else True

    def close(self) -> None:
        """A clean exit: nothing left to recover."""
        self.timer.stop()
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        autosave.clear()

    def offer_restore(self) -> bool:
        """If the last session died, offer its autosave; True if it was restored. A damaged autosave is not
        offered: the user is told, the files are moved aside, and start-up goes on (the photo asked for opens)."""
        if not autosave.has_autosave():
            return False
        snap = autosave.read_snapshot()
        if snap is None:
            self._set_aside_damaged_autosave()
            return False
        if not self.ask_restore():
            autosave.clear()
            return False
        return self.restore(snap)

    def _set_aside_damaged_autosave(self) -> None:
        try:
            kept = autosave.set_aside()
        except OSError:
            kept = None
        where = f"; it was moved to {kept}" if kept else ""
        self.feedback.error(f"the work autosaved last time could not be read (a damaged file){where}")

    def ask_restore(self) -> bool:
        answer = QMessageBox.question(
            self.parent_widget, "Restore unsaved work?",
            "Inpaint Studio did not close properly last time.\nRestore the mask, edges and results you were working on?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def restore(self, snap: autosave.Snapshot | None = None) -> bool:
        snap = snap or autosave.read_snapshot()
        if snap is None:
            self._set_aside_damaged_autosave()
            return False
        doc: Document | None = None
        if snap.image is not None:
            doc = Document(snap.image, path=Path(snap.image_path) if snap.image_path else None)
            doc.saved_token = -1
        elif snap.image_path:
            from inpaint_studio.core.errors import InpaintStudioError
            from inpaint_studio.core.imageio import load_image

            try:
                loaded = load_image(snap.image_path)
            except InpaintStudioError as exc:
                self.feedback.error(f"cannot restore: {exc}")
                return False
            doc = Document(loaded.rgb, path=Path(snap.image_path), alpha=loaded.alpha, exif=loaded.exif,
                           icc_profile=loaded.icc_profile)
        if doc is None or snap.mask.shape != doc.shape:
            self.feedback.error("cannot restore: the autosaved layers do not match the image")
            return False
        doc.mask[...] = snap.mask
        doc.edges[...] = snap.edges
        self.documents.set_document(doc)
        self.feedback.message("restored the autosaved session", 5000)
        return True
