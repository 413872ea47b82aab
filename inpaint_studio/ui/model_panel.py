"""The right-hand panel: model picker with weights status, the model's options, the actions, progress
and the strip of candidates. It only shows state and emits requests; MainWindow does the work."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inpaint_studio.engine.options import OptionSpec
from inpaint_studio.ui.icons import icon
from inpaint_studio.ui.keys import SpinKeyFilter
from inpaint_studio.ui.option_form import make_option_widget, option_value
from inpaint_studio.ui.worker import ModelInfo

STATUS_TEXT = {
    "builtin": "built-in, no weights needed",
    "shipped": "weights shipped",
    "imported": "weights imported",
    "missing": "weights missing — import with Models ▸ Import…",
}


def capability_text(caps: Any) -> str:
    parts = []
    if caps.needs_mask:
        parts.append("fills mask")
    if caps.blind:
        parts.append("blind restore")
    if caps.predicts_mask:
        parts.append("auto mask")
    if caps.accepts_edges:
        parts.append("edge-guided")
    if caps.predicts_edges:
        parts.append("predicts edges")
    return ", ".join(parts)


def thumbnail(image: np.ndarray, size: int = 96) -> QIcon:
    h, w = image.shape[:2]
    step = max(1, int(max(h, w) / size))
    small = np.ascontiguousarray(image[::step, ::step])
    qimg = QImage(small.data, small.shape[1], small.shape[0], small.strides[0], QImage.Format.Format_RGB888)
    return QIcon(QPixmap.fromImage(qimg.copy()))


class ModelPanel(QWidget):
    modelChanged = Signal(str)
    inpaintRequested = Signal()
    compareRequested = Signal()
    autoMaskRequested = Signal()
    restoreRequested = Signal()
    predictEdgesRequested = Signal()
    importRequested = Signal()
    cancelRequested = Signal()
    candidateSelected = Signal(int)
    acceptRequested = Signal()
    discardRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(300)
        self.infos: dict[str, ModelInfo] = {}
        self.measured: dict[str, str] = {}  # method -> its numbers in models/table.json
        self.defaults: dict[str, str] = {}  # task ("fill" | "blind") -> the measured default method
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)

        models = QGroupBox("Model")
        ml = QVBoxLayout(models)
        self.model_list = QListWidget()
        self.model_list.setObjectName("modelList")
        self.model_list.setToolTip("Pick the model for Inpaint; tick several to compare them side by side")
        self.model_list.setFixedHeight(124)
        self.model_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.model_list.setWordWrap(True)
        self.model_list.currentItemChanged.connect(self._current_changed)
        ml.addWidget(self.model_list)
        self.model_status = QLabel("loading models…")
        self.model_status.setWordWrap(True)
        self.model_status.setObjectName("modelStatus")
        self.model_status.setOpenExternalLinks(True)  # the model card link opens in the system viewer
        ml.addWidget(self.model_status)
        self.import_button = QPushButton(icon("models"), "Import weights…")
        self.import_button.clicked.connect(self.importRequested)
        self.import_button.setVisible(False)
        ml.addWidget(self.import_button)
        layout.addWidget(models)

        self.options_box = QGroupBox("Options")
        self.options_form = QFormLayout(self.options_box)
        self.option_widgets: dict[str, tuple[OptionSpec, QWidget]] = {}
        self._spin_keys = SpinKeyFilter(self)
        layout.addWidget(self.options_box)

        actions = QGroupBox("Actions")
        al = QVBoxLayout(actions)
        self.inpaint_button = self._button(al, "inpaint", "Inpaint", "Fill the masked area (Ctrl+Return)", self.inpaintRequested)
        self.inpaint_button.setObjectName("primary")
        row = QHBoxLayout()
        self.compare_button = self._button(row, "compare", "Compare", "One candidate per ticked model (Ctrl+Shift+Return)", self.compareRequested)
        self.edges_button = self._button(row, "edges", "Predict edges", "EdgeConnect guesses edges in the hole; edit them, then Inpaint (Ctrl+E)", self.predictEdgesRequested)
        al.addLayout(row)
        row = QHBoxLayout()
        self.auto_mask_button = self._button(row, "auto_mask", "Auto mask", "Detect damage into the mask layer (Ctrl+M)", self.autoMaskRequested)
        self.restore_button = self._button(row, "restore", "Restore", "", self.restoreRequested)
        self.set_restore_mode(False)
        al.addLayout(row)
        self.use_edges = QCheckBox("Inpaint with my edges")
        self.use_edges.setToolTip("Pass the edge layer, exactly as drawn, to an edge-guided model")
        self.use_edges.setChecked(True)
        al.addWidget(self.use_edges)
        src = QHBoxLayout()
        src.addWidget(QLabel("Start from"))
        self.source_combo = QComboBox()
        self.source_combo.addItems(["current image", "selected result", "original photo"])
        self.source_combo.setToolTip("What the next run fills: the image with accepted results, the selected "
                                     "candidate (refine it), or the photo as it was opened")
        src.addWidget(self.source_combo, 1)
        al.addLayout(src)
        prog = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        prog.addWidget(self.progress, 1)
        self.cancel_button = QPushButton(icon("cancel"), "Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.cancel_button.clicked.connect(self.cancelRequested)
        prog.addWidget(self.cancel_button)
        al.addLayout(prog)
        layout.addWidget(actions)

        results = QGroupBox("Candidates")
        rl = QVBoxLayout(results)
        self.candidates = QListWidget()
        self.candidates.setObjectName("candidates")
        self.candidates.setViewMode(QListView.ViewMode.IconMode)
        self.candidates.setFlow(QListView.Flow.LeftToRight)
        self.candidates.setWrapping(False)
        self.candidates.setIconSize(QSize(88, 88))
        self.candidates.setFixedHeight(136)
        self.candidates.setMovement(QListView.Movement.Static)
        self.candidates.currentRowChanged.connect(self._candidate_changed)
        rl.addWidget(self.candidates)
        hint = QLabel("Hold \\ to see the image before")
        hint.setObjectName("hint")
        rl.addWidget(hint)
        row = QHBoxLayout()
        self.accept_button = self._button(row, "accept", "Accept", "The selected result becomes the image (Ctrl+Shift+A)", self.acceptRequested)
        self.discard_button = self._button(row, "discard", "Discard", "Drop all candidates", self.discardRequested)
        rl.addLayout(row)
        layout.addWidget(results)
        layout.addStretch(1)
        self.set_candidates([])

    @staticmethod
    def _button(layout: Any, role: str, text: str, tip: str, signal: Any) -> QPushButton:
        b = QPushButton(icon(role), text)
        b.setToolTip(tip)
        b.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click leaves the keys with the canvas
        b.clicked.connect(signal)
        layout.addWidget(b)
        return b

    # --- models ----------------------------------------------------------------------------------
    def set_models(self, infos: list[ModelInfo], current: str) -> None:
        from inpaint_studio.engine.defaults import default_method, measured_summary  # JSON only, no torch

        self.infos = {i.name: i for i in infos}
        self.measured = measured_summary()
        usable = [i.name for i in infos if i.available]
        self.defaults = {task: default_method(task, available=usable) for task in ("fill", "blind")}
        self.model_list.blockSignals(True)
        self.model_list.clear()
        for info in infos:
            item = QListWidgetItem(f"{info.name}\n{STATUS_TEXT.get(info.status, info.status)}")
            item.setData(Qt.ItemDataRole.UserRole, info.name)
            measured = f"\nmeasured: {self.measured[info.name]}" if info.name in self.measured else ""
            item.setToolTip(f"{info.description}\n{capability_text(info.capabilities)}\n{info.weights}{measured}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            if not info.available:
                item.setForeground(Qt.GlobalColor.gray)
            self.model_list.addItem(item)
        self.model_list.blockSignals(False)
        names = [i.name for i in infos]
        self.select_model(current if current in names else (names[0] if names else ""))

    def select_model(self, name: str) -> None:
        for row in range(self.model_list.count()):
            if self.model_list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.model_list.setCurrentRow(row)
                return

    @property
    def current_model(self) -> str:
        item = self.model_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else ""

    def ticked_models(self) -> list[str]:
        out = []
        for row in range(self.model_list.count()):
            item = self.model_list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def set_ticked(self, names: list[str]) -> None:
        for row in range(self.model_list.count()):
            item = self.model_list.item(row)
            on = item.data(Qt.ItemDataRole.UserRole) in names
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _current_changed(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if item is None:
            return
        info = self.infos[item.data(Qt.ItemDataRole.UserRole)]
        measured = f"<br>{self.measured_text(info.name)}" if info.name in self.measured else ""
        card = f' <a href="{QUrl.fromLocalFile(info.card).toString()}">model card</a>' if info.card else ""
        self.model_status.setText(
            f"<b>{info.name}</b>: {info.description} <i>({capability_text(info.capabilities)})</i>{measured}{card}"
        )
        self.import_button.setVisible(not info.available and info.capabilities.learned)
        self._build_options(info)
        self.modelChanged.emit(info.name)

    def measured_text(self, name: str) -> str:
        """Its measured numbers, and whether they make it a default or what the default measured instead."""
        text = f"measured: {self.measured[name]}"
        roles = [task for task, best in self.defaults.items() if best == name]
        if roles:
            return f"{text} — the {' and '.join(roles)} default"
        task = "blind" if self.measured[name].startswith("restoration") else "fill"
        best = self.defaults.get(task, "")
        return f"{text} (the {task} default, {best}: {self.measured[best]})" if best in self.measured else text

    def _build_options(self, info: ModelInfo) -> None:
        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        self.option_widgets = {}
        for spec in info.options:
            w = make_option_widget(spec, info.resolved.get(spec.name))
            self.option_widgets[spec.name] = (spec, w)
            if isinstance(w, QAbstractSpinBox):
                self._spin_keys.watch([w])
            self.options_form.addRow(spec.name.replace("_", " "), w)
        self.options_box.setVisible(bool(self.option_widgets))

    def options(self) -> dict[str, Any]:
        """The options the user set; "auto" ones are left out, so the checkpoint's settings apply."""
        out: dict[str, Any] = {}
        for key, (spec, w) in self.option_widgets.items():
            value = option_value(spec, w)
            if value is not None:
                out[key] = value
        return out

    def working_image(self, document: Any) -> Any:
        index = self.source_combo.currentIndex()
        return document.working_image(index == 1, original=index == 2)

    def set_restore_mode(self, has_mask: bool) -> None:
        """Say plainly what Restore will do: fill the user's mask, or find the damage itself."""
        if has_mask:
            self.restore_button.setText("Restore mask")
            self.restore_button.setToolTip(
                "Fill the mask as it is now (your corrections included) with the restoration model's fill. "
                "Clear the mask to let the model find the damage itself (Ctrl+R)")
        else:
            self.restore_button.setText("Restore")
            self.restore_button.setToolTip(
                "The restoration model finds the damage and fills it, no mask needed. To correct what it "
                "finds: Auto mask, erase false alarms / paint misses, then Restore mask (Ctrl+R)")

    # --- progress --------------------------------------------------------------------------------
    def set_busy(self, busy: bool, message: str = "") -> None:
        self.cancel_button.setEnabled(busy)
        if busy:
            self.progress.setValue(0)
            self.progress.setFormat(message or "working…")
        else:
            self.progress.setValue(0)
            self.progress.setFormat(message or "idle")

    def set_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(f"{message or 'working'} %p%")

    # --- candidates ------------------------------------------------------------------------------
    def set_candidates(self, items: list[tuple[str, np.ndarray]], selected: int | None = None) -> None:
        self.candidates.blockSignals(True)
        self.candidates.clear()
        for label, image in items:
            self.candidates.addItem(QListWidgetItem(thumbnail(image), label))
        if selected is not None:
            self.candidates.setCurrentRow(selected)
        self.candidates.blockSignals(False)
        self.accept_button.setEnabled(bool(items))
        self.discard_button.setEnabled(bool(items))

    def _candidate_changed(self, row: int) -> None:
        if row >= 0:
            self.candidateSelected.emit(row)
