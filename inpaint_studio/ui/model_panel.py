"""The right-hand panel: model picker with weights status, the model's options, the actions, progress
and the strip of candidates. It only shows state and emits requests; the window's controllers do the work."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from inpaint_studio.engine.options import OptionSpec
from inpaint_studio.ui.icons import icon
from inpaint_studio.ui.keys import SpinKeyFilter
from inpaint_studio.ui.model.picks import Pick
from inpaint_studio.ui.option_form import make_option_widget, option_value

if TYPE_CHECKING:  # the catalogue itself is built on the worker thread
    from inpaint_studio.engine.catalogue import ModelInfo

TASK_WORDS = {"fill": "removing objects", "blind": "one-click restore"}

STATUS_TEXT = {
    "builtin": "ready",
    "shipped": "ready",
    "imported": "ready (your weights)",
    "missing": "weights missing — import with Models ▸ Import…",
}
WEIGHTS_TEXT = {  # the longer story, in the item's tooltip
    "builtin": "built in, no weights needed",
    "shipped": "weights come with the app",
    "imported": "weights you imported",
    "missing": "weights missing — import them with Models ▸ Import…",
}
LINK_STYLE = "color:#8ab4f8"  # readable on the dark theme (the default link blue is not)
# Progress steps that are setting names, in words (core.hd reports its strategy's name as the first step).
STEP_WORDS = {"original": "whole image", "resize": "at reduced size", "crop": "crop by crop", "done": "finishing"}
CANDIDATE_ICON = 56  # four thumbnails across the panel
MIN_LIST_ROWS = 10  # the model list never shows fewer rows than this
OPTION_ROWS = 2  # the options area keeps this height for every model, so the panel never re-flows
CHECKPOINT_ROLE = Qt.ItemDataRole.UserRole + 1  # a checkpoint row's engine.named_checkpoints.CheckpointEntry
ORIGIN_WORDS = {"shipped": "comes with the app", "imported": "imported", "trained": "trained by you",
                "added": "added by you"}


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


def _tight(layout: QVBoxLayout) -> QVBoxLayout:
    """Less air inside the panel's groups: at 1440×900 everything must fit without scrolling."""
    layout.setContentsMargins(6, 4, 6, 4)
    layout.setSpacing(4)
    return layout


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
    measureRequested = Signal(object)  # engine.named_checkpoints.CheckpointEntry: score it on the validation photos
    cancelRequested = Signal()
    candidateSelected = Signal(int)
    acceptRequested = Signal()
    discardRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(350)
        self.infos: dict[str, ModelInfo] = {}
        self.measured: dict[str, str] = {}  # method -> its numbers in models/table.json (the tooltip)
        self.words: dict[str, str] = {}  # method -> how it measured, in plain words (shown first)
        self.defaults: dict[str, str] = {}  # task ("fill" | "blind") -> the measured default method
        self._running = "working"  # what the progress bar says is running
        self._ended = "idle"  # how the last run ended: stays until the next one starts
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 4, 6, 4)
        outer.setSpacing(4)
        # Models and options scroll if the screen is short; the actions and results below never do, so
        # Inpaint, Accept and Discard are always on screen.
        top = QWidget()
        layout = QVBoxLayout(top)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.top_scroll = QScrollArea()
        self.top_scroll.setWidgetResizable(True)
        self.top_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.top_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.top_scroll.setWidget(top)
        outer.addWidget(self.top_scroll, 1)

        models = QGroupBox("Model")
        ml = _tight(QVBoxLayout(models))
        self.model_list = QListWidget()
        self.model_list.setObjectName("modelList")
        self.model_list.setToolTip("Pick the model for Inpaint; tick several (models or checkpoints) to compare "
                                   "them side by side")
        self.model_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # The list takes the room the panel has (the rest is fixed-height): every model at 1440×900 when they fit,
        # else it scrolls by itself and nothing else moves.
        self.model_list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.model_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.model_list.currentItemChanged.connect(self._current_changed)
        ml.addWidget(self.model_list)
        self.model_status = QLabel("loading models…")
        self.model_status.setWordWrap(True)
        self.model_status.setObjectName("modelStatus")
        self.model_status.setOpenExternalLinks(False)  # "numbers" opens in place; the card in the system viewer
        self.model_status.linkActivated.connect(self._link)
        self.show_numbers = False
        status_row = QHBoxLayout()
        status_row.addWidget(self.model_status, 1)
        # Beside "not measured yet": one click scores the checkpoint (engine.checkpoint_measure) and the words update.
        self.measure_button = QPushButton("Measure")
        self.measure_button.setObjectName("measure")
        self.measure_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.measure_button.clicked.connect(self._measure_clicked)
        policy = self.measure_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # the status keeps its width whether or not the button shows
        self.measure_button.setSizePolicy(policy)
        self.measure_button.setVisible(False)
        status_row.addWidget(self.measure_button, 0, Qt.AlignmentFlag.AlignTop)
        ml.addLayout(status_row)
        self.import_button = QPushButton(icon("models"), "Import weights…")
        self.import_button.clicked.connect(self.importRequested)
        self.import_button.setVisible(False)
        ml.addWidget(self.import_button)
        layout.addWidget(models, 1)  # the model list gets whatever room the fixed-height parts leave

        self.options_box = QGroupBox("Options")
        box_layout = QVBoxLayout(self.options_box)
        box_layout.setContentsMargins(4, 4, 4, 4)
        self.options_scroll = QScrollArea()
        self.options_scroll.setWidgetResizable(True)
        self.options_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.options_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        form_host = QWidget()
        self.options_form = QFormLayout(form_host)
        self.options_form.setContentsMargins(0, 0, 0, 0)
        self.options_scroll.setWidget(form_host)
        self.options_scroll.setFixedHeight(OPTION_ROWS * 30)
        box_layout.addWidget(self.options_scroll)
        self.option_widgets: dict[str, tuple[OptionSpec, QWidget]] = {}
        self._spin_keys = SpinKeyFilter(self)
        layout.addWidget(self.options_box)

        actions = QGroupBox("Actions")
        al = _tight(QVBoxLayout(actions))
        row = QHBoxLayout()
        self.inpaint_button = self._button(row, "inpaint", "Inpaint", "Fill the masked area (Ctrl+Return)", self.inpaintRequested)
        self.inpaint_button.setObjectName("primary")
        row.setStretchFactor(self.inpaint_button, 2)
        self.compare_button = self._button(row, "compare", "Compare", "One candidate per ticked model (Ctrl+Shift+Return)", self.compareRequested)
        row.setStretchFactor(self.compare_button, 1)
        al.addLayout(row)
        row = QHBoxLayout()
        self.auto_mask_button = self._button(
            row, "auto_mask", "Auto mask", "Detect damage into the mask layer (Ctrl+M); stains show in faint amber: "
            "Restore removes their tint where it can and never paints over them", self.autoMaskRequested)
        self.restore_button = self._button(row, "restore", "Restore", "", self.restoreRequested)
        self.set_restore_mode(False)
        self.edges_button = self._button(row, "edges", "Edges", "Predict edges: EdgeConnect guesses edges in the hole; edit them, then Inpaint (Ctrl+E)", self.predictEdgesRequested)
        al.addLayout(row)
        src = QHBoxLayout()
        src.addWidget(QLabel("Start from"))
        self.source_combo = QComboBox()
        self.source_combo.addItems(["current image", "selected result", "original photo"])
        self.source_combo.setToolTip("What the next run fills: the image with accepted results, the selected "
                                     "candidate (refine it), or the photo as it was opened")
        src.addWidget(self.source_combo, 1)
        self.use_edges = QCheckBox("my edges")
        self.use_edges.setToolTip("Inpaint with my edges: pass the edge layer, exactly as drawn, to this "
                                  "edge-guided model")
        self.use_edges.setChecked(True)
        policy = self.use_edges.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # shown only for edge-guided models, without shifting the row
        self.use_edges.setSizePolicy(policy)
        src.addWidget(self.use_edges)
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
        outer.addWidget(actions)

        results = QGroupBox("Candidates")
        rl = _tight(QVBoxLayout(results))
        self.candidates = QListWidget()
        self.candidates.setObjectName("candidates")
        self.candidates.setViewMode(QListView.ViewMode.IconMode)
        self.candidates.setFlow(QListView.Flow.LeftToRight)
        self.candidates.setWrapping(False)
        self.candidates.setIconSize(QSize(CANDIDATE_ICON, CANDIDATE_ICON))
        self.candidates.setGridSize(QSize(CANDIDATE_ICON + 10, CANDIDATE_ICON + 22))
        self.candidates.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.candidates.setFixedHeight(CANDIDATE_ICON + 40)  # one row of thumbnails and the scroll bar
        self.candidates.setMovement(QListView.Movement.Static)
        self.candidates.setToolTip("Hold \\ to see the image before")
        self.candidates.currentRowChanged.connect(self._candidate_changed)
        rl.addWidget(self.candidates)
        row = QHBoxLayout()
        self.accept_button = self._button(row, "accept", "Accept", "The selected result becomes the image (Ctrl+Shift+A)", self.acceptRequested)
        self.discard_button = self._button(row, "discard", "Discard", "Drop all candidates", self.discardRequested)
        hint = QLabel("hold \\ for before")
        hint.setObjectName("hint")
        row.addWidget(hint)
        rl.addLayout(row)
        outer.addWidget(results)
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
    def set_models(self, infos: list[ModelInfo], current: str, checkpoint: str = "") -> None:
        """Show the model catalogue (`engine.catalogue.describe_models`): what `inpaint-studio models` lists, with
        `current` picked, on its checkpoint row `checkpoint` when it has one of that name (a pick remembered
        across restarts); a re-read keeps the row picked now."""
        picked = self.current_checkpoint
        ticked = [p.name for p in self.ticked_picks()]
        self.infos = {i.name: i for i in infos}
        self.measured = {i.name: i.numbers for i in infos if i.numbers}
        self.words = {i.name: i.words for i in infos if i.words}
        self.defaults = {task: i.name for i in infos for task in i.default_for if task in TASK_WORDS}
        self.model_list.blockSignals(True)
        self.model_list.clear()
        for info in infos:
            status = STATUS_TEXT.get(info.status, info.status)
            if info.below:  # said where it is picked: choosing it costs quality
                status += f" · measures below {info.below}"
            item = QListWidgetItem(f"{info.name} — {status}")
            item.setData(Qt.ItemDataRole.UserRole, info.name)
            measured = f"\nmeasured: {self.measured[info.name]}" if info.name in self.measured else ""
            weights = WEIGHTS_TEXT.get(info.status, info.status)
            item.setToolTip(f"{info.description}\n{capability_text(info.capabilities)}\n{weights}: {info.weights}{measured}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            if not info.available:
                item.setForeground(Qt.GlobalColor.gray)
            self.model_list.addItem(item)
            if info.capabilities.learned:
                self._add_checkpoint_rows(info.name, info.checkpoints)
        self.model_list.blockSignals(False)
        self._fit_model_list()
        self.set_ticked(ticked)  # a re-read catalogue (after measuring, importing) keeps what was ticked
        names = [i.name for i in infos]
        wanted = picked.name if picked is not None and picked.method == current else checkpoint
        if wanted and self.select_checkpoint(wanted, current):
            return  # and the checkpoint row that was picked
        self.select_model(current if current in names else (names[0] if names else ""))

    def _add_checkpoint_rows(self, method: str, entries: Sequence[Any]) -> None:
        """Where a method has several checkpoints, one row each under it (the default first); picking a row runs
        the method with that checkpoint. A single checkpoint is the method's own row."""
        if len(entries) < 2:
            return
        for i, entry in enumerate(entries):
            default = ", default" if i == 0 else ""
            item = QListWidgetItem(f"    {entry.name} — {ORIGIN_WORDS.get(entry.origin, entry.origin)}{default} · "
                                   f"{entry.measured_words()}")
            item.setData(Qt.ItemDataRole.UserRole, method)
            item.setData(CHECKPOINT_ROLE, entry)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)  # ticked: Compare runs it as its own candidate
            item.setCheckState(Qt.CheckState.Unchecked)
            numbers = f"\nnumbers: {entry.numbers()}" if entry.numbers() else ""
            item.setToolTip(f"{method} with the checkpoint {entry.name}\n{entry.source_words()}\n"
                            f"{entry.measured_words()}{numbers}\n{entry.path}")
            self.model_list.addItem(item)

    @property
    def current_checkpoint(self) -> Any:
        """The picked checkpoint row's entry (engine.named_checkpoints.CheckpointEntry), or None for a method row."""
        item = self.model_list.currentItem()
        return item.data(CHECKPOINT_ROLE) if item is not None else None

    @property
    def current_pick(self) -> Pick:
        """The picked row as a model to run: its method, and its checkpoint for a checkpoint row."""
        entry = self.current_checkpoint
        return Pick(self.current_model, entry.path if entry is not None else None)

    @staticmethod
    def _row_pick(item: QListWidgetItem) -> Pick:
        entry = item.data(CHECKPOINT_ROLE)
        return Pick(item.data(Qt.ItemDataRole.UserRole), entry.path if entry is not None else None)

    def select_checkpoint(self, name: str, method: str = "") -> bool:
        """Pick the checkpoint row `name` (of `method` when given); False when there is none."""
        for row in range(self.model_list.count()):
            entry = self.model_list.item(row).data(CHECKPOINT_ROLE)
            if entry is not None and entry.name == name and (not method or entry.method == method):
                self.model_list.setCurrentRow(row)
                return True
        return False

    def changeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.StyleChange:  # a style sheet changes the rows' height
            self._fit_model_list()
        super().changeEvent(event)

    def _fit_model_list(self) -> None:
        """At least MIN_LIST_ROWS rows, at most every model: beyond that the list grows with the panel."""
        rows = self.model_list.count()
        row_h = self.model_list.sizeHintForRow(0) if rows else 20
        chrome = 2 * self.model_list.frameWidth() + 2
        self.model_list.setMinimumHeight(min(max(rows, 3), MIN_LIST_ROWS) * row_h + chrome)
        self.model_list.setMaximumHeight(max(rows, 3) * row_h + chrome)

    def select_model(self, name: str) -> None:
        for row in range(self.model_list.count()):
            if self.model_list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.model_list.setCurrentRow(row)
                return

    @property
    def current_model(self) -> str:
        item = self.model_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else ""

    def ticked_picks(self) -> list[Pick]:
        """The ticked rows, in list order: a method row runs its default weights, a checkpoint row its checkpoint."""
        rows = (self.model_list.item(row) for row in range(self.model_list.count()))
        return [self._row_pick(item) for item in rows if item.checkState() == Qt.CheckState.Checked]

    def set_ticked(self, names: list[str]) -> None:
        """Tick the rows of these models (a method's name, or "METHOD · CHECKPOINT" for a checkpoint row)."""
        for row in range(self.model_list.count()):
            item = self.model_list.item(row)
            on = self._row_pick(item).name in names
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _current_changed(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if item is None:
            return
        info = self.infos[item.data(Qt.ItemDataRole.UserRole)]
        self._show_status(info)
        unmeasured = self._unmeasured()
        self.measure_button.setVisible(unmeasured is not None)
        if unmeasured is not None:
            self.measure_button.setToolTip(
                f"Measure {unmeasured.name}: its fill scored against Telea's on up to 16 validation photos (the "
                f"bundled samples while the photo set is not fetched). Same as: inpaint-studio models measure "
                f"{unmeasured.name}")
        self.import_button.setVisible(not info.available and info.capabilities.learned)
        self.use_edges.setVisible(bool(info.capabilities.accepts_edges))
        self._build_options(info)
        self.modelChanged.emit(info.name)

    def _show_status(self, info: ModelInfo) -> None:
        """Plain words first (how it measured, whether it is a default); the measured numbers one click away
        ("numbers"), and in the tooltip."""
        links = []
        if info.name in self.measured:
            links.append(f'<a style="{LINK_STYLE}" href="#numbers">{"hide numbers" if self.show_numbers else "numbers"}</a>')
        if info.card:
            links.append(f'<a style="{LINK_STYLE}" href="{QUrl.fromLocalFile(info.card).toString()}">model card</a>')
        entry = self.current_checkpoint
        if entry is not None:
            self._show_checkpoint_status(info, entry)
            return
        numbers = f"<br>measured: {self.measured[info.name]}" if self.show_numbers and info.name in self.measured else ""
        # A method that names its own import/train commands shows them where its weights are missing.
        missing = not info.available and info.weights.startswith("weights missing")
        how = f"<br>{html.escape(info.weights)}" if missing else ""
        self.model_status.setText(
            f"<b>{info.name}</b>: {info.description} <i>({capability_text(info.capabilities)})</i>"
            f"<br>{self.plain_rank(info.name)} {' · '.join(links)}{numbers}{how}"
        )
        self.model_status.setToolTip(f"measured: {self.measured[info.name]}" if info.name in self.measured else "")

    def _show_checkpoint_status(self, info: ModelInfo, entry: Any) -> None:
        """A checkpoint row: where it came from and how it measured in words; its numbers one click away."""
        link = (f' <a style="{LINK_STYLE}" href="#numbers">{"hide numbers" if self.show_numbers else "numbers"}</a>'
                if entry.numbers() else "")
        numbers = f"<br>{html.escape(entry.numbers())}" if self.show_numbers and entry.numbers() else ""
        how = entry.measured_words()
        self.model_status.setText(
            f"<b>{info.name}</b> with <b>{html.escape(entry.name)}</b>: {html.escape(entry.source_words())}"
            f"<br>{html.escape(how[:1].upper() + how[1:])}.{link}{numbers}"
        )
        self.model_status.setToolTip(entry.numbers())

    def plain_rank(self, name: str) -> str:
        """How it measured in words, and whether that makes it a default or which method is the default instead.
        A method the model table does not list says how its default checkpoint measured, if it was."""
        if name not in self.words:
            default = self._default_checkpoint(name)
            if default is not None and default.measured is not None:
                how = default.measured_words()
                return f"Measured: {how}."
            return "Not measured yet."
        return self.measured_text(name) + "."

    def _default_checkpoint(self, name: str) -> Any:
        info = self.infos.get(name)
        return info.checkpoints[0] if info is not None and info.checkpoints else None

    def _unmeasured(self) -> Any:
        """The checkpoint the Measure button would measure: the picked checkpoint row's, or a learned method row's
        default checkpoint, when it is not measured yet; else None. (A method the model table measured has its
        default measured: the table's rows are of the checkpoint that ships as its default.)"""
        entry = self.current_checkpoint
        if entry is None:
            if self.current_model in self.words:
                return None
            entry = self._default_checkpoint(self.current_model)
        return entry if entry is not None and entry.measured is None else None

    def _measure_clicked(self) -> None:
        entry = self._unmeasured()
        if entry is not None:
            self.measureRequested.emit(entry)

    def set_measuring(self, entry: Any) -> None:
        """While `entry` is being measured its button says so (and is not offered twice)."""
        self.measure_button.setEnabled(entry is None)
        self.measure_button.setText("Measuring…" if entry is not None else "Measure")

    def _link(self, href: str) -> None:
        if href == "#numbers":
            self.show_numbers = not self.show_numbers
            name = self.current_model
            if name in self.infos:
                self._show_status(self.infos[name])
        else:
            QDesktopServices.openUrl(QUrl(href))

    def measured_text(self, name: str) -> str:
        """How it measured, in plain words, and whether that makes it a default or which method is instead (the
        numbers are the status line's tooltip)."""
        text = f"Measured: {self.words[name]}"
        roles = [task for task, best in self.defaults.items() if best == name]
        if roles:
            return f"{text} — the default for {' and '.join(TASK_WORDS.get(r, r) for r in roles)}"
        task = "blind" if self.infos[name].capabilities.blind else "fill"
        best = self.defaults.get(task, "")
        return f"{text} (the default for {TASK_WORDS[task]} is {best})" if best else text

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
        if not self.option_widgets:
            self.options_form.addRow(QLabel("no options for this model"))

    def options(self) -> dict[str, Any]:
        """The options the user set, and the picked checkpoint row's file (the method runs with it)."""
        out = self.option_values()
        entry = self.current_checkpoint
        if entry is not None:
            out["checkpoint"] = entry.path
        return out

    def option_values(self) -> dict[str, Any]:
        """The option widgets' values; "auto" ones are left out, so the checkpoint's settings apply."""
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
                "Fill the mask as it is now (your corrections included) with the restoration model's fill, and "
                "remove the tint of the stains shown in amber. "
                "Clear the mask to let the model find the damage itself (Ctrl+R)")
        else:
            self.restore_button.setText("Restore")
            self.restore_button.setToolTip(
                "The restoration model finds the damage and fills it, no mask needed. To correct what it "
                "finds: Auto mask, erase false alarms / paint misses, then Restore mask (Ctrl+R)")

    # --- progress --------------------------------------------------------------------------------
    def set_busy(self, busy: bool, message: str = "") -> None:
        """Busy: what is running. Not busy: how the last run ended ("done in 0.4 s", "cancelled", "failed"),
        kept until the next run starts; without a message the last ending stays."""
        self.cancel_button.setEnabled(busy)
        self.progress.setValue(0)
        if busy:
            self._running = message or "working"
            self.progress.setFormat(f"{self._running}…")
        else:
            self._ended = message or self._ended
            self.progress.setFormat(self._ended)

    def set_progress(self, fraction: float, message: str) -> None:
        """The real step, and a percentage only once there is one (a bar stuck at 0 % says nothing)."""
        step = STEP_WORDS.get(message, message)
        label = f"{self._running}: {step}" if step else self._running
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(f"{label} %p%" if 0.0 < fraction < 1.0 else f"{label}…")

    # --- candidates ------------------------------------------------------------------------------
    def set_candidates(self, items: list[tuple[str, np.ndarray]], selected: int | None = None) -> None:
        self.candidates.blockSignals(True)
        self.candidates.clear()
        for label, image in items:
            item = QListWidgetItem(thumbnail(image), label)
            item.setToolTip(label)  # the thumbnail's caption is cut short; the whole of it on hover
            self.candidates.addItem(item)
        if selected is not None:
            self.candidates.setCurrentRow(selected)
        self.candidates.blockSignals(False)
        self.accept_button.setEnabled(bool(items))
        self.discard_button.setEnabled(bool(items))

    def _candidate_changed(self, row: int) -> None:
        if row >= 0:
            self.candidateSelected.emit(row)
