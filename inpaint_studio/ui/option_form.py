"""One editor widget per method option (engine.options.OptionSpec), and the value it holds.

An "auto" option (default None: the checkpoint's measured setting) gets an "auto" entry: the first item of a
choice box, or a spin box's special value one step below its range. Reading it back gives None, so the
method falls back to what its checkpoint recorded.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from inpaint_studio.engine.options import OptionSpec

AUTO_TEXT = "auto (model's setting)"
AUTO_TIP = "auto: the setting measured for these weights and recorded in the checkpoint"
_INT_LIMIT = 2_147_483_647  # QSpinBox is int32


def auto_text(resolved: Any = None) -> str:
    """ "auto (0.95)" or "auto (on)" when the checkpoint's value is known, else a generic "auto"."""
    if resolved is None:
        return AUTO_TEXT
    if isinstance(resolved, bool):  # plain words, not Python's True/False
        return f"auto ({'on' if resolved else 'off'})"
    return f"auto ({resolved:g})" if isinstance(resolved, float) else f"auto ({resolved})"


class _NoStrayWheel:
    """A mouse wheel scrolling the panel past a spin or choice box must scroll the panel, not change the
    option: the box takes wheel turns only once clicked into (it has focus); otherwise the turn goes on to the
    scroll area around it."""

    def wheelEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        if self.hasFocus():  # type: ignore[attr-defined]
            super().wheelEvent(event)  # type: ignore[misc]
        else:
            event.ignore()


class _SpinBox(_NoStrayWheel, QSpinBox):
    pass


class _DoubleSpinBox(_NoStrayWheel, QDoubleSpinBox):
    pass


class _ComboBox(_NoStrayWheel, QComboBox):
    pass


def make_option_widget(spec: OptionSpec, resolved: Any = None) -> QWidget:
    """`resolved`: what the option means in "auto" (the checkpoint's recorded value), shown beside it."""
    w = _make(spec, auto_text(resolved))
    if spec.auto:
        w.setToolTip(AUTO_TIP)
    if isinstance(w, QComboBox | QSpinBox | QDoubleSpinBox):
        w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # not focused by a passing wheel
    return w


def _make(spec: OptionSpec, auto: str) -> QWidget:
    if spec.kind == "bool" and spec.auto:
        # three states: a checkbox cannot say "the checkpoint's choice", and unticked would turn a stage off
        combo = _ComboBox()
        combo.addItem(auto, None)
        combo.addItem("on", True)
        combo.addItem("off", False)
        return combo
    if spec.kind == "bool":
        box = QCheckBox()
        box.setChecked(bool(spec.default))
        return box
    if spec.kind == "choice":
        combo = _ComboBox()
        if spec.auto:
            combo.addItem(auto, None)
        for choice in spec.choices:
            combo.addItem(choice, choice)
        combo.setCurrentIndex(max(combo.findData(spec.default), 0))
        return combo
    if spec.kind == "int":
        spin = _SpinBox()
        lo, hi = int(spec.minimum), int(min(spec.maximum, _INT_LIMIT))
        spin.setRange(lo - 1 if spec.auto else lo, hi)
        if spec.auto:
            spin.setSpecialValueText(auto)  # shown at the minimum, i.e. one below the range
        spin.setValue(spin.minimum() if spec.auto else int(spec.default))
        return spin
    if spec.kind == "float":
        dspin = _DoubleSpinBox()
        dspin.setDecimals(3)
        step = 0.01 if spec.maximum <= 1.0 else 0.1
        dspin.setSingleStep(step)
        dspin.setRange(spec.minimum - step if spec.auto else spec.minimum, spec.maximum)
        if spec.auto:
            dspin.setSpecialValueText(auto)
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
