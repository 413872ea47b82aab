"""Context Encoder, GLCIC and PGGAN appear in the model picker by registration alone; without weights the
picker says which commands import or train them; with the shipped checkpoints each of the four fills a hole."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt


def test_the_picker_lists_the_field_methods_with_how_to_get_their_weights(window):
    panel = window.panel
    names = {panel.model_list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(panel.model_list.count())}
    assert {"context_encoder", "glcic", "pggan"} <= names
    panel.select_model("glcic")
    text = panel.model_status.text()
    assert "compact holes" in text
    assert "python -m trainer train glcic --preset small" in text and "inpaint-studio models import model_cn" in text
    assert panel.import_button.isVisibleTo(panel)
    panel.select_model("pggan")
    assert "python -m trainer train pggan" in panel.model_status.text()


@pytest.mark.shipped_models
@pytest.mark.parametrize("name", ["context_encoder", "glcic", "pggan", "deepfill_v1"])
def test_each_field_method_fills_a_painted_hole_in_the_app_with_its_shipped_checkpoint(name, window, qtbot):
    from .test_engine_flow import paint_hole, run_and_wait

    win, doc = window, window.document
    qtbot.waitUntil(lambda: name in win.jobs.models, timeout=30000)
    if not win.jobs.models[name].available:
        pytest.skip(f"no {name} checkpoint ships")  # PGGAN's was withdrawn (models/training/README.md)
    original = doc.image.copy()
    paint_hole(win)
    hole = doc.binary_mask() > 0
    win.panel.select_model(name)
    run_and_wait(qtbot, win, win.panel.inpaint_button, timeout=60000)
    filled = doc.candidates[-1].image
    assert np.array_equal(filled[~hole], original[~hole])  # only the hole changes ...
    assert (filled[hole] != original[hole]).any(axis=-1).mean() > 0.5  # ... and it is filled
