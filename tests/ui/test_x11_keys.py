"""The keys through a real X server (Xvfb + xdotool), where Ctrl+Shift+Z was an "ambiguous shortcut overload":
the offscreen platform used by the other tests has different standard key bindings. Skipped without the tools."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                                reason="needs Xvfb and xdotool (apt-get install xvfb xdotool)")


def test_keys_through_a_real_x_server(photo_path, tmp_path):
    # -displayfd: Xvfb picks a free display and writes its number when ready (no clash with another one).
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x900x24"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        display = ":" + xvfb.stdout.readline().strip()
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT),
                   INPAINT_STUDIO_DATA_DIR=str(tmp_path / "d"), INPAINT_STUDIO_CONFIG_DIR=str(tmp_path / "c"),
                   INPAINT_STUDIO_CACHE_DIR=str(tmp_path / "k"))
        out = subprocess.run([sys.executable, str(Path(__file__).with_name("x11_keys_driver.py")), str(photo_path)],
                             env=env, capture_output=True, text=True, timeout=90, cwd=ROOT)
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    assert "done" in out.stdout.splitlines(), out.stderr[-2000:]
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert [r["where"] for r in rows] == ["canvas", "size field", "candidate strip"]
    for r in rows:
        failed = [k for k, v in r.items() if v is False]
        assert failed == [], (r["where"], failed)
