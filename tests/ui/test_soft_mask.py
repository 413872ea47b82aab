"""Auto mask shows translucent damage (a stain) as a faint amber soft mask beside the red mask, says what
Restore does with it, and forgets it once the photo changes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from inpaint_studio.engine import base
from inpaint_studio.engine.base import Capabilities, InpaintMethod, MaskPrediction, register_method
from inpaint_studio.ui.canvas import SOFT_LUT


class StainFake(InpaintMethod):
    """Its "damage": the red block opaque, a soft stain (strength 0.6) below it."""

    name = "test_stain"
    description = "blind fake with a translucent part"
    capabilities = Capabilities(needs_mask=False, predicts_mask=True, blind=True)

    def predict_mask(self, image, progress=None, cancel=None):
        mask = np.zeros(image.shape[:2], np.uint8)
        mask[20:40, 30:60] = 255
        soft = np.zeros(image.shape[:2], np.float32)
        soft[60:100, 80:140] = 0.6
        return MaskPrediction(mask / np.float32(255), mask, 0.5, soft)

    def blind_hole(self, image, progress, cancel):
        return self.predict_mask(image).mask

    def fill_hole(self, image, hole, edges, progress, cancel):
        return image.copy()


@pytest.fixture
def stain_fake():
    register_method(StainFake)
    yield
    base._REGISTRY.pop(StainFake.name, None)


def test_auto_mask_shows_the_translucent_part_softly(stain_fake, window, qtbot):
    win = window
    qtbot.waitUntil(lambda: "test_stain" in win.jobs.models, timeout=30000)
    win.panel.select_model("test_stain")
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=20000, check_params_cb=lambda rid, o: o == "applied"):
        qtbot.mouseClick(win.panel.auto_mask_button, Qt.MouseButton.LeftButton)
    mask = win.document.binary_mask() > 0
    assert mask[20:40, 30:60].all() and not mask[60:100, 80:140].any()  # the stain is not in the fill mask
    soft = win.canvas.soft_mask
    assert soft is not None and soft[60:100, 80:140].min() == 153 and not soft[:60].any()
    # drawn fainter than the mask, in another colour, as strong as the map says
    shown = win.canvas._soft.pixels
    assert win.canvas._soft.isVisible()
    assert shown[70, 100] == SOFT_LUT[153] and shown[10, 10] == 0
    assert (SOFT_LUT[153] >> 24) < 115  # alpha below the mask's full 115
    words = win.statusBar().currentMessage()
    assert "never paints over" in words and "%" in words
    assert "amber" in win.panel.auto_mask_button.toolTip()
    win.menus.mask_action.trigger()  # Ctrl+H hides the amber with the red: a stain's result is judged unveiled
    assert not win.canvas.mask_visible and not win.canvas._soft.isVisible()
    win.menus.mask_action.trigger()
    assert win.canvas._soft.isVisible()
    # once the photo changes the map no longer describes it
    win.documents.replace("image", np.zeros_like(win.document.image), "test edit")
    assert win.canvas.soft_mask is None and not win.canvas._soft.isVisible()


def test_a_prediction_without_a_translucent_part_shows_none(window, qtbot):
    win = window
    win.panel.select_model("test_blind")
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=20000, check_params_cb=lambda rid, o: o == "applied"):
        qtbot.mouseClick(win.panel.auto_mask_button, Qt.MouseButton.LeftButton)
    assert win.canvas.soft_mask is None
    assert (win.document.binary_mask() > 0)[20:40, 30:60].all()


def test_restore_mask_removes_the_tint_of_the_amber_part_too(stain_fake, window, qtbot):
    """After an Auto mask, "Restore mask" fills the red part and un-tints the amber part (the stains Restore
    without a mask would un-tint): a corrected mask must not lose what the Auto mask found translucent."""
    from tests.imagegen import textured

    win = window
    h, w = win.document.image.shape[:2]
    clean = np.clip(cv2.resize(textured(h // 4, w // 4, 3), (w, h)).astype(np.int16) // 2 + 100, 0, 255)
    stained = clean.astype(np.float32)
    stained[60:100, 80:140] *= 1 + 0.6 * (np.array([0.8, 0.6, 0.35], np.float32) - 1)  # a brown tint, 0.6 strong
    stained = np.clip(np.rint(stained), 0, 255).astype(np.uint8)
    win.documents.replace("image", stained, "a stained photo")
    qtbot.waitUntil(lambda: "test_stain" in win.jobs.models, timeout=30000)
    win.panel.select_model("test_stain")
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=20000, check_params_cb=lambda rid, o: o == "applied"):
        qtbot.mouseClick(win.panel.auto_mask_button, Qt.MouseButton.LeftButton)
    assert win.canvas.soft_mask is not None and win.panel.restore_button.text() == "Restore mask"
    assert "amber" in win.panel.restore_button.toolTip()
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=20000, check_params_cb=lambda rid, o: o == "applied"):
        qtbot.mouseClick(win.panel.restore_button, Qt.MouseButton.LeftButton)
    result = win.document.candidates[-1].image
    inside = (slice(62, 98), slice(82, 138))  # away from the blurred edge
    before = np.abs(stained[inside].astype(int) - clean[inside]).mean()
    after = np.abs(result[inside].astype(int) - clean[inside]).mean()
    assert before > 20 and after < before / 4  # the tint is gone, the photo beneath kept
    outside = np.ones((h, w), bool)
    outside[55:105, 75:145] = False
    outside[20:40, 30:60] = False  # the red part (the fake fills it with itself)
    assert np.array_equal(result[outside], stained[outside])
