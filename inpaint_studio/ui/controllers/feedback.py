"""What the user is told: one line in the status bar, and for errors a dialog too (never a traceback)."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget

APP_TITLE = "Inpaint Studio"


class Feedback:
    def __init__(self, parent: QWidget, status_bar: QStatusBar) -> None:
        self.parent = parent
        self.status_bar = status_bar
        self.last_error = ""  # tests read it

    def message(self, text: str, ms: int = 0) -> None:
        self.status_bar.showMessage(text, ms)

    def error(self, text: str) -> None:
        self.last_error = text
        self.status_bar.showMessage(text, 8000)
        if os.environ.get("INPAINT_STUDIO_NO_DIALOGS"):
            return
        QMessageBox.warning(self.parent, APP_TITLE, text)
