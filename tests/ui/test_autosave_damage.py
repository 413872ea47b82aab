"""A damaged autosave (a truncated layers file) at start-up: the user is told, the files are kept aside, and
the photo given on the command line still opens."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.ui.model import autosave


def _damaged_autosave(photo_path) -> None:
    mask = np.zeros((120, 160), np.uint8)
    mask[10:20, 10:20] = 255
    layers = autosave.write_snapshot(autosave.Snapshot(str(photo_path), mask, np.zeros_like(mask), None, (120, 160)))
    data = layers.read_bytes()
    layers.write_bytes(data[: len(data) // 2])  # the disk filled up, or the copy was cut


@pytest.mark.parametrize("cut", ["truncated", "empty"])
def test_a_damaged_autosave_is_set_aside_and_the_photo_still_opens(qtbot, monkeypatch, photo_path, cut):
    monkeypatch.setenv("INPAINT_STUDIO_NO_DIALOGS", "1")
    from PySide6.QtWidgets import QMessageBox

    from inpaint_studio.ui.app import create_window
    from inpaint_studio.ui.controllers.autosave import AutosaveController

    _damaged_autosave(photo_path)
    if cut == "empty":
        next(autosave.autosave_dir().glob("layers.*.npz")).write_bytes(b"")
    monkeypatch.setattr(AutosaveController, "ask_restore", lambda self: True)  # the user would say yes
    app, win = create_window(str(photo_path))
    win.documents.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.document is not None, timeout=20000)

    assert win.document.path == photo_path and not win.document.mask.any()
    assert "could not be read" in win.last_error and "moved to" in win.last_error
    assert not autosave.has_autosave()  # never offered again
    kept = list(autosave.autosave_dir().parent.glob("autosave-damaged-*"))
    assert len(kept) == 1 and sorted(p.name for p in kept[0].iterdir()) == ["layers.1.npz", "state.json"]
    win.jobs.requests.cancel_all()


def test_read_snapshot_refuses_layers_that_do_not_fit_together(tmp_path):
    folder = tmp_path / "autosave"
    autosave.write_snapshot(autosave.Snapshot(None, np.zeros((5, 5), np.uint8), np.zeros((4, 5), np.uint8), None,
                                              (5, 5)), folder)
    assert autosave.has_autosave(folder) and autosave.read_snapshot(folder) is None
