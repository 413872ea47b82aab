"""Atomic file writes: write a temp file in the target's directory, fsync, then os.replace, so a reader (or
the next start after a crash) sees either the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(target: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp_path)` to produce the file, then move it over `target` in one step."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        # mkstemp makes the file owner-only; give it the mode of the file it replaces, or what a plain
        # open() would give (0666 less the umask), so a user's reports and checkpoints stay shareable.
        os.chmod(tmp, _target_mode(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once at import, before any worker thread writes files.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _target_mode(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def atomic_write_bytes(target: Path, data: bytes) -> None:
    atomic_write(target, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
