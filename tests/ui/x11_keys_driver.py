"""Run by test_x11_keys.py inside Xvfb (QT_QPA_PLATFORM=xcb): real X11 key events, sent with xdotool through
the X server, into the real window. Prints one JSON object per focus position, then "done"."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

os.environ["INPAINT_STUDIO_NO_DIALOGS"] = "1"
STEP_MS = 80


def main(photo: str) -> None:
    app = QApplication([])
    from inpaint_studio.ui.main_window import MainWindow
    from inpaint_studio.ui.model.document import Candidate
    from inpaint_studio.ui.tools import Tool

    win = MainWindow()
    win.resize(1200, 800)
    win.show()
    assert win.documents.open_path(photo)
    doc = win.document
    mask = np.zeros(doc.shape, np.uint8)
    mask[10:50, 10:50] = 255
    row: dict = {}

    def key(*args: str) -> None:
        subprocess.run(["xdotool", *args], check=True)

    def setup(where: str, widget) -> None:
        doc.add_candidate(Candidate("x", np.full_like(doc.image, 9), 0.1, 0, "x"))
        win.jobs.show_candidates(0)
        widget.setFocus()
        win.menus.set_tool(Tool.BRUSH)
        win.documents.replace("mask", mask.copy(), "test mask")
        row.clear()
        row.update(where=where, index=win.undo_stack.index())

    def check(name: str, ok) -> None:
        row[name] = bool(ok())

    steps = []
    for where, widget in (("canvas", win.canvas), ("size field", win.menus.size_spin), ("candidate strip", win.panel.candidates)):
        steps += [
            lambda where=where, widget=widget: setup(where, widget),
            lambda: key("key", "ctrl+z"), lambda: check("Ctrl+Z", lambda: win.undo_stack.index() == row["index"] - 1),
            lambda: key("key", "ctrl+shift+z"), lambda: check("Ctrl+Shift+Z", lambda: win.undo_stack.index() == row["index"]),
            lambda: key("key", "ctrl+z"), lambda: key("key", "ctrl+y"),
            lambda: check("Ctrl+Y", lambda: win.undo_stack.index() == row["index"]),
            lambda: key("key", "e"), lambda: check("E", lambda: win.canvas.tool == Tool.ERASER),
            lambda: key("keydown", "backslash"), lambda: check("hold \\", lambda: not win.canvas.result_visible),
            lambda: key("keyup", "backslash"), lambda: check("release \\", lambda: win.canvas.result_visible),
            lambda: key("key", "ctrl+shift+a"), lambda: check("Ctrl+Shift+A", lambda: not doc.candidates),
            lambda: check("canvas has focus after", lambda: QApplication.focusWidget() is win.canvas),
            lambda: (win.documents.clear_mask(), print(json.dumps(row), flush=True)),
        ]

    def run(i: int = 0) -> None:
        if i == 0:  # no window manager under Xvfb: give the window the X input focus ourselves
            ids = subprocess.run(["xdotool", "search", "--name", "Inpaint Studio"], capture_output=True, text=True)
            for wid in ids.stdout.split():
                subprocess.run(["xdotool", "windowfocus", wid])
            win.activateWindow()
        if i < len(steps):
            steps[i]()
            QTimer.singleShot(STEP_MS, lambda: run(i + 1))
        else:
            print("done", flush=True)
            win.documents.ask_unsaved = lambda: QMessageBox.StandardButton.Discard  # quitting closes the window: no prompt
            win.shutdown()
            app.quit()

    QTimer.singleShot(1000, run)
    app.exec()


if __name__ == "__main__":
    main(sys.argv[1])
