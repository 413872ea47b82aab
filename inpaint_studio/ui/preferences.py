"""Preferences dialog: compute device and high-resolution strategy (stored in Settings)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from inpaint_studio.ui.settings import Settings

DEVICES = ("auto", "cpu", "cuda", "mps")
HD_STRATEGIES = {
    "auto": "Auto (crop around holes on big photos)",
    "original": "Original size (slow, most detail)",
    "resize": "Resize to the limit, paste back the hole",
    "crop": "Crop around each hole",
}


class PreferencesDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = settings
        form = QFormLayout(self)
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.device.setCurrentText(settings.get("device"))
        form.addRow("Device", self.device)
        self.hd = QComboBox()
        for key, text in HD_STRATEGIES.items():
            self.hd.addItem(text, key)
        self.hd.setCurrentIndex(max(0, list(HD_STRATEGIES).index(settings.get("hd_strategy"))
                                    if settings.get("hd_strategy") in HD_STRATEGIES else 0))
        form.addRow("High resolution", self.hd)
        self.limit = QSpinBox()
        self.limit.setRange(256, 8192)
        self.limit.setSingleStep(128)
        self.limit.setValue(settings.get("hd_resize_limit"))
        form.addRow("Resize limit (px)", self.limit)
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(settings.get("jpeg_quality"))
        form.addRow("JPEG/WebP quality", self.quality)
        note = QLabel("The device applies from the next model load.")
        note.setObjectName("hint")
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def store(self) -> None:
        self.settings.set("device", self.device.currentText())
        self.settings.set("hd_strategy", self.hd.currentData())
        self.settings.set("hd_resize_limit", self.limit.value())
        self.settings.set("jpeg_quality", self.quality.value())
        self.settings.sync()
