"""The actions controller: the toolbars, menus and keyboard shortcuts, each calling the controller that does
the work. After an action that closes a dialog or disables the focused button the keys go back to the canvas."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence, QShortcut, QUndoStack
from PySide6.QtWidgets import QDoubleSpinBox, QFileDialog, QLabel, QMainWindow, QMenu, QSpinBox, QToolBar

from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.controllers.documents import MASK_STEP_PX, DocumentController
from inpaint_studio.ui.controllers.jobs import JobController
from inpaint_studio.ui.controllers.selection import SelectionController
from inpaint_studio.ui.icons import icon
from inpaint_studio.ui.keys import HoldKeyFilter, SpinKeyFilter, shortcut_list
from inpaint_studio.ui.settings import Settings
from inpaint_studio.ui.tools import TOOL_SPECS, Tool

CHECKPOINT_FILTER = "Checkpoints (*.pth *.pt *.ckpt *.safetensors);;All files (*)"


class ActionsController(QObject):
    def __init__(self, window: QMainWindow, canvas: CanvasView, settings: Settings, undo_stack: QUndoStack,
                 documents: DocumentController, jobs: JobController, selection: SelectionController,
                 preferences: Callable[[], None]) -> None:
        super().__init__(window)
        self.window = window  # the toolbars, menus and shortcuts live on it
        self.canvas = canvas
        self.settings = settings
        self.undo_stack = undo_stack
        self.documents = documents
        self.jobs = jobs
        self.selection = selection
        self.preferences = preferences
        self.tool_actions: dict[Tool, QAction] = {}
        self.size_spin = QSpinBox()
        self.hardness_spin = QDoubleSpinBox()
        self.edge_spin = QSpinBox()
        self._build_tools()
        self._build_brush_bar()
        self.recent_menu = QMenu("Open &Recent", window)
        self.mask_action = self._toggle("Show mask layer", "Ctrl+H", canvas.set_mask_visible, checked=True)
        self.edges_action = self._toggle("Show edge layer", "Ctrl+Shift+H", canvas.set_edges_visible, checked=True)
        self.split_action = self._toggle("Split view: drag the divider between before and after", "Ctrl+\\",
                                         canvas.set_split, checked=False)
        self._build_menus()
        documents.recentChanged.connect(self.refresh_recent)
        documents.documentShown.connect(self.reset_view)
        documents.layerEdited.connect(self._on_layer_edited)

    # --- toolbars --------------------------------------------------------------------------------
    def _build_tools(self) -> None:
        bar = QToolBar("Tools", self.window)
        bar.setObjectName("tools")
        bar.setMovable(False)
        self.window.addToolBar(Qt.ToolBarArea.LeftToolBarArea, bar)
        group = QActionGroup(self.window)
        group.setExclusive(True)
        for tool, spec in TOOL_SPECS.items():
            act = QAction(icon(tool.value), spec.label, self.window)
            act.setCheckable(True)
            act.setShortcut(QKeySequence(spec.shortcut))
            act.setToolTip(spec.tooltip)
            act.triggered.connect(lambda _=False, t=tool: self.set_tool(t))
            group.addAction(act)
            bar.addAction(act)
            self.tool_actions[tool] = act
        self.tool_actions[Tool.BRUSH].setChecked(True)

    def _build_brush_bar(self) -> None:
        canvas, settings = self.canvas, self.settings
        opts = QToolBar("Brush", self.window)
        opts.setObjectName("brush")
        opts.setMovable(False)
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, opts)
        opts.addWidget(QLabel(" Size "))
        self.size_spin.setRange(1, 1000)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Brush size ([ and ])")
        self.size_spin.setValue(settings.get("brush_size"))
        self.size_spin.valueChanged.connect(canvas.set_brush_size)
        canvas.brushSizeChanged.connect(self.size_spin.setValue)
        canvas.set_brush_size(self.size_spin.value())
        opts.addWidget(self.size_spin)
        opts.addWidget(QLabel("  Hardness "))
        self.hardness_spin.setRange(0.0, 1.0)
        self.hardness_spin.setSingleStep(0.1)
        self.hardness_spin.setValue(settings.get("brush_hardness"))
        self.hardness_spin.valueChanged.connect(lambda v: setattr(canvas, "hardness", float(v)))
        canvas.hardness = self.hardness_spin.value()
        opts.addWidget(self.hardness_spin)
        opts.addWidget(QLabel("  Edge pen "))
        self.edge_spin.setRange(1, 3)
        self.edge_spin.setSuffix(" px")
        self.edge_spin.setValue(settings.get("edge_width"))
        self.edge_spin.valueChanged.connect(lambda v: setattr(canvas, "edge_width", int(v)))
        canvas.edge_width = self.edge_spin.value()
        opts.addWidget(self.edge_spin)
        self.selection.add_options(opts)
        opts.addSeparator()
        docs = self.documents
        for role, text, slot in (
            ("clear", "Clear mask", docs.clear_mask),
            ("invert", "Invert mask", docs.invert_mask),
            ("grow", f"Grow mask {MASK_STEP_PX} px", docs.grow_mask),
            ("shrink", f"Shrink mask {MASK_STEP_PX} px", docs.shrink_mask),
        ):
            act = QAction(icon(role), text, self.window)
            act.triggered.connect(lambda _=False, s=slot: s())
            opts.addAction(act)
        opts.addSeparator()
        undo = self.undo_stack.createUndoAction(self.window, "Undo")
        undo.setIcon(icon("undo"))
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo_stack.createRedoAction(self.window, "Redo")
        redo.setIcon(icon("redo"))
        redo.setShortcuts(shortcut_list(QKeySequence.StandardKey.Redo, "Ctrl+Shift+Z", "Ctrl+Y"))
        opts.addAction(undo)
        opts.addAction(redo)
        self.undo_action, self.redo_action = undo, redo
        QShortcut(QKeySequence("["), self.window, lambda: canvas.set_brush_size(round(canvas.brush_size / 1.2)))
        QShortcut(QKeySequence("]"), self.window, lambda: canvas.set_brush_size(round(canvas.brush_size * 1.2) + 1))
        self._spin_keys = SpinKeyFilter(self.window)
        self._spin_keys.watch((self.size_spin, self.hardness_spin, self.edge_spin, self.selection.tolerance_spin))
        self._compare_key = HoldKeyFilter(self.window, Qt.Key.Key_Backslash, canvas.set_comparing)

    # --- menus -----------------------------------------------------------------------------------
    def _action(self, menu: QMenu, text: str, slot: Callable[[], Any], shortcut: Any = None,
                role: str | None = None) -> QAction:
        act = QAction(icon(role) if role else QIcon(), text, self.window)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(lambda _=False: slot())
        menu.addAction(act)
        return act

    def _toggle(self, text: str, shortcut: str, slot: Callable[[bool], None], *, checked: bool) -> QAction:
        act = QAction(text, self.window)
        act.setCheckable(True)
        act.setChecked(checked)
        act.setShortcut(QKeySequence(shortcut))
        act.toggled.connect(slot)
        return act

    def _build_menus(self) -> None:
        docs, jobs, canvas = self.documents, self.jobs, self.canvas
        mb = self.window.menuBar()
        f = mb.addMenu("&File")
        self._action(f, "&Open…", docs.open_dialog, QKeySequence.StandardKey.Open, "open")
        f.addMenu(self.recent_menu)
        self._action(f, "&Paste image", docs.paste, QKeySequence.StandardKey.Paste)
        f.addSeparator()
        self.save_action = self._action(f, "&Save", lambda: self._then_refocus(docs.save),
                                        QKeySequence.StandardKey.Save, "save")
        self._action(f, "Save &As…", lambda: self._then_refocus(docs.save_as), QKeySequence.StandardKey.SaveAs)
        f.addSeparator()
        self._action(f, "Export mask…", lambda: docs.export_layer("mask"))
        self._action(f, "Import mask…", lambda: docs.import_layer("mask"))
        self._action(f, "Export edge map…", lambda: docs.export_layer("edges"))
        self._action(f, "Import edge map…", lambda: docs.import_layer("edges"))
        f.addSeparator()
        self._action(f, "&Quit", self.window.close, shortcut_list(QKeySequence.StandardKey.Quit, "Ctrl+Q")[0])
        e = mb.addMenu("&Edit")
        e.addAction(self.undo_action)
        e.addAction(self.redo_action)
        e.addSeparator()
        self._action(e, "Clear mask", docs.clear_mask, "Ctrl+Shift+X", "clear")
        self._action(e, "Invert mask", docs.invert_mask, "Ctrl+I", "invert")
        # Ctrl+] / Ctrl+[ like the brush size keys: Ctrl+- is Zoom out, and one key on two actions fires neither.
        self._action(e, f"Grow mask {MASK_STEP_PX} px", docs.grow_mask, "Ctrl+]", "grow")
        self._action(e, f"Shrink mask {MASK_STEP_PX} px", docs.shrink_mask, "Ctrl+[", "shrink")
        self._action(e, "Grow mask to the object's edges", lambda: self.selection.snap_mask("grow"), None, "snap")
        self._action(e, "Shrink mask to the object's edges", lambda: self.selection.snap_mask("shrink"))
        self._action(e, "Snap mask to the object's edges", lambda: self.selection.snap_mask("both"))
        self._action(e, "Clear edges", docs.clear_edges, "Ctrl+Shift+E")
        e.addSeparator()
        self._action(e, "Extend canvas…", docs.extend_canvas_dialog)
        e.addSeparator()
        self._action(e, "Preferences…", self.preferences, QKeySequence.StandardKey.Preferences, "settings")
        v = mb.addMenu("&View")
        self._action(v, "Fit to window", canvas.fit_to_window, "Ctrl+0", "fit")
        self._action(v, "Actual size (100 %)", canvas.actual_size, "Ctrl+1", "actual")
        for act in (self.mask_action, self.edges_action, self.split_action):
            v.addAction(act)
        self._action(v, "Zoom in", lambda: canvas.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
        self._action(v, "Zoom out", lambda: canvas.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)
        m = mb.addMenu("&Models")
        self._action(m, "Import…", self.import_weights, None, "models")
        self._action(m, "Refresh list", jobs.list_models)
        r = mb.addMenu("&Run")
        self._action(r, "Inpaint", jobs.inpaint, "Ctrl+Return", "inpaint")
        self._action(r, "Compare ticked models", jobs.compare_models, "Ctrl+Shift+Return", "compare")
        self._action(r, "Blind A/B of two ticked models", jobs.blind_ab, "Ctrl+Shift+B", "compare")
        self._action(r, "Auto mask", jobs.auto_mask, "Ctrl+M", "auto_mask")
        self._action(r, "Restore", jobs.restore, "Ctrl+R", "restore")
        self._action(r, "Predict edges", jobs.predict_edges, "Ctrl+E", "edges")
        self._action(r, "Cancel", jobs.cancel, "Esc", "cancel")
        r.addSeparator()
        self._action(r, "Accept result", self.accept_result, "Ctrl+Shift+A", "accept")
        self._action(r, "Discard results", self.discard_results, "Ctrl+Shift+D", "discard")
        self.refresh_recent()

    def refresh_recent(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for path in files:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.documents.open_path(p))
        self.recent_menu.setEnabled(bool(files))

    # --- what the actions do beyond their controller's call --------------------------------------
    def set_tool(self, tool: Tool) -> None:
        self.canvas.set_tool(tool)
        self.tool_actions[tool].setChecked(True)

    def reset_view(self, *_shown: Any) -> None:
        """A hidden overlay or the split view is not carried into the next photo."""
        self.mask_action.setChecked(True)
        self.canvas.set_mask_visible(True)
        self.edges_action.setChecked(True)
        self.canvas.set_edges_visible(True)
        self.split_action.setChecked(False)

    def _on_layer_edited(self, layer: str) -> None:
        if layer == "mask" and not self.mask_action.isChecked():
            self.mask_action.setChecked(True)  # a mask edit must be visible to the one making it

    def import_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import model weights", str(Path.home()), CHECKPOINT_FILTER)
        if path:
            self.jobs.import_weights(path)

    def accept_result(self) -> None:
        self._then_refocus(self.jobs.accept_result)

    def discard_results(self) -> None:
        self._then_refocus(self.jobs.discard_results)

    def _then_refocus(self, action: Callable[[], Any]) -> None:
        action()
        self.refocus_canvas()

    def refocus_canvas(self) -> None:
        """Give the keys back to the canvas after an action that disabled the focused button or closed a
        dialog (Qt would otherwise hand focus to the next field in the chain: the brush Size box)."""
        self.canvas.setFocus(Qt.FocusReason.OtherFocusReason)
