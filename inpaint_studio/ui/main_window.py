"""The main window: wires the document, canvas, model panel, engine worker, undo stack and autosave.

Only light modules are imported here; the engine (and torch) load on the worker thread after the window
is shown. Every result carries its request id and is applied only if it answers the newest request."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QShortcut,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSpinBox,
    QToolBar,
)

from inpaint_studio.ui.autosave_actions import AUTOSAVE_DELAY_MS, AutosaveActions
from inpaint_studio.ui.blind_ab_actions import BlindABActions
from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.file_actions import FileActions
from inpaint_studio.ui.icons import icon
from inpaint_studio.ui.keys import HoldKeyFilter, SpinKeyFilter, shortcut_list
from inpaint_studio.ui.model import autosave
from inpaint_studio.ui.model.document import Candidate, Document
from inpaint_studio.ui.model.raster import Box
from inpaint_studio.ui.model.requests import RequestTracker
from inpaint_studio.ui.model_panel import ModelPanel
from inpaint_studio.ui.selection_actions import SelectionActions
from inpaint_studio.ui.settings import Settings
from inpaint_studio.ui.tools import TOOL_SPECS, Tool
from inpaint_studio.ui.undo import PatchCommand
from inpaint_studio.ui.worker import EngineThread, Job, ModelInfo

APP_TITLE = "Inpaint Studio"
MASK_STEP_PX = 8


_VERBS = {"inpaint": "Inpainting", "restore": "Restoring", "predict_mask": "Finding damage",
          "predict_edges": "Predicting edges", "import_checkpoint": "Importing weights"}


def _running_text(job: Job) -> str:
    verb = "Filling your mask" if job.slot == "restore" and job.kind == "inpaint" else _VERBS.get(job.kind, job.kind)
    return f"{verb} with {job.method}" if job.method else verb


class MainWindow(FileActions, AutosaveActions, SelectionActions, BlindABActions, QMainWindow):
    shown = Signal()
    jobFinished = Signal(int, str)  # rid, outcome ("applied", "discarded", "failed", "cancelled")

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.document: Document | None = None
        self.undo_stack = QUndoStack(self)
        self.requests = RequestTracker()
        self.models: dict[str, ModelInfo] = {}
        self.last_error = ""
        self._job_slots: dict[int, str] = {}
        self._job_methods: dict[int, str] = {}
        self._ended_method = ""
        self._job_started: dict[int, float] = {}
        self._shown_once = False
        self._closed = False
        self._autosave_writer: autosave.BackgroundWriter | None = None
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        screen = QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        self.resize(min(1440, avail.width()) if avail else 1280, min(900, avail.height()) if avail else 800)

        self.canvas = CanvasView(self)
        self.setCentralWidget(self.canvas)
        self.panel = ModelPanel(self)
        from PySide6.QtWidgets import QDockWidget

        dock = QDockWidget("Models and results", self)
        dock.setObjectName("rightPanel")
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        dock.setWidget(self.panel)  # the panel scrolls its upper part itself; its buttons stay in view
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

        self.engine = EngineThread(self)
        self.engine.set_device(self.settings.get("device"))
        self.engine.set_hd(self.settings.get("hd_strategy"), self.settings.get("hd_resize_limit"))
        w = self.engine.worker
        w.progress.connect(self._on_progress)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.cancelled.connect(self._on_cancelled)
        w.modelsListed.connect(self._on_models)
        w.deviceResolved.connect(self._on_device)

        self._autosave_timer = QTimer(self)
        self._autosave_timer.setSingleShot(True)
        self._autosave_timer.setInterval(AUTOSAVE_DELAY_MS)
        self._autosave_timer.timeout.connect(self.autosave_now)

        self._build_tools()
        self._build_menus()
        self._build_status()
        self._connect_panel()
        self.canvas.strokeFinished.connect(self._push_patch)
        self.canvas.zoomChanged.connect(self._on_zoom)
        self.canvas.cursorMoved.connect(self._on_cursor)
        self.undo_stack.indexChanged.connect(self._on_undo_index)
        self._update_enabled()

    # --- construction ----------------------------------------------------------------------------
    def _build_tools(self) -> None:
        bar = QToolBar("Tools", self)
        bar.setObjectName("tools")
        bar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, bar)
        group = QActionGroup(self)
        group.setExclusive(True)
        self.tool_actions: dict[Tool, QAction] = {}
        for tool, spec in TOOL_SPECS.items():
            act = QAction(icon(tool.value), spec.label, self)
            act.setCheckable(True)
            act.setShortcut(QKeySequence(spec.shortcut))
            act.setToolTip(spec.tooltip)
            act.triggered.connect(lambda _=False, t=tool: self.set_tool(t))
            group.addAction(act)
            bar.addAction(act)
            self.tool_actions[tool] = act
        self.tool_actions[Tool.BRUSH].setChecked(True)

        opts = QToolBar("Brush", self)
        opts.setObjectName("brush")
        opts.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, opts)
        opts.addWidget(QLabel(" Size "))
        self.size_spin = QSpinBox()
        self.size_spin.setRange(1, 1000)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Brush size ([ and ])")
        self.size_spin.setValue(self.settings.get("brush_size"))
        self.size_spin.valueChanged.connect(self.canvas.set_brush_size)
        self.canvas.brushSizeChanged.connect(self.size_spin.setValue)
        self.canvas.set_brush_size(self.size_spin.value())
        opts.addWidget(self.size_spin)
        opts.addWidget(QLabel("  Hardness "))
        self.hardness_spin = QDoubleSpinBox()
        self.hardness_spin.setRange(0.0, 1.0)
        self.hardness_spin.setSingleStep(0.1)
        self.hardness_spin.setValue(self.settings.get("brush_hardness"))
        self.hardness_spin.valueChanged.connect(lambda v: setattr(self.canvas, "hardness", float(v)))
        self.canvas.hardness = self.hardness_spin.value()
        opts.addWidget(self.hardness_spin)
        opts.addWidget(QLabel("  Edge pen "))
        self.edge_spin = QSpinBox()
        self.edge_spin.setRange(1, 3)
        self.edge_spin.setSuffix(" px")
        self.edge_spin.setValue(self.settings.get("edge_width"))
        self.edge_spin.valueChanged.connect(lambda v: setattr(self.canvas, "edge_width", int(v)))
        self.canvas.edge_width = self.edge_spin.value()
        opts.addWidget(self.edge_spin)
        self._build_selection_options(opts)
        opts.addSeparator()
        for role, text, slot in (
            ("clear", "Clear mask", self.clear_mask),
            ("invert", "Invert mask", self.invert_mask),
            ("grow", f"Grow mask {MASK_STEP_PX} px", self.grow_mask),
            ("shrink", f"Shrink mask {MASK_STEP_PX} px", self.shrink_mask),
        ):
            act = QAction(icon(role), text, self)
            act.triggered.connect(slot)
            opts.addAction(act)
        opts.addSeparator()
        undo = self.undo_stack.createUndoAction(self, "Undo")
        undo.setIcon(icon("undo"))
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo_stack.createRedoAction(self, "Redo")
        redo.setIcon(icon("redo"))
        redo.setShortcuts(shortcut_list(QKeySequence.StandardKey.Redo, "Ctrl+Shift+Z", "Ctrl+Y"))
        opts.addAction(undo)
        opts.addAction(redo)
        self.undo_action, self.redo_action = undo, redo
        QShortcut(QKeySequence("["), self, lambda: self.canvas.set_brush_size(round(self.canvas.brush_size / 1.2)))
        QShortcut(QKeySequence("]"), self, lambda: self.canvas.set_brush_size(round(self.canvas.brush_size * 1.2) + 1))
        self._spin_keys = SpinKeyFilter(self)
        self._spin_keys.watch((self.size_spin, self.hardness_spin, self.edge_spin, self.tolerance_spin))
        self._compare_key = HoldKeyFilter(self, Qt.Key.Key_Backslash, self.canvas.set_comparing)

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None, role: str | None = None) -> QAction:
        act = QAction(icon(role) if role else QIcon(), text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(lambda _=False: slot())
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self._action(f, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open, "open")
        self.recent_menu = f.addMenu("Open &Recent")
        self._action(f, "&Paste image", self.paste, QKeySequence.StandardKey.Paste)
        f.addSeparator()
        self.save_action = self._action(f, "&Save", lambda: self._then_refocus(self.save), QKeySequence.StandardKey.Save, "save")
        self._action(f, "Save &As…", lambda: self._then_refocus(self.save_as), QKeySequence.StandardKey.SaveAs)
        f.addSeparator()
        self._action(f, "Export mask…", lambda: self.export_layer("mask"))
        self._action(f, "Import mask…", lambda: self.import_layer("mask"))
        self._action(f, "Export edge map…", lambda: self.export_layer("edges"))
        self._action(f, "Import edge map…", lambda: self.import_layer("edges"))
        f.addSeparator()
        self._action(f, "&Quit", self.close, shortcut_list(QKeySequence.StandardKey.Quit, "Ctrl+Q")[0])
        e = mb.addMenu("&Edit")
        e.addAction(self.undo_action)
        e.addAction(self.redo_action)
        e.addSeparator()
        self._action(e, "Clear mask", self.clear_mask, "Ctrl+Shift+X", "clear")
        self._action(e, "Invert mask", self.invert_mask, "Ctrl+I", "invert")
        # Ctrl+] / Ctrl+[ like the brush size keys: Ctrl+- is Zoom out, and one key on two actions fires neither.
        self._action(e, f"Grow mask {MASK_STEP_PX} px", self.grow_mask, "Ctrl+]", "grow")
        self._action(e, f"Shrink mask {MASK_STEP_PX} px", self.shrink_mask, "Ctrl+[", "shrink")
        self._action(e, "Grow mask to the object's edges", lambda: self.snap_mask("grow"), None, "snap")
        self._action(e, "Shrink mask to the object's edges", lambda: self.snap_mask("shrink"))
        self._action(e, "Snap mask to the object's edges", lambda: self.snap_mask("both"))
        self._action(e, "Clear edges", self.clear_edges, "Ctrl+Shift+E")
        e.addSeparator()
        self._action(e, "Extend canvas…", self.extend_canvas_dialog)
        e.addSeparator()
        self._action(e, "Preferences…", self.preferences, QKeySequence.StandardKey.Preferences, "settings")
        v = mb.addMenu("&View")
        self._action(v, "Fit to window", self.canvas.fit_to_window, "Ctrl+0", "fit")
        self._action(v, "Actual size (100 %)", self.canvas.actual_size, "Ctrl+1", "actual")
        self.mask_action = QAction("Show mask layer", self)
        self.mask_action.setCheckable(True)
        self.mask_action.setChecked(True)
        self.mask_action.setShortcut(QKeySequence("Ctrl+H"))
        self.mask_action.toggled.connect(self.canvas.set_mask_visible)
        v.addAction(self.mask_action)
        self.edges_action = QAction("Show edge layer", self)
        self.edges_action.setCheckable(True)
        self.edges_action.setChecked(True)
        self.edges_action.setShortcut(QKeySequence("Ctrl+Shift+H"))
        self.edges_action.toggled.connect(self.canvas.set_edges_visible)
        v.addAction(self.edges_action)
        self.split_action = QAction("Split view: drag the divider between before and after", self)
        self.split_action.setCheckable(True)
        self.split_action.setShortcut(QKeySequence("Ctrl+\\"))
        self.split_action.toggled.connect(self.canvas.set_split)
        v.addAction(self.split_action)
        self._action(v, "Zoom in", lambda: self.canvas.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
        self._action(v, "Zoom out", lambda: self.canvas.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)
        m = mb.addMenu("&Models")
        self._action(m, "Import…", self.import_weights, None, "models")
        self._action(m, "Refresh list", self.list_models)
        r = mb.addMenu("&Run")
        self._action(r, "Inpaint", self.inpaint, "Ctrl+Return", "inpaint")
        self._action(r, "Compare ticked models", self.compare_models, "Ctrl+Shift+Return", "compare")
        self._action(r, "Blind A/B of two ticked models", self.blind_ab, "Ctrl+Shift+B", "compare")
        self._action(r, "Auto mask", self.auto_mask, "Ctrl+M", "auto_mask")
        self._action(r, "Restore", self.restore, "Ctrl+R", "restore")
        self._action(r, "Predict edges", self.predict_edges, "Ctrl+E", "edges")
        self._action(r, "Cancel", self.cancel, "Esc", "cancel")
        r.addSeparator()
        self._action(r, "Accept result", self.accept_result, "Ctrl+Shift+A", "accept")
        self._action(r, "Discard results", self.discard_results, "Ctrl+Shift+D", "discard")
        self._refresh_recent()

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.size_label = QLabel("no image")
        self.zoom_label = QLabel("100 %")
        self.cursor_label = QLabel("")
        self.device_label = QLabel(f"device: {self.settings.get('device')}")
        self.time_label = QLabel("last run: –")
        for w in (self.size_label, self.zoom_label, self.cursor_label, self.device_label, self.time_label):
            sb.addPermanentWidget(w)

    def _connect_panel(self) -> None:
        p = self.panel
        p.inpaintRequested.connect(self.inpaint)
        p.compareRequested.connect(self.compare_models)
        p.autoMaskRequested.connect(self.auto_mask)
        p.restoreRequested.connect(self.restore)
        p.predictEdgesRequested.connect(self.predict_edges)
        p.cancelRequested.connect(self.cancel)
        p.acceptRequested.connect(self.accept_result)
        p.discardRequested.connect(self.discard_results)
        p.candidateSelected.connect(self.select_candidate)
        p.importRequested.connect(self.import_weights)
        p.modelChanged.connect(lambda name: self.settings.set("model", name))

    # --- start-up --------------------------------------------------------------------------------
    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.shown.emit()

    def start_background(self) -> None:
        """After the window is on screen: list models (imports the engine on the worker thread)."""
        self.list_models()

    def list_models(self) -> None:
        self._submit(Job(0, "models", "list_models"))

    def _on_models(self, infos: list[ModelInfo]) -> None:
        self.models = {i.name: i for i in infos}
        self.panel.set_models(infos, self.settings.get("model") or self._measured_default(infos))

    @staticmethod
    def _measured_default(infos: list[ModelInfo]) -> str:
        """No stored choice yet: the best measured available fill method in models/table.json (JSON only)."""
        from inpaint_studio.engine.defaults import default_method

        return default_method("fill", available=[i.name for i in infos if i.available])

    # --- documents -------------------------------------------------------------------------------
    def open_path(self, path: str | os.PathLike[str]) -> bool:
        from inpaint_studio.core.errors import InpaintStudioError
        from inpaint_studio.core.imageio import load_image

        try:
            loaded = load_image(path)
        except InpaintStudioError as exc:
            self.show_error(str(exc))
            return False
        if not self.maybe_keep_changes():
            return False
        self.set_document(
            Document(loaded.rgb, path=Path(path), alpha=loaded.alpha, exif=loaded.exif, icc_profile=loaded.icc_profile)
        )
        self.settings.add_recent(str(Path(path).resolve()))
        self._refresh_recent()
        return True

    def open_bytes(self, data: bytes, name: str) -> bool:
        from inpaint_studio.core.errors import InpaintStudioError
        from inpaint_studio.core.imageio import decode_image

        try:
            loaded = decode_image(data, name)
        except InpaintStudioError as exc:
            self.show_error(str(exc))
            return False
        return self.open_array(loaded.rgb, alpha=loaded.alpha, exif=loaded.exif, icc=loaded.icc_profile)

    def open_array(self, rgb: np.ndarray, *, alpha: Any = None, exif: Any = None, icc: Any = None) -> bool:
        """An image without a file (pasted): Save asks for a name."""
        if not self.maybe_keep_changes():
            return False
        doc = Document(rgb, alpha=alpha, exif=exif, icc_profile=icc)
        doc.saved_token = -1  # pasted pixels are unsaved until written somewhere
        self.set_document(doc)
        return True

    def set_document(self, document: Document) -> None:
        if any(s not in ("models", "device", "import") for s in self._job_slots.values()):
            self.panel.set_busy(False, "cancelled: another photo opened")
        self.undo_stack.clear()
        self._show_document(document)

    def _show_document(self, document: Document) -> None:
        """Put a document on screen; the undo history stays (a new photo clears it in set_document)."""
        self._cancel_image_jobs()  # results computed for the previous image must not land on this one
        self._ab_end()
        if self.document is not None:
            self.document.unsubscribe(self._on_document_change)
        self.document = document
        self.canvas.set_document(document)
        self.mask_action.setChecked(True)  # a hidden overlay is not carried into the next photo
        self.canvas.set_mask_visible(True)
        self.edges_action.setChecked(True)
        self.canvas.set_edges_visible(True)
        self.split_action.setChecked(False)
        document.subscribe(self._on_document_change)
        h, w = document.shape
        self.size_label.setText(f"{w} × {h}")
        self._show_candidates(document.selected)  # a document brought back by undo/redo keeps its results
        self._update_title()
        self._update_enabled()
        self.schedule_autosave()

    def _on_document_change(self, layer: str, box: Box) -> None:
        self.schedule_autosave()

    def _push_patch(self, patch: Any) -> None:
        if patch is not None and patch.layer == "mask" and not self.mask_action.isChecked():
            self.mask_action.setChecked(True)  # a mask edit must be visible to the one making it
        if patch is not None and self.document is not None:
            self.undo_stack.push(PatchCommand(self.document, patch))

    def _replace(self, layer: str, new: np.ndarray, label: str) -> None:
        if self.document is None:
            return
        self._push_patch(self.document.replace_layer(layer, new, label))

    # --- mask operations -------------------------------------------------------------------------
    def clear_mask(self) -> None:
        if self.document is not None:
            self._replace("mask", np.zeros_like(self.document.mask), "Clear mask")

    def clear_edges(self) -> None:
        if self.document is not None:
            self._replace("edges", np.zeros_like(self.document.edges), "Clear edges")

    def invert_mask(self) -> None:
        if self.document is not None:
            from inpaint_studio.core.masks import invert_mask

            self._replace("mask", invert_mask(self.document.binary_mask()), "Invert mask")

    def grow_mask(self, px: int = MASK_STEP_PX) -> None:
        if self.document is not None:
            from inpaint_studio.core.masks import grow_mask

            self._replace("mask", grow_mask(self.document.binary_mask(), px), f"Grow mask {px} px")

    def shrink_mask(self, px: int = MASK_STEP_PX) -> None:
        if self.document is not None:
            from inpaint_studio.core.masks import shrink_mask

            self._replace("mask", shrink_mask(self.document.binary_mask(), px), f"Shrink mask {px} px")

    def extend_canvas(self, left: int, top: int, right: int, bottom: int) -> bool:
        """Outpainting: add pixels on any side; the new border becomes the mask for any method to fill.
        One undo step (it brings the photo back at its size)."""
        from inpaint_studio.ui.model.extend import extended
        from inpaint_studio.ui.undo import SwapDocumentCommand

        old = self.document
        if old is None:
            return False
        if old.candidates and not self.ask_drop_candidates(len(old.candidates)):
            return False
        try:
            new = extended(old, left, top, right, bottom)
        except ValueError as exc:
            self.show_error(str(exc))
            return False
        old.clear_candidates()
        self._show_document(new)
        self.undo_stack.push(SwapDocumentCommand(f"Extend canvas {left}/{top}/{right}/{bottom} px", old, new,
                                                 self._show_document))
        self.statusBar().showMessage("The new border is the mask: press Inpaint (any model) to fill it", 10000)
        return True

    def extend_canvas_dialog(self) -> None:
        from inpaint_studio.ui.extend_dialog import ExtendDialog

        if not self._needs_document():
            return
        dialog = ExtendDialog(self)
        if dialog.exec():
            self.extend_canvas(*dialog.sides())

    def set_tool(self, tool: Tool) -> None:
        self.canvas.set_tool(tool)
        self.tool_actions[tool].setChecked(True)

    # --- running models --------------------------------------------------------------------------
    def _submit(self, job: Job) -> int:
        if job.rid == 0:
            job.rid, job.cancel_event = self.requests.new(job.slot)
        self._job_slots[job.rid] = job.slot
        self._job_methods[job.rid] = job.method
        self._job_started[job.rid] = time.perf_counter()
        if job.slot not in ("models", "device"):
            blind = self._ab_label(job.method) is not None
            self.panel.set_busy(True, "Filling A and B" if blind else _running_text(job))
        self.engine.submit(job)
        return job.rid

    def _needs_document(self) -> bool:
        if self.document is None:
            self.show_error("open an image first (File ▸ Open, drag and drop, or paste)")
            return False
        return True

    def _pick(self, want: str, preferred: tuple[str, ...]) -> str | None:
        """The current model if it can do `want`, else the first available one that can."""
        def can(info: ModelInfo) -> bool:
            return bool(getattr(info.capabilities, want))

        current = self.models.get(self.panel.current_model)
        if current is not None and can(current) and current.available:
            return current.name
        rank = {name: i for i, name in enumerate(preferred)}
        ranked = sorted(self.models.values(), key=lambda i: (rank.get(i.name, len(rank)), not i.available))
        for info in ranked:
            if can(info) and info.available:
                return info.name
        names = [i.name for i in self.models.values() if can(i)]
        if names:
            self.show_error(f"{names[0]}: {self.models[names[0]].weights} — import weights with Models ▸ Import…")
        else:
            self.show_error("no installed model can do that")
        return None

    def _blind_preference(self) -> tuple[str, ...]:
        """The measured best blind model first (models/table.json), then the learned one, then classical."""
        from inpaint_studio.engine.defaults import default_method

        available = [i.name for i in self.models.values() if i.available]
        return (default_method("blind", available=available), "vcnet", "classical_restore")

    def inpaint_job(self, method: str, slot: str) -> Job | None:
        if not self._needs_document() or self.document is None:
            return None
        doc = self.document
        mask = doc.binary_mask()
        if not mask.any():
            self.show_error("the mask is empty: paint over what to remove first")
            return None
        info = self.models.get(method)
        edges = None
        if info is not None and info.capabilities.accepts_edges and self.panel.use_edges.isChecked() and doc.edges.any():
            edges = doc.edges.copy()  # exactly what the user drew (a snapshot: later edits don't leak in)
        options = self.panel.options() if method == self.panel.current_model else {}
        return Job(0, slot, "inpaint", method, self.panel.working_image(doc).copy(), mask, edges, options)

    def inpaint(self) -> int | None:
        method = self.panel.current_model or self.settings.get("model")
        info = self.models.get(method)
        if self.document is not None and self.document.edges.any() and info is not None \
                and not info.capabilities.accepts_edges:
            # The user's pick stands; say plainly that it ignores the sketch and which fill would follow it.
            from inpaint_studio.engine.defaults import default_method

            guided = default_method("edges", available=[i.name for i in self.models.values() if i.available])
            self.statusBar().showMessage(f"{method} ignores the edges you drew; pick {guided} to follow them", 15000)
        if info is not None and not info.available:
            self.show_error(f"{method}: weights missing — import them with Models ▸ Import…")
            return None
        job = self.inpaint_job(method, "inpaint")
        return self._submit(job) if job else None

    def compare_models(self) -> list[int]:
        names = self.panel.ticked_models() or [self.panel.current_model]
        rids = []
        for name in names:
            info = self.models.get(name)
            if info is not None and not info.available:
                continue
            job = self.inpaint_job(name, f"compare:{name}")
            if job is None:
                break
            rids.append(self._submit(job))
        return rids

    def restore(self) -> int | None:
        """With a mask (say Auto mask, then corrected by hand): fill exactly that mask with the blind model's
        fill. Without one: the model finds the damage itself."""
        if not self._needs_document() or self.document is None:
            return None
        method = self._pick("blind", self._blind_preference())
        if method is None:
            return None
        image = self.panel.working_image(self.document).copy()
        mask = self.document.binary_mask()
        if mask.any():
            return self._submit(Job(0, "restore", "inpaint", method, image, mask))
        return self._submit(Job(0, "restore", "restore", method, image))

    def auto_mask(self) -> int | None:
        if not self._needs_document() or self.document is None:
            return None
        method = self._pick("predicts_mask", self._blind_preference())
        if method is None:
            return None
        return self._submit(Job(0, "mask", "predict_mask", method, self.document.image.copy()))

    def predict_edges(self) -> int | None:
        if not self._needs_document() or self.document is None:
            return None
        method = self._pick("predicts_edges", ("edgeconnect",))
        if method is None:
            return None
        mask = self.document.binary_mask()
        if not mask.any():
            self.show_error("the mask is empty: paint the hole first, then predict its edges")
            return None
        return self._submit(Job(0, "edges", "predict_edges", method, self.document.image.copy(), mask))

    def _cancel_image_jobs(self) -> None:
        for rid, slot in list(self._job_slots.items()):
            if slot not in ("models", "device", "import"):
                self.requests.cancel(rid)

    def cancel(self) -> None:
        """Stop everything in flight; whatever comes back from those jobs is discarded."""
        if not any(s not in ("models", "device", "import") for s in self._job_slots.values()):
            return  # nothing running: Esc must not announce a cancellation
        self._cancel_image_jobs()
        self.panel.set_busy(False, "cancelled")

    def _on_progress(self, rid: int, fraction: float, message: str) -> None:
        if rid in self._job_slots and self.requests.is_current(self._job_slots[rid], rid):
            # In a blind A/B round the engine's step ("running telea") would give the answer away.
            self.panel.set_progress(fraction, "" if self._ab_round is not None else message)

    def _end_job(self, rid: int) -> tuple[str, bool, float]:
        slot = self._job_slots.pop(rid, "")
        self._ended_method = self._job_methods.pop(rid, "")
        wanted = self.requests.finish(slot, rid)
        seconds = time.perf_counter() - self._job_started.pop(rid, time.perf_counter())
        if not any(s not in ("models", "device") for s in self._job_slots.values()):
            self.panel.set_busy(False)
        return slot, wanted, seconds

    def _on_finished(self, rid: int, slot: str, result: Any, seconds: float) -> None:
        slot, wanted, _ = self._end_job(rid)
        if wanted and slot in ("models", "import"):  # not tied to an image: apply even with none open
            if slot == "import":
                self.panel.set_busy(False, "weights imported")
                self.statusBar().showMessage(f"imported weights to {result}", 6000)
                self.list_models()
            self.jobFinished.emit(rid, "applied")
            return
        if not wanted or self.document is None:
            self.jobFinished.emit(rid, "discarded")
            return
        doc = self.document
        self.time_label.setText(f"last run: {seconds:.2f} s")
        if slot == "mask":
            self._replace("mask", np.asarray(result, np.uint8), "Auto mask")
        elif slot == "edges":
            # The guess is added inside the hole only: the user's edges outside stay, and so do the contours
            # they sketched inside it (the network never sees those: they are the user's, not its).
            hole = doc.binary_mask() > 0
            edges = doc.edges.copy()
            edges[hole] = np.maximum(edges[hole], np.asarray(result, np.uint8)[hole])
            self._replace("edges", edges, "Predict edges")
        else:
            if result.shape != doc.image.shape:  # the document changed under the job
                self.jobFinished.emit(rid, "discarded")
                return
            method = self._ended_method or slot
            label = self._ab_label(method) or f"{method} {seconds:.1f}s"  # blind A/B: only the letter
            index = doc.add_candidate(Candidate(method, result, seconds, rid, label))
            ordered = self._ab_order()
            self._show_candidates(index if ordered is None else ordered)
            if method == "auto" and ordered is None:  # which method filled which part (the plan the fill followed)
                from inpaint_studio.engine.methods.auto_fill import describe_routes, plan_routes

                self.statusBar().showMessage(f"Filled {describe_routes(plan_routes(doc.binary_mask()))}", 15000)
        self.panel.set_busy(False, f"done in {seconds:.2f} s")
        self.jobFinished.emit(rid, "applied")

    def _on_failed(self, rid: int, slot: str, message: str) -> None:
        slot, wanted, _ = self._end_job(rid)
        if wanted:
            self.panel.set_busy(False, "failed")
            self.show_error(message)
        self.jobFinished.emit(rid, "failed")

    def _on_cancelled(self, rid: int, slot: str) -> None:
        self._end_job(rid)
        self.jobFinished.emit(rid, "cancelled")

    # --- results ---------------------------------------------------------------------------------
    def _show_candidates(self, selected: int | None) -> None:
        doc = self.document
        if doc is None:
            return
        self.panel.set_candidates([(c.label, c.image) for c in doc.candidates], selected)
        cand = doc.current_candidate
        self.canvas.show_result(cand.image if cand is not None else None)
        self._update_enabled()

    def select_candidate(self, index: int) -> None:
        if self.document is not None and 0 <= index < len(self.document.candidates):
            self.document.select(index)
            self.canvas.show_result(self.document.candidates[index].image)

    def accept_result(self) -> None:
        if self.document is None or self.document.current_candidate is None:
            return
        self._ab_score(self.document.current_candidate)
        # One undo step: the result in, the mask it filled cleared (it has done its job; undo brings both back).
        self.undo_stack.beginMacro(f"Accept {self.document.current_candidate.method}")
        self._push_patch(self.document.accept())
        self.clear_mask()
        self.undo_stack.endMacro()
        self._show_candidates(None)
        self._update_title()
        self.refocus_canvas()

    def discard_results(self) -> None:
        self._ab_end()
        if self.document is not None:
            self.document.clear_candidates()
            self._show_candidates(None)
        self.refocus_canvas()

    # --- keys ------------------------------------------------------------------------------------
    def _then_refocus(self, action: Any) -> None:
        action()
        self.refocus_canvas()

    def refocus_canvas(self) -> None:
        """Give the keys back to the canvas after an action that disabled the focused button or closed a
        dialog (Qt would otherwise hand focus to the next field in the chain: the brush Size box)."""
        self.canvas.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- misc ------------------------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        """One line for the user, never a traceback. Tests read `last_error`."""
        self.last_error = message
        self.statusBar().showMessage(message, 8000)
        if os.environ.get("INPAINT_STUDIO_NO_DIALOGS"):
            return
        QMessageBox.warning(self, APP_TITLE, message)

    def _on_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f} %")

    def _on_undo_index(self, _index: int) -> None:
        self._update_title()
        self._update_restore_mode()

    def _update_restore_mode(self) -> None:
        has_mask = self.document is not None and bool(self.document.mask.max() >= 128)
        self.panel.set_restore_mode(has_mask)

    def _on_device(self, device: str) -> None:
        self.device_label.setText(f"device: {device}")

    def _on_cursor(self, x: int, y: int) -> None:
        self.cursor_label.setText(f"x {x}, y {y}" if x >= 0 else "")

    def _update_title(self) -> None:
        doc = self.document
        name = (doc.path.name if doc.path else "pasted image") if doc else ""
        star = "*" if doc is not None and doc.modified else ""
        self.setWindowTitle(f"{name}{star} — {APP_TITLE}" if doc else APP_TITLE)

    def _update_enabled(self) -> None:
        has = self.document is not None
        for b in (self.panel.inpaint_button, self.panel.compare_button, self.panel.auto_mask_button,
                  self.panel.restore_button, self.panel.edges_button):
            b.setEnabled(has)
        self._update_restore_mode()

    def maybe_keep_changes(self) -> bool:
        """Ask before dropping results not accepted and an unsaved image; False means the user chose to stay."""
        doc = self.document
        if doc is not None and doc.candidates and not self.ask_drop_candidates(len(doc.candidates)):
            return False
        if doc is None or not doc.modified:
            return True
        answer = self.ask_unsaved()
        if answer == QMessageBox.StandardButton.Save:
            return self.save_as()
        return answer == QMessageBox.StandardButton.Discard

    def ask_drop_candidates(self, count: int) -> bool:
        results = "1 result" if count == 1 else f"{count} results"
        answer = QMessageBox.question(
            self, "Results not accepted", f"{results} not accepted yet will be dropped. Drop them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    def ask_unsaved(self) -> QMessageBox.StandardButton:
        return QMessageBox.question(
            self, "Unsaved changes", "The image has changes that are not saved. Save them?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_keep_changes():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Clean exit: stop work, persist settings, remove the autosave (nothing to recover)."""
        if self._closed:
            return
        self._closed = True
        self._autosave_timer.stop()
        self.requests.cancel_all()
        self.settings.set("brush_size", self.canvas.brush_size)
        self.settings.set("brush_hardness", self.canvas.hardness)
        self.settings.set("edge_width", self.canvas.edge_width)
        self.settings.sync()
        if self._autosave_writer is not None:
            self._autosave_writer.close()
            self._autosave_writer = None
        autosave.clear()
        self.engine.stop()
