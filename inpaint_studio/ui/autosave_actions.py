"""The main window's autosave: mask, edges and accepted results written in the background about
AUTOSAVE_DELAY_MS after a change, and offered back after a crash.

A mixin of MainWindow: it uses the window's document, its autosave timer and writer, and set_document."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from inpaint_studio.ui.model import autosave
from inpaint_studio.ui.model.document import Document

AUTOSAVE_DELAY_MS = 1500


class AutosaveActions:
    def schedule_autosave(self) -> None:
        # Throttled, not debounced: continuous painting still saves every AUTOSAVE_DELAY_MS.
        if not self._autosave_timer.isActive():
            self._autosave_timer.start()

    def snapshot(self) -> autosave.Snapshot | None:
        doc = self.document
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
        if self._autosave_writer is None:
            self._autosave_writer = autosave.BackgroundWriter()
        self._autosave_writer.submit(snap)

    def flush_autosave(self, timeout: float = 10.0) -> bool:
        if self._autosave_timer.isActive():
            self._autosave_timer.stop()
            self.autosave_now()
        return self._autosave_writer.flush(timeout) if self._autosave_writer else True

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
        return self.restore_autosave(snap)

    def _set_aside_damaged_autosave(self) -> None:
        try:
            kept = autosave.set_aside()
        except OSError:
            kept = None
        where = f"; it was moved to {kept}" if kept else ""
        self.show_error(f"the work autosaved last time could not be read (a damaged file){where}")

    def ask_restore(self) -> bool:
        answer = QMessageBox.question(
            self, "Restore unsaved work?",
            "Inpaint Studio did not close properly last time.\nRestore the mask, edges and results you were working on?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def restore_autosave(self, snap: autosave.Snapshot | None = None) -> bool:
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
                self.show_error(f"cannot restore: {exc}")
                return False
            doc = Document(loaded.rgb, path=Path(snap.image_path), alpha=loaded.alpha, exif=loaded.exif,
                           icc_profile=loaded.icc_profile)
        if doc is None or snap.mask.shape != doc.shape:
            self.show_error("cannot restore: the autosaved layers do not match the image")
            return False
        doc.mask[...] = snap.mask
        doc.edges[...] = snap.edges
        self.set_document(doc)
        self.statusBar().showMessage("restored the autosaved session", 5000)
        return True
