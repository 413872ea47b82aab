"""Auto mask shows translucent damage (a stain) as a faint amber soft mask beside the red mask, says what
Restore does with it, and forgets it once the photo changes."""

from __future__ import annotations

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

    def inpaint(self, image, mask, edges=None, progress=None, cancel=None):
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
