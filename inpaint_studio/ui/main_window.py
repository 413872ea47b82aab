"""The main window: builds the canvas, the model panel and the status bar, and composes the controllers that do
the work — documents (open, save, layer edits, undo), autosave, jobs (engine work and its results), selection
and actions (`menus`: menus, toolbars, shortcuts). Each controller gets its collaborators in its constructor.

Only light modules are imported here; the engine (and torch) load on the worker thread after the window
is shown. Every result carries its request id and is applied only if it answers the newest request."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QUndoStack
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.controllers.actions import ActionsController
from inpaint_studio.ui.controllers.autosave import AutosaveController
from inpaint_studio.ui.controllers.blind_ab import BlindAB
from inpaint_studio.ui.controllers.documents import DocumentController
from inpaint_studio.ui.controllers.feedback import APP_TITLE, Feedback
from inpaint_studio.ui.controllers.jobs import JobController
from inpaint_studio.ui.controllers.selection import SelectionController
from inpaint_studio.ui.model.document import Document
from inpaint_studio.ui.model_panel import ModelPanel
from inpaint_studio.ui.settings import Settings
from inpaint_studio.ui.worker import EngineThread


class MainWindow(QMainWindow):
    shown = Signal()

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self._shown_once = False
        self._closed = False
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        screen = QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        self.resize(min(1440, avail.width()) if avail else 1280, min(900, avail.height()) if avail else 800)

        self.canvas = CanvasView(self)
        self.setCentralWidget(self.canvas)
        self.panel = ModelPanel(self)
        dock = QDockWidget("Models and results", self)
        dock.setObjectName("rightPanel")
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        dock.setWidget(self.panel)  # the panel scrolls its upper part itself; its buttons stay in view
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self._build_status()

        self.undo_stack = QUndoStack(self)
        self.feedback = Feedback(self, self.statusBar())
        self.engine = EngineThread(self)
        self.documents = DocumentController(self, self.canvas, self.settings, self.undo_stack, self.feedback)
        self.autosave = AutosaveController(self, self.documents, self.feedback)
        self.jobs = JobController(self.engine, self.panel, self.canvas, self.documents,
                                  BlindAB(self.settings, self.feedback), self.settings, self.feedback, self.time_label)
        self.selection = SelectionController(self.documents, self.canvas, self.feedback)
        self.menus = ActionsController(self, self.canvas, self.settings, self.undo_stack, self.documents,
                                         self.jobs, self.selection, self.preferences)
        self.apply_preferences()
        self._connect()
        self.jobs.update_enabled()

    # --- construction ----------------------------------------------------------------------------
    def _build_status(self) -> None:
        sb = self.statusBar()
        self.size_label = QLabel("no image")
        self.zoom_label = QLabel("100 %")
        self.cursor_label = QLabel("")
        self.device_label = QLabel(f"device: {self.settings.get('device')}")
        self.time_label = QLabel("last run: –")
        for w in (self.size_label, self.zoom_label, self.cursor_label, self.device_label, self.time_label):
            sb.addPermanentWidget(w)

    def _connect(self) -> None:
        p, jobs, actions, docs = self.panel, self.jobs, self.menus, self.documents
        p.inpaintRequested.connect(jobs.inpaint)
        p.compareRequested.connect(jobs.compare_models)
        p.autoMaskRequested.connect(jobs.auto_mask)
        p.restoreRequested.connect(jobs.restore)
        p.predictEdgesRequested.connect(jobs.predict_edges)
        p.cancelRequested.connect(jobs.cancel)
        p.acceptRequested.connect(actions.accept_result)
        p.discardRequested.connect(actions.discard_results)
        p.candidateSelected.connect(jobs.select_candidate)
        p.importRequested.connect(actions.import_weights)
        p.measureRequested.connect(jobs.measure)
        p.modelChanged.connect(self._remember_pick)
        docs.documentShown.connect(jobs.photo_replaced)
        docs.documentShown.connect(self._on_document_shown)
        docs.titleChanged.connect(self.setWindowTitle)
        # Bound methods, not lambdas: Qt drops a connection to a method when its object goes, a lambda's never.
        self.undo_stack.indexChanged.connect(self._on_undo_index)
        self.canvas.zoomChanged.connect(self._on_zoom)
        self.canvas.cursorMoved.connect(self._on_cursor)
        self.engine.worker.deviceResolved.connect(self._on_device)

    def _on_document_shown(self, document: Document, new_photo: bool) -> None:
        h, w = document.shape
        self.size_label.setText(f"{w} × {h}")

    def _on_undo_index(self, _index: int) -> None:
        self.panel.set_restore_mode(self.documents.has_mask())

    def _remember_pick(self, name: str) -> None:
        """The picked model, and its checkpoint row when one is picked: both come back at the next start."""
        entry = self.panel.current_checkpoint
        self.settings.set("model", name)
        self.settings.set("model_checkpoint", entry.name if entry is not None else "")

    def _on_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f} %")

    def _on_cursor(self, x: int, y: int) -> None:
        self.cursor_label.setText(f"x {x}, y {y}" if x >= 0 else "")

    def _on_device(self, device: str) -> None:
        self.device_label.setText(f"device: {device}")

    # --- what the window itself answers for ------------------------------------------------------
    @property
    def document(self) -> Document | None:
        return self.documents.document

    @property
    def last_error(self) -> str:
        return self.feedback.last_error

    @last_error.setter
    def last_error(self, text: str) -> None:
        self.feedback.last_error = text

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.shown.emit()

    def start_background(self) -> None:
        """After the window is on screen: list models (imports the engine on the worker thread)."""
        self.jobs.list_models()

    def preferences(self) -> None:
        from inpaint_studio.ui.preferences import PreferencesDialog

        dlg = PreferencesDialog(self.settings, self)
        if dlg.exec():
            dlg.store()
            self.apply_preferences()

    def apply_preferences(self) -> None:
        """Send stored preferences to the worker (they apply between jobs, from the next model load)."""
        self.engine.set_device(self.settings.get("device"))
        self.engine.set_hd(self.settings.get("hd_strategy"), self.settings.get("hd_resize_limit"))
        self.device_label.setText(f"device: {self.settings.get('device')}")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.documents.open_mime(event.mimeData()):
            event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.documents.maybe_keep_changes():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Clean exit: stop work, persist settings, remove the autosave (nothing to recover)."""
        if self._closed:
            return
        self._closed = True
        self.jobs.requests.cancel_all()
        self.settings.set("brush_size", self.canvas.brush_size)
        self.settings.set("brush_hardness", self.canvas.hardness)
        self.settings.set("edge_width", self.canvas.edge_width)
        self.settings.sync()
        self.autosave.close()
        self.engine.stop()
