"""Asks how many pixels to add on each side of the canvas (Edit ▸ Extend canvas…)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QSpinBox, QWidget

from inpaint_studio.ui.model.extend import MAX_EXTEND_PX

DEFAULT_PX = 64


class ExtendDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Extend canvas")
        form = QFormLayout(self)
        self.spins: dict[str, QSpinBox] = {}
        for side in ("left", "top", "right", "bottom"):
            spin = QSpinBox()
            spin.setRange(0, MAX_EXTEND_PX)
            spin.setSuffix(" px")
            spin.setValue(DEFAULT_PX if side in ("left", "right") else 0)
            form.addRow(f"Add on the {side}", spin)
            self.spins[side] = spin
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def sides(self) -> tuple[int, int, int, int]:
        return tuple(self.spins[s].value() for s in ("left", "top", "right", "bottom"))  # type: ignore[return-value]
