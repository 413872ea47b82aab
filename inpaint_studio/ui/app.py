"""Entry point of the desktop app: `main(image_path)` shows the window first, then loads the engine.

Start-up order matters: the window appears before numpy-heavy or torch-heavy work; the engine is imported
on the worker thread once the window is on screen. INPAINT_STUDIO_STARTUP_PROBE=1 prints one JSON line when
the window is first shown ({"shown_s": …, "torch_loaded": …}); INPAINT_STUDIO_EXIT_AFTER_SHOW=1 quits
right after (the start-up test uses both)."""

from __future__ import annotations

import json
import os
import sys
import time

_T0 = time.perf_counter()


def _probe(window: object) -> None:
    if os.environ.get("INPAINT_STUDIO_STARTUP_PROBE"):
        print(json.dumps({"shown_s": round(time.perf_counter() - _T0, 4), "torch_loaded": "torch" in sys.modules}),
              flush=True)


def create_window(image_path: str | None = None):  # type: ignore[no-untyped-def]
    """Build the QApplication (if needed) and the main window, shown; returns (app, window)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Inpaint Studio")
    app.setOrganizationName("inpaint-studio")
    from PySide6.QtGui import QIcon

    from inpaint_studio.core.paths import RESOURCES_DIR
    from inpaint_studio.ui.main_window import MainWindow

    app_icon = RESOURCES_DIR / "icons" / "inpaint-studio.svg"
    if app_icon.is_file():
        app.setWindowIcon(QIcon(str(app_icon)))
    style = RESOURCES_DIR / "styles" / "dark.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    window = MainWindow()
    window.shown.connect(lambda: _probe(window))
    # However the event loop ends, stop the engine thread first (a running QThread must not be destroyed).
    app.aboutToQuit.connect(window.shutdown)
    window.show()

    def after_show() -> None:
        if os.environ.get("INPAINT_STUDIO_EXIT_AFTER_SHOW"):
            app.quit()
            return
        window.start_background()
        restored = window.autosave.offer_restore()
        if not restored and image_path:
            window.documents.open_path(image_path)
        demo = os.environ.get("INPAINT_STUDIO_DEMO")
        if demo:
            from inpaint_studio.ui.demo import run_demo

            run_demo(window, demo)

    QTimer.singleShot(0, after_show)
    return app, window


def main(image_path: str | None = None) -> int:
    """Run the app; `inpaint-studio` and `inpaint-studio IMAGE` call this. Returns the exit status."""
    app, window = create_window(image_path)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
