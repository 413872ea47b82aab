"""The model panel's options form: "auto" settings defer to the checkpoint, set ones reach the method."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox

from inpaint_studio.engine.catalogue import describe_models
from inpaint_studio.ui.model_panel import ModelPanel
from inpaint_studio.ui.option_form import AUTO_TEXT


def panel_on(qtbot, name: str) -> ModelPanel:
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.set_models(describe_models(), name)
    panel.select_model(name)
    assert panel.current_model == name
    return panel


def widget(panel: ModelPanel, key: str):
    return panel.option_widgets[key][1]


def test_vcnet_form_starts_on_the_checkpoints_settings_and_passes_only_what_the_user_set(qtbot):
    panel = panel_on(qtbot, "vcnet")
    detector, threshold = widget(panel, "detector"), widget(panel, "threshold")
    assert isinstance(detector, QComboBox) and detector.currentText() == AUTO_TEXT
    assert [detector.itemText(i) for i in range(detector.count())] == [AUTO_TEXT, "mpn", "mpn+classical"]
    assert isinstance(threshold, QDoubleSpinBox) and threshold.text() == AUTO_TEXT
    assert panel.options() == {"max_side": 1024}  # every "auto" option is left to the checkpoint

    detector.setCurrentIndex(detector.findText("mpn+classical"))
    threshold.setValue(0.8)
    widget(panel, "fill").setCurrentIndex(widget(panel, "fill").findText("telea"))
    assert panel.options() == {"max_side": 1024, "detector": "mpn+classical", "threshold": 0.8, "fill": "telea"}

    threshold.setValue(threshold.minimum())  # back to auto
    assert "threshold" not in panel.options()


def test_auto_on_off_options_are_left_to_the_checkpoint_until_set(qtbot):
    """A bool whose default is the checkpoint's (texture, verify) must not reach the method as False just
    because a checkbox starts unticked: the texture stage and the damage verifier stay on in "auto"."""
    for name, key in (("deepfill_v2", "texture"), ("edgeconnect", "texture"), ("vcnet", "verify")):
        panel = panel_on(qtbot, name)
        choice = widget(panel, key)
        assert isinstance(choice, QComboBox) and choice.currentText() == AUTO_TEXT
        assert key not in panel.options()
        choice.setCurrentIndex(choice.findText("off"))
        assert panel.options()[key] is False
        choice.setCurrentIndex(choice.findText("on"))
        assert panel.options()[key] is True


def test_large_integer_defaults_survive_the_form(qtbot):
    panel = panel_on(qtbot, "deepfill_v2")
    assert isinstance(widget(panel, "max_pixels"), QSpinBox)
    assert panel.options()["max_pixels"] == 1024 * 1024  # not clamped to a spin box's default range
    assert "working_size" not in panel.options()
    widget(panel, "working_size").setValue(0)  # 0 = off, a real value beside auto
    assert panel.options()["working_size"] == 0


def test_auto_entries_show_what_the_found_checkpoint_recorded(qtbot):
    import torch

    from inpaint_studio.core.paths import user_models_dir
    from inpaint_studio.engine.checkpoints import save_checkpoint
    from inpaint_studio.networks.registry import create_network

    nets = {"mpn": create_network("vcnet_mpn", base_channels=8),
            "rin": create_network("vcnet_rin", base_channels=4, neck_channels=16)}
    components = {"mpn": {"network": "vcnet_mpn", "config": {"base_channels": 8}},
                  "rin": {"network": "vcnet_rin", "config": {"base_channels": 4, "neck_channels": 16}}}
    with torch.no_grad():
        save_checkpoint(user_models_dir() / "vcnet-mine", "vcnet", nets, components,
                        {"blind": {"detector": "mpn+classical", "fill": "telea", "threshold": 0.8},
                         "inference": {"mask_size": 320}})
    panel = panel_on(qtbot, "vcnet")
    assert widget(panel, "detector").currentText() == "auto (mpn+classical)"
    assert widget(panel, "fill").currentText() == "auto (telea)"
    assert widget(panel, "threshold").text() == "auto (0.8)"
    assert widget(panel, "mask_size").text() == "auto (320)"
    assert widget(panel, "stains").currentText() == "auto (off)"  # no stain network: plain words, not False
    assert panel.options() == {"max_side": 1024}  # shown, not passed: the checkpoint keeps deciding


def test_a_passing_mouse_wheel_does_not_change_an_option(qtbot):
    """Scrolling the panel over a spin box must not edit it (max pixels crept from 1048576 to 1048563 when the
    panel was scrolled with the wheel); once clicked into, the wheel edits it."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    panel = panel_on(qtbot, "deepfill_v2")
    spin = widget(panel, "max_pixels")
    panel.show()
    before = spin.value()

    def turn() -> None:
        centre = QPointF(spin.rect().center())
        event = QWheelEvent(centre, QPointF(spin.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, -120),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                            False)
        QApplication.sendEvent(spin, event)

    turn()
    assert spin.value() == before and spin.focusPolicy() == Qt.FocusPolicy.StrongFocus
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    turn()
    assert spin.value() == before - 1
