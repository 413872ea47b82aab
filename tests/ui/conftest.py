"""Fixtures for the desktop-app tests: a real MainWindow (offscreen), a generated photo, fake methods.

Fake methods are registered in the engine registry for one test and removed afterwards, so the app's
model picker, worker thread and ModelManager run exactly as with real models."""

from __future__ import annotations

import time

import numpy as np
import pytest

from inpaint_studio.engine import base
from inpaint_studio.engine.base import (
    Capabilities,
    InpaintMethod,
    MaskPrediction,
    check_cancel,
    register_method,
)


def make_photo(h: int = 120, w: int = 160) -> np.ndarray:
    """A smooth gradient with a few shapes: Telea has something to fill, every pixel is distinct enough."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x * 255 // w), (y * 255 // h), ((x + y) * 127 // (w + h)) + 64], axis=-1).astype(np.uint8)
    img[20:40, 30:60] = (200, 40, 40)
    return img


def keep_known(image: np.ndarray, filled: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    out = image.copy()
    if mask is not None:
        out[mask > 0] = filled[mask > 0]
    return out


class SlowFill(InpaintMethod):
    """Takes `delay` seconds in small cancellable steps, then fills the hole with magenta."""

    name = "test_slow"
    description = "deliberately slow fake"
    capabilities = Capabilities()
    delay = 1.5
    honour_cancel = True
    calls = 0

    def inpaint(self, image, mask, edges=None, progress=None, cancel=None):
        type(self).calls += 1
        end = time.monotonic() + self.delay
        while time.monotonic() < end:
            if self.honour_cancel:
                check_cancel(cancel)
            time.sleep(0.02)
        return keep_known(image, np.full_like(image, (255, 0, 255)), mask)


class FastFill(InpaintMethod):
    name = "test_fast"
    description = "instant fake: fills the hole with cyan"
    capabilities = Capabilities()

    def inpaint(self, image, mask, edges=None, progress=None, cancel=None):
        return keep_known(image, np.full_like(image, (0, 255, 255)), mask)


class EdgeCapture(InpaintMethod):
    """Records the edges it was given (like EdgeConnect's edge input) and predicts a fixed diagonal."""

    name = "test_edges"
    description = "captures its edges argument"
    capabilities = Capabilities(accepts_edges=True, predicts_edges=True)
    seen: list = []

    def inpaint(self, image, mask, edges=None, progress=None, cancel=None):
        type(self).seen.append(None if edges is None else edges.copy())
        return keep_known(image, np.zeros_like(image), mask)

    def predict_edges(self, image, mask):
        edges = np.zeros(mask.shape, np.uint8)
        idx = np.arange(min(mask.shape))
        edges[idx, idx] = 255
        return edges


class BlindFake(InpaintMethod):
    """Predicts a mask of the pure-red pixels (its "damage") and paints them grey when restoring."""

    name = "test_blind"
    description = "blind fake"
    capabilities = Capabilities(needs_mask=False, predicts_mask=True, blind=True)

    def _damage(self, image):
        return np.where((image[..., 0] == 200) & (image[..., 1] == 40), 255, 0).astype(np.uint8)

    def predict_mask(self, image, progress=None, cancel=None):
        m = self._damage(image)
        return MaskPrediction((m / 255).astype(np.float32), m)

    def inpaint(self, image, mask, edges=None, progress=None, cancel=None):
        m = self._damage(image) if mask is None else mask
        return keep_known(image, np.full_like(image, 128), m)


class Exploding(InpaintMethod):
    name = "test_boom"
    description = "raises an unexpected error"
    capabilities = Capabilities()

    def inpaint(self, image, mask, edges=None, progress=None, cancel=None):
        raise RuntimeError("kaboom")


class MissingWeights(InpaintMethod):
    """A learned method whose checkpoint is absent (like DeepFill v2 before weights are imported)."""

    name = "test_missing"
    description = "learned fake without weights"
    capabilities = Capabilities(learned=True)

    def is_available(self):
        return False

    def weights_info(self):
        return "no checkpoint found"

    def inpaint(self, image, mask, edges=None, progress=None, cancel=None):
        raise AssertionError("must never run without weights")


FAKES = (SlowFill, FastFill, EdgeCapture, BlindFake, Exploding, MissingWeights)


@pytest.fixture
def fake_methods():
    base._ensure_builtin_methods()
    for cls in FAKES:
        register_method(cls)
    EdgeCapture.seen = []
    SlowFill.calls = 0
    SlowFill.honour_cancel = True
    yield
    for cls in FAKES:
        base._REGISTRY.pop(cls.name, None)


@pytest.fixture
def photo_path(tmp_path):
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.fromarray(make_photo()).save(path)
    return path


@pytest.fixture
def window(qtbot, monkeypatch, fake_methods, photo_path):
    monkeypatch.setenv("INPAINT_STUDIO_NO_DIALOGS", "1")
    from PySide6.QtWidgets import QMessageBox

    from inpaint_studio.ui.main_window import MainWindow

    win = MainWindow()
    # pytest-qt closes the window at teardown: answer the unsaved-changes prompt instead of blocking on it.
    win.documents.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    win.documents.ask_drop_candidates = lambda count: True
    qtbot.addWidget(win)
    win.resize(900, 600)
    win.show()
    qtbot.waitExposed(win)
    win.start_background()
    assert win.documents.open_path(photo_path)
    qtbot.waitUntil(lambda: "telea" in win.jobs.models and "test_slow" in win.jobs.models, timeout=30000)
    win.canvas.actual_size()
    win.canvas.centerOn(80, 60)
    yield win
    win.jobs.requests.cancel_all()


