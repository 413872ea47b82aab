"""Crash-safe autosave of the editing state in `user_data_dir()/autosave/` (no Qt).

Layout: `state.json` names the generation whose arrays are in `layers.<gen>.npz`. The arrays are written
first, then `state.json` is replaced atomically, so a kill at any moment leaves a complete earlier state.
A clean exit deletes the folder: a folder found at start-up means the previous session did not end well.
Writes run on a background thread from a snapshot, so painting never waits for the disk."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inpaint_studio.core.atomic import atomic_write, atomic_write_bytes
from inpaint_studio.core.paths import user_data_dir

STATE = "state.json"


@dataclass
class Snapshot:
    image_path: str | None
    mask: np.ndarray
    edges: np.ndarray
    image: np.ndarray | None  # only when accepted results changed the image
    original_shape: tuple[int, int]


def autosave_dir() -> Path:
    return user_data_dir() / "autosave"


def write_snapshot(snap: Snapshot, folder: Path | None = None) -> Path:
    folder = folder or autosave_dir()
    folder.mkdir(parents=True, exist_ok=True)
    previous = _read_state(folder)
    gen = (previous.get("generation", 0) if previous else 0) + 1
    arrays = {"mask": snap.mask, "edges": snap.edges}
    if snap.image is not None:
        arrays["image"] = snap.image
    layers = folder / f"layers.{gen}.npz"

    def write_layers(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

    atomic_write(layers, write_layers)
    state = {
        "generation": gen,
        "image_path": snap.image_path,
        "shape": list(snap.original_shape),
        "has_image": snap.image is not None,
        "layers": layers.name,
    }
    atomic_write_bytes(folder / STATE, json.dumps(state).encode())
    for old in folder.glob("layers.*.npz"):
        if old != layers:
            old.unlink(missing_ok=True)
    return layers


def _read_state(folder: Path) -> dict | None:
    try:
        return json.loads((folder / STATE).read_text())
    except (OSError, ValueError):
        return None


def has_autosave(folder: Path | None = None) -> bool:
    folder = folder or autosave_dir()
    state = _read_state(folder)
    return bool(state) and (folder / state.get("layers", "")).is_file()


def read_snapshot(folder: Path | None = None) -> Snapshot | None:
    """The last complete state, or None if there is none or it is unreadable (`has_autosave` tells which)."""
    folder = folder or autosave_dir()
    state = _read_state(folder)
    if not state:
        return None
    try:
        with np.load(folder / state["layers"], allow_pickle=False) as data:
            snap = Snapshot(
                image_path=state.get("image_path"),
                mask=data["mask"],
                edges=data["edges"],
                image=data["image"] if "image" in data.files else None,
                original_shape=tuple(state["shape"]),
            )
    except Exception:  # noqa: BLE001 - a damaged file makes zipfile/zlib/numpy raise anything
        return None
    return snap if _consistent(snap) else None


def _consistent(snap: Snapshot) -> bool:
    shape = snap.mask.shape
    return (snap.mask.ndim == 2 and snap.mask.dtype == np.uint8 and snap.edges.shape == shape
            and snap.edges.dtype == np.uint8
            and (snap.image is None or (snap.image.shape == (*shape, 3) and snap.image.dtype == np.uint8)))


def set_aside(folder: Path | None = None) -> Path | None:
    """Move an unreadable autosave out of the way, kept for the user and never offered again; returns where."""
    folder = folder or autosave_dir()
    files = [f for f in folder.iterdir() if f.is_file()] if folder.is_dir() else []
    if not files:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = folder.parent / f"autosave-damaged-{stamp}"
    n = 1
    while dest.exists():
        n += 1
        dest = folder.parent / f"autosave-damaged-{stamp}-{n}"
    dest.mkdir(parents=True)
    for f in files:
        os.replace(f, dest / f.name)
    return dest


def clear(folder: Path | None = None) -> None:
    folder = folder or autosave_dir()
    if not folder.is_dir():
        return
    for f in folder.iterdir():
        if f.is_file():
            f.unlink(missing_ok=True)


class BackgroundWriter:
    """Writes the newest submitted snapshot on a daemon thread; older pending ones are skipped."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._pending: Snapshot | None = None
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self.errors: list[str] = []
        self.writes = 0
        self._thread = threading.Thread(target=self._loop, name="autosave", daemon=True)
        self._thread.start()

    def submit(self, snap: Snapshot) -> None:
        with self._cond:
            self._pending = snap
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed and self._pending is None:
                    return
                snap, self._pending = self._pending, None
                self._busy = True
            try:
                write_snapshot(snap, self.folder)
                self.writes += 1
            except OSError as exc:  # a full disk must not take the editor down
                self.errors.append(str(exc))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._pending is None and not self._busy, timeout)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=10)
