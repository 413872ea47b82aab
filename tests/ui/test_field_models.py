"""Context Encoder, GLCIC and PGGAN appear in the model picker by registration alone; without weights the
picker says which commands import or train them."""

from __future__ import annotations

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
