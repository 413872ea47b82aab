"""Engine work off the GUI thread: a QObject living in a QThread, reporting only by signals.

Each job carries a request id and a cancel event. The worker never raises across the thread: a user error
becomes `failed(id, message)`, a cancellation `cancelled(id)`, anything unexpected a one-line "internal
error" (the traceback goes to stderr). The engine (and torch, for learned models) is imported here, on the
worker thread, the first time a job needs it — never before the window is shown."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot


@dataclass
class Job:
    rid: int
    slot: str  # "inpaint", "compare:<method>", "mask", "edges", "restore", "models"
    kind: str  # "inpaint" | "restore" | "predict_mask" | "predict_edges" | "list_models"
    method: str = ""
    image: np.ndarray | None = None
    mask: np.ndarray | None = None
    edges: np.ndarray | None = None
    options: dict[str, Any] = field(default_factory=dict)
    cancel_event: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class ModelInfo:
    """What the model picker shows about one registered method."""

    name: str
    description: str
    capabilities: Any  # engine.base.Capabilities
    status: str  # "builtin" | "shipped" | "imported" | "missing"
    weights: str
    options: list[Any]  # engine.options.OptionSpec: what the options form offers
    card: str = ""  # the model card (NAME.md beside the checkpoint) when there is one
    resolved: dict[str, Any] = field(default_factory=dict)  # what each "auto" option means with these weights

    @property
    def available(self) -> bool:
        return self.status != "missing"


def describe_models() -> list[ModelInfo]:
    """Every registered method with its weights status; creating a method must not load weights."""
    from inpaint_studio.core.paths import user_models_dir
    from inpaint_studio.engine.base import create_method, method_specs
    from inpaint_studio.engine.options import option_specs

    infos = []
    for spec in method_specs():
        card = ""
        specs = option_specs(spec.factory, spec.defaults)
        resolved: dict[str, Any] = {}
        try:
            method = create_method(spec.name)
            available = method.is_available()
            weights = method.weights_info()
            found = getattr(method, "checkpoint_path", lambda: None)() if available else None
            if found is not None and found.with_suffix(".md").is_file():
                card = str(found.with_suffix(".md"))
            resolved = method.resolved_options([o.name for o in specs if o.auto]) if available else {}
        except Exception as exc:  # noqa: BLE001 - one broken model must not hide the others
            available, weights = False, f"cannot be created: {exc}"
        if not spec.capabilities.learned:
            status = "builtin" if available else "missing"
        elif not available:
            status = "missing"
        else:
            status = "imported" if str(user_models_dir()) in weights else "shipped"
        infos.append(
            ModelInfo(spec.name, spec.description, spec.capabilities, status, weights,
                      specs, card, resolved)
        )
    return infos


class EngineWorker(QObject):
    progress = Signal(int, float, str)  # rid, fraction, message
    finished = Signal(int, str, object, float)  # rid, slot, result, seconds
    failed = Signal(int, str, str)  # rid, slot, one-line message
    cancelled = Signal(int, str)  # rid, slot
    modelsListed = Signal(object)  # list[ModelInfo]
    deviceResolved = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._manager: Any = None
        self._active: tuple[str, tuple] | None = None
        self.device = "auto"
        self.hd_strategy = "auto"
        self.hd_resize_limit = 1024

    # Settings arrive as queued calls too, so they apply between jobs, never in the middle of one.
    @Slot(str)
    def set_device(self, device: str) -> None:
        if device != self.device:
            self.device = device
            if self._manager is not None:
                self._manager.unload()
            self._manager, self._active = None, None

    @Slot(str, int)
    def set_hd(self, strategy: str, resize_limit: int) -> None:
        self.hd_strategy, self.hd_resize_limit = strategy, resize_limit

    def _hd_config(self) -> Any:
        from inpaint_studio.core.hd import HDConfig, HDStrategy

        return HDConfig(strategy=HDStrategy(self.hd_strategy), resize_limit=self.hd_resize_limit)

    def _manager_for(self, method: str, options: dict[str, Any]) -> Any:
        from inpaint_studio.engine.manager import ModelManager

        if self._manager is None:
            self._manager = ModelManager(device=self.device)
        key = (method, tuple(sorted(options.items())))
        if self._active != key or self._manager.active_name != method:
            self._manager.activate(method, **options)
            self._active = key
        return self._manager

    @Slot(object)
    def run_job(self, job: Job) -> None:
        cancel = job.cancel_event.is_set
        if cancel():  # cancelled while queued
            self.cancelled.emit(job.rid, job.slot)
            return
        start = time.perf_counter()
        try:
            result = self._execute(job, cancel)
        except Exception as exc:  # noqa: BLE001 - nothing may cross the thread boundary
            from inpaint_studio.core.errors import Cancelled, InpaintStudioError

            if isinstance(exc, Cancelled) or cancel():
                self.cancelled.emit(job.rid, job.slot)
            elif isinstance(exc, InpaintStudioError):
                self.failed.emit(job.rid, job.slot, str(exc))
            else:
                traceback.print_exc(file=sys.stderr)
                self.failed.emit(job.rid, job.slot, f"internal error in {job.method or job.kind}: {exc}")
            return
        if cancel():
            self.cancelled.emit(job.rid, job.slot)
            return
        self.finished.emit(job.rid, job.slot, result, time.perf_counter() - start)
        self._report_device()

    def _report_device(self) -> None:
        # Resolving "auto" needs torch; only do it once a learned model has imported torch anyway.
        if "torch" in sys.modules:
            from inpaint_studio.engine.device import resolve_device

            try:
                self.deviceResolved.emit(resolve_device(self.device))
            except Exception as exc:  # noqa: BLE001 - a status-bar label must not fail a job
                self.deviceResolved.emit(f"{self.device} ({exc})")

    def _execute(self, job: Job, cancel: Any) -> Any:
        def progress(fraction: float, message: str) -> None:
            self.progress.emit(job.rid, float(fraction), message)

        if job.kind == "list_models":
            infos = describe_models()
            self.modelsListed.emit(infos)
            return infos
        if job.kind == "import_checkpoint":
            from inpaint_studio.engine.importer import import_checkpoint

            return import_checkpoint(job.options["path"])
        manager = self._manager_for(job.method, job.options)
        if job.kind == "inpaint":
            return manager.run(job.image, job.mask, job.edges, progress, cancel, hd_config=self._hd_config())
        if job.kind == "restore":
            return manager.run(job.image, None, None, progress, cancel)
        if job.kind == "predict_mask":
            return manager.predict_mask(job.image, progress, cancel)  # the mask and its translucent part
        if job.kind == "predict_edges":
            return manager.predict_edges(job.image, job.mask)
        raise ValueError(f"unknown job kind {job.kind!r}")


class EngineThread(QObject):
    """Owns the worker's QThread; `submit()` is safe from the GUI thread (a queued signal)."""

    _submit = Signal(object)
    _device = Signal(str)
    _hd = Signal(str, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("engine")
        self.worker = EngineWorker()
        self.worker.moveToThread(self.thread)
        self._submit.connect(self.worker.run_job)
        self._device.connect(self.worker.set_device)
        self._hd.connect(self.worker.set_hd)
        self.thread.start()

    def submit(self, job: Job) -> None:
        self._submit.emit(job)

    def set_device(self, device: str) -> None:
        self._device.emit(device)

    def set_hd(self, strategy: str, resize_limit: int) -> None:
        self._hd.emit(strategy, resize_limit)

    def stop(self, timeout_ms: int = 5000) -> None:
        """Stop the thread; a job that ignores cancel is left to finish on an orphaned thread (kept alive
        here) rather than blocking the exit or destroying a running QThread, which would abort."""
        for name in ("progress", "finished", "failed", "cancelled", "modelsListed", "deviceResolved"):
            with contextlib.suppress(RuntimeError, TypeError), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # "nothing to disconnect" is fine
                getattr(self.worker, name).disconnect()
        self.thread.quit()
        if not self.thread.wait(timeout_ms):
            self.thread.setParent(None)
            self.worker.setParent(None)
            _ORPHANS.append((self.thread, self.worker))
            self.thread.finished.connect(lambda: _ORPHANS.clear() if not any(
                t.isRunning() for t, _ in _ORPHANS) else None)


_ORPHANS: list[tuple[QThread, EngineWorker]] = []
