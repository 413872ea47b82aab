"""Files: save never replaces the source without asking, formats and metadata, layers out and in,
paste, drag and drop, the unsaved-changes prompt, persisted settings and recent files."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from inpaint_studio.ui.model.document import Candidate
from inpaint_studio.ui.settings import Settings

from .conftest import make_photo


def _change_image(win):
    doc = win.document
    result = doc.image.copy()
    result[10:20, 10:20] = 7
    doc.add_candidate(Candidate("x", result, 0.0, 1))
    win.menus.accept_result()
    return result


def test_save_asks_before_replacing_the_source(window, monkeypatch, tmp_path, photo_path):
    original_bytes = photo_path.read_bytes()
    result = _change_image(window)
    other = tmp_path / "out.png"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(other), ""))
    assert window.documents.save()
    assert photo_path.read_bytes() == original_bytes  # "No" saved elsewhere
    assert np.array_equal(np.asarray(Image.open(other).convert("RGB")), result)
    assert not window.document.modified
    _change_image(window)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    assert not window.documents.save() and photo_path.read_bytes() == original_bytes
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.document.path = photo_path
    assert window.documents.save()
    assert np.array_equal(np.asarray(Image.open(photo_path).convert("RGB")), window.document.image)


def test_save_as_jpeg_asks_quality_and_keeps_exif(qtbot, window, monkeypatch, tmp_path):
    exif = Image.Exif()
    exif[0x010E] = "inpaint studio test"  # ImageDescription
    window.document.exif = exif.tobytes()
    target = tmp_path / "out.jpg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: (61, True))
    assert window.documents.save_as()
    with Image.open(target) as im:
        assert im.format == "JPEG" and im.getexif().get(0x010E) == "inpaint studio test"
    assert Settings().get("jpeg_quality") == 61


def test_mask_and_edges_export_import_roundtrip(window, tmp_path):
    doc = window.document
    doc.mask[30:50, 40:90] = 255
    doc.edges[60, 10:100] = 255
    mpath, epath = tmp_path / "m.png", tmp_path / "e.png"
    assert window.documents.export_layer("mask", str(mpath)) and window.documents.export_layer("edges", str(epath))
    window.documents.clear_mask()
    window.documents.clear_edges()
    assert not doc.mask.any() and not doc.edges.any()
    assert window.documents.import_layer("mask", str(mpath)) and window.documents.import_layer("edges", str(epath))
    assert doc.mask[30:50, 40:90].all() and doc.mask.sum() == 20 * 50 * 255
    assert doc.edges[60, 10:100].all() and doc.edges.sum() == 90 * 255
    window.undo_stack.undo()
    assert not doc.edges.any()  # an import is one undoable step
    bad = tmp_path / "bad.png"
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(bad)
    before = doc.mask.copy()
    assert not window.documents.import_layer("mask", str(bad))
    assert window.last_error and np.array_equal(doc.mask, before)


def test_paste_and_drop_open_images(window, tmp_path):
    img = make_photo(40, 50)
    qimg = QImage(img.data, 50, 40, 150, QImage.Format.Format_RGB888).copy()
    QGuiApplication.clipboard().setImage(qimg)
    window.documents.paste()
    assert window.document.path is None and np.array_equal(window.document.image, img)
    assert window.document.modified  # pasted pixels are unsaved
    window.document.mark_saved()
    dropped = tmp_path / "dropped.png"
    Image.fromarray(make_photo(30, 20)).save(dropped)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(dropped))])
    ev = QDropEvent(QPoint(10, 10).toPointF(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    window.dropEvent(ev)
    assert window.document.path == dropped and window.document.shape == (30, 20)
    assert str(dropped.resolve()) == Settings().recent_files()[0]


def test_unreadable_file_is_a_message_and_keeps_the_document(window, tmp_path):
    doc = window.document
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    assert not window.documents.open_path(broken)
    assert window.document is doc and "broken.png" in window.last_error


def test_close_with_unsaved_changes_prompts(window, qtbot):
    _change_image(window)
    asked = []
    window.documents.ask_unsaved = lambda: asked.append(1) or QMessageBox.StandardButton.Cancel
    window.close()
    assert asked and window.isVisible()  # Cancel keeps the window and the work
    window.documents.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    window.close()
    assert not window.isVisible()


def test_brush_settings_persist(window):
    window.canvas.set_brush_size(77)
    window.shutdown()
    assert Settings().get("brush_size") == 77


def test_autosave_keeps_accepted_results(window, qtbot, monkeypatch):
    result = _change_image(window)
    window.document.mask[5:9, 5:9] = 255
    window.autosave.autosave_now()
    assert window.autosave.flush()
    from inpaint_studio.ui.main_window import MainWindow

    other = MainWindow()
    qtbot.addWidget(other)
    other.autosave.ask_restore = lambda: True
    assert other.autosave.offer_restore()
    assert np.array_equal(other.document.image, result) and other.document.modified
    assert other.document.mask[5:9, 5:9].all()
    other.documents.ask_unsaved = lambda: QMessageBox.StandardButton.Discard


def test_mask_invert_grow_shrink_are_undoable(window):
    doc = window.document
    doc.mask[50:60, 70:80] = 255
    window.documents.grow_mask(3)
    grown = doc.mask.copy()
    assert grown.sum() > 100 * 255 and grown[50:60, 70:80].all()
    window.documents.shrink_mask(3)
    assert doc.mask.sum() < grown.sum()
    window.documents.invert_mask()
    assert doc.mask[0, 0] == 255
    for _ in range(3):
        window.undo_stack.undo()
    assert np.array_equal(doc.mask > 0, np.pad(np.ones((10, 10), bool), ((50, 60), (70, 80))))
