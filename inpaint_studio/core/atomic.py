"""Atomic file writes, the project's one writer of files a user or a later run reads back.

A temp file is written in the target's directory, fsynced, then moved over the target in one step, so a reader
(or the next start after a crash) sees either the old file or the new one, never half of one.

Temp files never outlive their writer when code can still run: any exit (an error, Ctrl+C, SIGTERM turned into
an exception by the CLI) removes it. A hard kill cannot run code; its leftover (`.NAME.PID-XXXXXXXX.tmp`, or the
`.NAME.XXXXXXXX.tmp` of earlier versions) is recognised and removed by the next write into that folder: one
older than this process whose writer is no longer running.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path


def atomic_write(target: Path, write: Callable[[Path], None], *, replace: bool = True) -> None:
    """Call `write(tmp_path)` to produce the file, then move it over `target` in one step.

    With `replace=False` an existing target is never clobbered, even one created while `write` ran:
    FileExistsError is raised and nothing changes.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target.parent)
    tmp = _create_temp(target)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        # The temp file is created owner-only; give it the mode of the file it replaces, or what a plain
        # open() would give (0666 less the umask), so a user's images, reports and checkpoints stay shareable.
        os.chmod(tmp, _target_mode(target))
        _commit(tmp, target, replace)
    except BaseException:  # KeyboardInterrupt and SystemExit too: no temp file outlives the write
        _remove_quietly(tmp)
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(target: Path, data: bytes) -> None:
    atomic_write(target, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# --- temp files --------------------------------------------------------------------------------------

# `.NAME.PID-8HEX.tmp` (this version) or `.NAME.XXXXXXXX.tmp` (mkstemp's and earlier image saves).
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?:(?P<pid>\d+)-[0-9a-f]{8}|[a-z0-9_]{8})\.tmp$")
# Files older than this were not written by this process (set at import, before any write).
_PROCESS_START = time.time()
_swept: set[Path] = set()
_swept_lock = threading.Lock()


def temp_path_for(target: Path) -> Path:
    """A fresh temp name beside `target`: hidden, unique, short enough for NAME_MAX whatever the target's name."""
    return target.parent / f".{target.name[:200]}.{os.getpid()}-{secrets.token_hex(4)}.tmp"


def is_temp_name(name: str) -> bool:
    return _TEMP_NAME.match(name) is not None


def _create_temp(target: Path) -> Path:
    while True:
        tmp = temp_path_for(target)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        except FileExistsError:  # 2^32 names a process; retry rather than assume
            continue
        os.close(fd)
        return tmp


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove the temp files a killed run left in `folder` (once per folder and process); returns them."""
    folder = Path(folder)
    with _swept_lock:
        key = folder.resolve()
        if key in _swept:
            return []
        _swept.add(key)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if _is_leftover(entry):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _is_leftover(entry: os.DirEntry[str]) -> bool:
    match = _TEMP_NAME.match(entry.name)
    if match is None:
        return False
    try:
        if not entry.is_file(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_mtime >= _PROCESS_START:
            return False
    except OSError:
        return False
    pid = match.group("pid")
    # A writer that is still running (another app window, a parallel batch) keeps its file.
    return pid is None or int(pid) == os.getpid() or not _running(int(pid))


def _running(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill there terminates the process: assume it runs, keep its file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # someone else's process, or a platform without signal 0
        return True
    return True


def _commit(tmp: Path, target: Path, replace: bool) -> None:
    if replace:
        os.replace(tmp, target)
        return
    # A hard link fails if the target appeared meanwhile, so a file created by someone else between the
    # caller's check and now is never clobbered.
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:  # filesystems without hard links (FAT, some network shares)
        if target.exists():
            raise FileExistsError(f"'{target}' already exists") from None
        os.replace(tmp, target)
        return
    _remove_quietly(tmp)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) on Windows.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
