"""The main window's file actions: open (dialog, recent files, paste, drag and drop), save and save-as
(asking before the original is replaced), layer export/import, weight import and preferences.

A mixin of MainWindow: it uses the window's document, settings, status bar and error reporting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from inpaint_studio.ui.worker import Job

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp);;All files (*)"
SAVE_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp);;TIFF (*.tif *.tiff);;BMP (*.bmp)"


def qimage_to_rgb(qimg: QImage) -> np.ndarray:
    qimg = qimg.convertToFormat(QImage.Format.Format_RGB888)
    h, w = qimg.height(), qimg.width()
    arr = np.frombuffer(qimg.constBits(), np.uint8).reshape(h, qimg.bytesPerLine())[:, : w * 3]
    return np.ascontiguousarray(arr.reshape(h, w, 3))


class FileActions:
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self._dialog_dir(), IMAGE_FILTER)
        if path:
            self.open_path(path)

    def _dialog_dir(self) -> str:
        recent = self.settings.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for path in files:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(files))

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
        self.show_error("the clipboard holds no image")
        return False

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.open_mime(event.mimeData()):
            event.acceptProposedAction()

    def save(self) -> bool:
        doc = self.document
        if doc is None:
            return False
        if doc.path is None:
            return self.save_as()
        answer = QMessageBox.question(
            self, "Overwrite original?",
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
        path, _ = QFileDialog.getSaveFileName(self, "Save image as", start, SAVE_FILTER)
        if not path:
            return False
        quality = self.settings.get("jpeg_quality")
        if Path(path).suffix.lower() in (".jpg", ".jpeg", ".webp"):
            quality, ok = QInputDialog.getInt(self, "Quality", "JPEG/WebP quality (1–100)", quality, 1, 100)
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
            self.show_error(str(exc))
            return False
        doc.mark_saved(written)
        self.settings.add_recent(str(written.resolve()))
        self._refresh_recent()
        self._update_title()
        self.statusBar().showMessage(f"saved {written}", 4000)
        return True

    def export_layer(self, layer: str, path: str | None = None) -> bool:
        from inpaint_studio.core.errors import InpaintStudioError
        from inpaint_studio.core.imageio import save_image

        doc = self.document
        if doc is None:
            return False
        if path is None:
            stem = doc.path.stem if doc.path else "image"
            start = str((doc.path.parent if doc.path else Path.home()) / f"{stem}-{layer}.png")
            path, _ = QFileDialog.getSaveFileName(self, f"Export {layer}", start, "PNG (*.png)")
            if not path:
                return False
        arr = doc.binary_mask() if layer == "mask" else doc.edges
        try:
            save_image(path, np.dstack([arr] * 3), overwrite=True)
        except InpaintStudioError as exc:
            self.show_error(str(exc))
            return False
        return True

    def import_layer(self, layer: str, path: str | None = None) -> bool:
        from inpaint_studio.core.errors import InpaintStudioError
        from inpaint_studio.core.masks import load_mask

        doc = self.document
        if doc is None:
            return False
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, f"Import {layer}", self._dialog_dir(), IMAGE_FILTER)
            if not path:
                return False
        try:
            arr = load_mask(path, doc.shape)
        except InpaintStudioError as exc:
            self.show_error(str(exc))
            return False
        self._replace(layer, arr, f"Import {layer}")
        return True

    def import_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import model weights", str(Path.home()), "Checkpoints (*.pth *.pt *.ckpt *.safetensors);;All files (*)"
        )
        if path:
            self._submit(Job(0, "import", "import_checkpoint", options={"path": path}))

    def preferences(self) -> None:
        from inpaint_studio.ui.preferences import PreferencesDialog

        dlg = PreferencesDialog(self.settings, self)
        if dlg.exec():
            dlg.store()
            self.apply_preferences()

    def apply_preferences(self) -> None:
        """Send stored preferences to the worker (they apply between jobs, from the next model load)."""
        self.engine.set_device(self.settings.get("device"))
        self.engine.set_hd(self.settings.get("hd_strategy"), self.settings.get("hd_resize_limit"))
        self.device_label.setText(f"device: {self.settings.get('device')}")
