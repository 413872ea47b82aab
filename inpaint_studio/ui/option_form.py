"""One editor widget per method option (engine.options.OptionSpec), and the value it holds.

An "auto" option (default None: the checkpoint's measured setting) gets an "auto" entry: the first item of a
choice box, or a spin box's special value one step below its range. Reading it back gives None, so the
method falls back to what its checkpoint recorded.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from inpaint_studio.engine.options import OptionSpec

AUTO_TEXT = "auto (model's setting)"
_INT_LIMIT = 2_147_483_647  # QSpinBox is int32


def make_option_widget(spec: OptionSpec) -> QWidget:
    if spec.kind == "bool":
        box = QCheckBox()
        box.setChecked(bool(spec.default))
        return box
    if spec.kind == "choice":
        combo = QComboBox()
        if spec.auto:
            combo.addItem(AUTO_TEXT, None)
        for choice in spec.choices:
            combo.addItem(choice, choice)
        combo.setCurrentIndex(max(combo.findData(spec.default), 0))
        return combo
    if spec.kind == "int":
        spin = QSpinBox()
        lo, hi = int(spec.minimum), int(min(spec.maximum, _INT_LIMIT))
        spin.setRange(lo - 1 if spec.auto else lo, hi)
        if spec.auto:
            spin.setSpecialValueText(AUTO_TEXT)  # shown at the minimum, i.e. one below the range
        spin.setValue(spin.minimum() if spec.auto else int(spec.default))
        return spin
    if spec.kind == "float":
        dspin = QDoubleSpinBox()
        dspin.setDecimals(3)
        step = 0.01 if spec.maximum <= 1.0 else 0.1
        dspin.setSingleStep(step)
        dspin.setRange(spec.minimum - step if spec.auto else spec.minimum, spec.maximum)
        if spec.auto:
            dspin.setSpecialValueText(AUTO_TEXT)
        dspin.setValue(dspin.minimum() if spec.auto else float(spec.default))
        return dspin
    return QLineEdit("" if spec.default is None else str(spec.default))


def option_value(spec: OptionSpec, widget: QWidget) -> Any:
    """The widget's value in the option's type; None for "auto"."""
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        if spec.auto and widget.value() == widget.minimum():
            return None
        return widget.value()
    if isinstance(widget, QLineEdit):
        return widget.text() if widget.text() or not spec.auto else None
    return None
