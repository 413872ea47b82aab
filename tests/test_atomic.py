from __future__ import annotations

import pytest

from inpaint_studio.core.atomic import atomic_write, atomic_write_text


def test_replaces_the_file_in_one_step(tmp_path):
    target = tmp_path / "sub" / "report.md"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["report.md"]


def test_a_failing_writer_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("old")

    def half_then_crash(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_crash)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_new_files_get_the_usual_mode_and_replaced_files_keep_theirs(tmp_path):
    import os
    import stat

    fresh = tmp_path / "fresh.txt"
    atomic_write_text(fresh, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask

    kept = tmp_path / "kept.txt"
    kept.write_text("old")
    kept.chmod(0o640)
    atomic_write_text(kept, "new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640


# --- interrupted saves and leftovers of killed runs --------------------------------------------------


def _half_then(exc: BaseException):
    def encoder(self, fp, format=None, **params):
        fp.write(b"half an image")
        raise exc

    return encoder


@pytest.mark.parametrize("existing", [False, True])
def test_ctrl_c_inside_the_encoder_leaves_no_temp_and_no_half_file(tmp_path, monkeypatch, existing):
    import numpy as np
    from PIL import Image

    from inpaint_studio.core.imageio import save_image

    target = tmp_path / "photo.png"
    if existing:
        target.write_bytes(b"the user's original")
    monkeypatch.setattr(Image.Image, "save", _half_then(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        save_image(target, np.zeros((8, 8, 3), np.uint8), overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == (["photo.png"] if existing else [])
    if existing:
        assert target.read_bytes() == b"the user's original"


def _age(path, seconds: float = 3600) -> None:
    import os
    import time

    past = time.time() - seconds
    os.utime(path, (past, past))


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid  # reaped: no process has this id until it is reused


def test_leftovers_of_a_killed_run_are_removed_on_the_next_write(tmp_path):
    import os

    old_style = tmp_path / ".photo.png.a1b2c3d4.tmp"  # earlier image saves / mkstemp
    killed = tmp_path / f".photo.png.{_dead_pid()}-0123abcd.tmp"
    for leftover in (old_style, killed):
        leftover.write_bytes(b"x" * 1000)
        _age(leftover)
    running_writer = tmp_path / f".other.png.{os.getppid()}-0123abcd.tmp"  # a live process's temp file
    fresh = tmp_path / ".new.png.b1b2c3d4.tmp"  # written after this process started: not ours to judge
    not_ours = tmp_path / ".notes.tmp"
    for keep in (running_writer, fresh, not_ours):
        keep.write_bytes(b"keep")
    _age(running_writer)
    _age(not_ours)

    atomic_write_text(tmp_path / "report.md", "new")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["report.md", running_writer.name, fresh.name, not_ours.name])


def test_an_image_save_sweeps_leftovers_too(tmp_path):
    import numpy as np

    from inpaint_studio.core.imageio import save_image

    leftover = tmp_path / ".out.jpg.0f1e2d3c.tmp"
    leftover.write_bytes(b"half")
    _age(leftover)
    save_image(tmp_path / "out.png", np.zeros((4, 4, 3), np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


_SLOW_ENCODER = """
import sys, time
from PIL import Image
from inpaint_studio import cli

def stalled_save(self, fp, format=None, **params):
    fp.write(b"half an image")
    fp.flush()
    print("encoding", flush=True)
    time.sleep(60)

Image.Image.save = stalled_save
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize(("signame", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_during_a_cli_save_leaves_no_temp_file(tmp_path, signame, code):
    import signal
    import subprocess
    import sys

    import numpy as np
    from PIL import Image

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.full((16, 16, 3), 120, np.uint8)).save(src / "photo.png")
    mask = np.zeros((16, 16), np.uint8)
    mask[4:8, 4:8] = 255
    Image.fromarray(mask).save(src / "mask.png")
    out = tmp_path / "out"
    out.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_ENCODER, "inpaint", str(src / "photo.png"), "--mask", str(src / "mask.png"),
         "--model", "telea", "-o", str(out / "filled.png")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout.readline().strip() == "encoding"  # the temp file exists, half written
        assert len(list(out.iterdir())) == 1
        child.send_signal(getattr(signal, signame))
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == code, err
    assert "Traceback" not in err
    assert list(out.iterdir()) == []
