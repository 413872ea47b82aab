"""The app as a real process: start-up before torch, and autosave surviving SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), **extra)
    return env


def test_window_shows_before_torch_is_imported(photo_path):
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "inpaint_studio.ui.app", str(photo_path)],
        env=_env(INPAINT_STUDIO_STARTUP_PROBE="1", INPAINT_STUDIO_EXIT_AFTER_SHOW="1"),
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    wall = time.perf_counter() - start
    assert out.returncode == 0, out.stderr[-2000:]
    probe = json.loads(next(line for line in out.stdout.splitlines() if line.startswith("{")))
    print(f"\ntime to show: {probe['shown_s']:.3f} s after app import, {wall:.3f} s process wall time")
    assert probe["torch_loaded"] is False


DRIVER = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtCore import QTimer
    from inpaint_studio.ui.app import create_window

    app, win = create_window(sys.argv[1])

    def paint():
        if win.document is None:
            QTimer.singleShot(50, paint)
            return
        # The rectangle tool's own path: a stroke on the mask layer pushed on the undo stack.
        win.document.begin_stroke("mask")
        win.document.stroke_rect((10.0, 12.0), (50.0, 40.0))
        win.documents.push_patch(win.document.end_stroke("Rectangle fill"))
        win.document.begin_stroke("edges")
        win.document.stroke_segment((5.5, 80.5), (100.5, 80.5), 0.5)
        win.documents.push_patch(win.document.end_stroke("Edge pen"))
        print("painted", flush=True)
        wait_saved()

    def wait_saved():
        w = win.autosave.writer
        if w is not None and w.writes > 0 and w.flush(0.01):
            print("saved", flush=True)
        else:
            QTimer.singleShot(50, wait_saved)

    QTimer.singleShot(0, paint)
    app.exec()
    """
)


def test_autosave_survives_sigkill_and_is_offered_at_next_start(photo_path, tmp_path, qtbot, monkeypatch):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    proc = subprocess.Popen([sys.executable, str(driver), str(photo_path)], env=_env(INPAINT_STUDIO_NO_DIALOGS="1"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while "saved" not in lines and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
        assert "saved" in lines, proc.stderr.read() if proc.poll() is not None else lines
    finally:
        proc.send_signal(signal.SIGKILL)  # no clean shutdown: the autosave must be all that is left
        proc.wait(10)

    monkeypatch.setenv("INPAINT_STUDIO_NO_DIALOGS", "1")
    from inpaint_studio.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    asked = []
    win.autosave.ask_restore = lambda: asked.append(1) or True
    assert win.autosave.offer_restore()
    assert asked == [1]
    expected = np.zeros((120, 160), np.uint8)
    expected[12:40, 10:50] = 255  # pixel centres inside (10, 12)–(50, 40)
    assert win.document is not None and win.document.path == photo_path.resolve()
    assert np.array_equal(win.document.mask, expected)
    assert win.document.edges[80, 5:101].all() and win.document.edges.sum() == 96 * 255
    win.close()  # a clean exit removes the autosave: nothing is offered next time
    win2 = MainWindow()
    qtbot.addWidget(win2)
    win2.autosave.ask_restore = lambda: pytest.fail("no autosave should be offered after a clean exit")
    assert not win2.autosave.offer_restore()
