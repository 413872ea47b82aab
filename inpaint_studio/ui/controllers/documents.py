"""The documents controller: the open photo and everything done to it as a file or as layers — open (dialog,
recent files, paste, drag and drop), save and save-as (asking before the original is replaced), layer
export/import, the mask operations and the canvas extension, each one undoable step.

It tells the rest of the window what happened by signals: `documentShown` (a photo is on screen, new or brought
back by undo), `changed` (its pixels or layers changed: autosave), `layerEdited`, `titleChanged` and
`recentChanged`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QMimeData, QObject, Signal
from PySide6.QtGui import QGuiApplication, QImage, QUndoStack
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from inpaint_studio.core.masks import is_hole
from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.controllers.feedback import APP_TITLE, Feedback
from inpaint_studio.ui.model.document import Document, Patch
from inpaint_studio.ui.model.raster import Box
from inpaint_studio.ui.settings import Settings
from inpaint_studio.ui.undo import PatchCommand

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp);;All files (*)"
SAVE_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp);;TIFF (*.tif *.tiff);;BMP (*.bmp)"
MASK_STEP_PX = 8


def qimage_to_rgb(qimg: QImage) -> np.ndarray:
    qimg = qimg.convertToFormat(QImage.Format.Format_RGB888)
    h, w = qimg.height(), qimg.width()
    arr = np.frombuffer(qimg.constBits(), np.uint8).reshape(h, qimg.bytesPerLine())[:, : w * 3]
    return np.ascontiguousarray(arr.reshape(h, w, 3))


class DocumentController(QObject):
    documentShown = Signal(object, bool)  # the Document; True for a new photo (False: brought back by undo)
    changed = Signal()  # pixels or layers changed
    titleChanged = Signal(str)
    recentChanged = Signal()
    layerEdited = Signal(str)  # "mask" | "edges": an undoable edit is about to land

    def __init__(self, parent: QWidget, canvas: CanvasView, settings: Settings, undo_stack: QUndoStack,
                 feedback: Feedback) -> None:
        super().__init__(parent)
        self.parent_widget = parent  # dialogs open over it
        self.canvas = canvas
        self.settings = settings
        self.undo_stack = undo_stack
        self.feedback = feedback
        self.document: Document | None = None
        self.undo_stack.indexChanged.connect(self._on_undo_index)
        self.canvas.strokeFinished.connect(self.push_patch)

    # --- what is open ----------------------------------------------------------------------------
    def require(self) -> Document | None:
        """The open document, or None after telling the user to open one."""
        if self.document is None:
            self.feedback.error("open an image first (File ▸ Open, drag and drop, or paste)")
        return self.document

    def title(self) -> str:
        doc = self.document
        if doc is None:
            return APP_TITLE
        name = doc.path.name if doc.path else "pasted image"
        return f"{name}{'*' if doc.modified else ''} — {APP_TITLE}"

    def has_mask(self) -> bool:
        return self.document is not None and bool(is_hole(self.document.mask).any())

    # --- opening ---------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open image", self.dialog_dir(), IMAGE_FILTER)
        if path:
            self.open_path(path)

    def dialog_dir(self) -> str:
        recent = self.settings.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def open_path(self, path: str | os.PathLike[str]) -> bool:
        from inpaint_studio.core.errors import InpaintStudioError
        from inpaint_studio.core.imageio import load_image

        try:
            loaded = load_image(path)
        except InpaintStudioError as exc:
            self.feedback.error(str(exc))
            return False
        if not self.maybe_keep_changes():
            return False
        self.set_document(
            Document(loaded.rgb, path=Path(path), alpha=loaded.alpha, exif=loaded.exif, icc_profile=loaded.icc_profile)
        )
        self.settings.add_recent(str(Path(path).resolve()))
        self.recentChanged.emit()
        return True

    def open_bytes(self, data: bytes, name: str) -> bool:
        from inpaint_studio.core.errors import InpaintStudioError
        from inpaint_studio.core.imageio import decode_image

        try:
            loaded = decode_image(data, name)
        except InpaintStudioError as exc:
            self.feedback.error(str(exc))
            return False
        return self.open_array(loaded.rgb, alpha=loaded.alpha, exif=loaded.exif, icc=loaded.icc_profile)

    def open_array(self, rgb: np.ndarray, *, alpha: Any = None, exif: Any = None, icc: Any = None) -> bool:
        """An image without a file (pasted): Save asks for a name."""
        if not self.maybe_keep_changes():
            return False
        doc = Document(rgb, alpha=alpha, exif=exif, icc_profile=icc)
        doc.saved_token = -1  # pasted pixels are unsaved until written somewhere
        self.set_document(doc)
        return True

    def paste(self) -> None:
        self.open_mime(QGuiApplication.clipboard().mimeData())

    def open_mime(self, mime: QMimeData | None) -> bool:
        if mime is None:
            return False
        if mime.hasUrls():
            for url in mime.urls():
                if url.isLocalFile():
                    return self.open_path(url.toLocalFile())
        if mime.hasImage():
            img = mime.imageData()
            if isinstance(img, QImage) and not img.isNull():
                return self.open_array(qimage_to_rgb(img))
        for fmt in ("image/png", "image/jpeg", "image/webp"):
            if mime.hasFormat(fmt):
                return self.open_bytes(bytes(mime.data(fmt).data()), "clipboard")
        self.feedback.error("the clipboard holds no image")
        return False

    def set_document(self, document: Document) -> None:
        """A new photo: its own undo history."""
        self.undo_stack.clear()
        self.show_document(document, new_photo=True)

    def show_document(self, document: Document, new_photo: bool = False) -> None:
        """Put a document on screen; the undo history stays (a new photo clears it in set_document)."""
        if self.document is not None:
            self.document.unsubscribe(self._on_layer_change)
        self.document = document
        self.canvas.set_document(document)
        document.subscribe(self._on_layer_change)
        self.documentShown.emit(document, new_photo)
        self.titleChanged.emit(self.title())
        self.changed.emit()

    def _on_undo_index(self, _index: int) -> None:
        self.titleChanged.emit(self.title())

    def _on_layer_change(self, layer: str, box: Box) -> None:
        self.changed.emit()

    # --- asking before anything is lost ----------------------------------------------------------
    def maybe_keep_changes(self) -> bool:
        """Ask before dropping results not accepted and an unsaved image; False means the user chose to stay."""
        doc = self.document
        if doc is not None and doc.candidates and not self.ask_drop_candidates(len(doc.candidates)):
            return False
        if doc is None or not doc.modified:
            return True
        answer = self.ask_unsaved()
        if answer == QMessageBox.StandardButton.Save:
            return self.save_as()
        return answer == QMessageBox.StandardButton.Discard

    def ask_drop_candidates(self, count: int) -> bool:
        results = "1 result" if count == 1 else f"{count} results"
        answer = QMessageBox.question(
            self.parent_widget, "Results not accepted", f"{results} not accepted yet will be dropped. Drop them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    def ask_unsaved(self) -> QMessageBox.StandardButton:
        return QMessageBox.question(
            self.parent_widget, "Unsaved changes", "The image has changes that are not saved. Save them?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )

    # --- saving ----------------------------------------------------------------------------------
    def save(self) -> bool:
        doc = self.document
        if doc is None:
            return False
        if doc.path is None:
            return self.save_as()
        answer = QMessageBox.question(
            self.parent_widget, "Overwrite original?",
            f"Replace the original file?\n{doc.path}\n\nChoose No to save under a new name.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.No:
            return self.save_as()
        return self.write_image(doc.path, overwrite=True)

    def save_as(self) -> bool:
        doc = self.document
        if doc is None:
            return False
        start = str(doc.path.with_name(doc.path.stem + "-inpainted.png")) if doc.path else str(Path.home() / "inpainted.png")
        path, _ = QFileDialog.getSaveFileName(self.parent_widget, "Save image as", start, SAVE_FILTER)
        if not path:
            return False
        quality = self.settings.get("jpeg_quality")
        if Path(path).suffix.lower() in (".jpg", ".jpeg", ".webp"):
            quality, ok = QInputDialog.getInt(self.parent_widget, "Quality", "JPEG/WebP quality (1–100)", quality, 1, 100)
            if not ok:
                return False
            self.settings.set("jpeg_quality", quality)
        # The file dialog already asked before replacing an existing file.
        return self.write_image(Path(path), overwrite=True, quality=quality)

    def write_image(self, path: Path, *, overwrite: bool, quality: int | None = None) -> bool:
        from inpaint_studio.core.errors import InpaintStudioError
        from inpaint_studio.core.imageio import save_image

        doc = self.document
        if doc is None:
            return False
        try:
            written = save_image(
                path, doc.image, alpha=doc.alpha, exif=doc.exif, icc_profile=doc.icc_profile,
                quality=quality or self.settings.get("jpeg_quality"), overwrite=overwrite,
            )
        except InpaintStudioError as exc:
            self.feedback.error(str(exc))
            return False
        doc.mark_saved(written)
        self.settings.add_recent(str(written.resolve()))
        self.recentChanged.emit()
        self.titleChanged.emit(self.title())
        self.feedback.message(f"saved {written}", 4000)
        return True

    # --- layers as files -------------------------------------------------------------------------
    def export_layer(self, layer: str, path: str | None = None) -> bool:
        from inpaint_studio.core.errors import InpaintStudioError
        from inpaint_studio.core.imageio import save_image

        doc = self.document
        if doc is None:
            return False
        if path is None:
            stem = doc.path.stem if doc.path else "image"
            start = str((doc.path.parent if doc.path else Path.home()) / f"{stem}-{layer}.png")
            path, _ = QFileDialog.getSaveFileName(self.parent_widget, f"Export {layer}", start, "PNG (*.png)")
            if not path:
                return False
        arr = doc.binary_mask() if layer == "mask" else doc.edges
        try:
            save_image(path, np.dstack([arr] * 3), overwrite=True)
        except InpaintStudioError as exc:
            self.feedback.error(str(exc))
            return False
        return True

    def import_layer(self, layer: str, path: str | None = None) -> bool:
        from inpaint_studio.core.errors import InpaintStudioError
        from inpaint_studio.core.masks import load_mask

        doc = self.document
        if doc is None:
            return False
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.parent_widget, f"Import {layer}", self.dialog_dir(), IMAGE_FILTER)
            if not path:
                return False
        try:
            arr = load_mask(path, doc.shape)
        except InpaintStudioError as exc:
            self.feedback.error(str(exc))
            return False
        self.replace(layer, arr, f"Import {layer}")
        return True

    # --- undoable edits --------------------------------------------------------------------------
    def push_patch(self, patch: Patch | None) -> None:
        if patch is not None and self.document is not None:
            self.layerEdited.emit(patch.layer)  # a hidden mask is shown: an edit must be visible to its maker
            self.undo_stack.push(PatchCommand(self.document, patch))

    def replace(self, layer: str, new: np.ndarray, label: str) -> None:
        if self.document is not None:
            self.push_patch(self.document.replace_layer(layer, new, label))

    def clear_mask(self) -> None:
        if self.document is not None:
            self.replace("mask", np.zeros_like(self.document.mask), "Clear mask")

    def clear_edges(self) -> None:
        if self.document is not None:
            self.replace("edges", np.zeros_like(self.document.edges), "Clear edges")

    def invert_mask(self) -> None:
        if self.document is not None:
            from inpaint_studio.core.masks import invert_mask

            self.replace("mask", invert_mask(self.document.binary_mask()), "Invert mask")

    def grow_mask(self, px: int = MASK_STEP_PX) -> None:
        if self.document is not None:
            from inpaint_studio.core.masks import grow_mask

            self.replace("mask", grow_mask(self.document.binary_mask(), px), f"Grow mask {px} px")

    def shrink_mask(self, px: int = MASK_STEP_PX) -> None:
        if self.document is not None:
            from inpaint_studio.core.masks import shrink_mask

            self.replace("mask", shrink_mask(self.document.binary_mask(), px), f"Shrink mask {px} px")

    def extend_canvas(self, left: int, top: int, right: int, bottom: int) -> bool:
        """Outpainting: add pixels on any side; the new border becomes the mask for any method to fill.
        One undo step (it brings the photo back at its size)."""
        from inpaint_studio.ui.model.extend import extended
        from inpaint_studio.ui.undo import SwapDocumentCommand

        old = self.document
        if old is None:
            return False
        if old.candidates and not self.ask_drop_candidates(len(old.candidates)):
            return False
        try:
            new = extended(old, left, top, right, bottom)
        except ValueError as exc:
            self.feedback.error(str(exc))
            return False
        old.clear_candidates()
        self.show_document(new)
        self.undo_stack.push(SwapDocumentCommand(f"Extend canvas {left}/{top}/{right}/{bottom} px", old, new,
                                                 self.show_document))
        self.feedback.message("The new border is the mask: press Inpaint (any model) to fill it", 10000)
        return True

    def extend_canvas_dialog(self) -> None:
        from inpaint_studio.ui.extend_dialog import ExtendDialog

        if self.require() is None:
            return
        dialog = ExtendDialog(self.parent_widget)
        if dialog.exec():
            self.extend_canvas(*dialog.sides())
