"""Engine work off the GUI thread: a QObject living in a QThread, reporting only by signals.

Each job carries a request id and a cancel event. The worker never raises across the thread: a user error
becomes `failed(id, message)`, a cancellation `cancelled(id)`, anything unexpected a one-line "internal
error" (the traceback goes to stderr). The engine (and torch, for learned models) is imported here, on the
worker thread, the first time a job needs it — never before the window is shown."""

from __future__ import annotations

import contextlib
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from inpaint_studio.engine.jobs import Job, JobKind

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


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
                self.failed.emit(job.rid, job.slot, f"internal error in {job.method or job.kind.value}: {exc}")
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

    def _execute(self, job: Job, cancel: Cancel) -> Any:
        def progress(fraction: float, message: str) -> None:
            self.progress.emit(job.rid, float(fraction), message)

        return self._RUNNERS[job.kind](self, job, progress, cancel)

    # One runner per job kind (tests/test_jobs.py checks that every kind has one).
    def _list_models(self, job: Job, progress: Progress, cancel: Cancel) -> Any:
        from inpaint_studio.engine.catalogue import describe_models

        infos = describe_models()
        self.modelsListed.emit(infos)
        return infos

    def _import_checkpoint(self, job: Job, progress: Progress, cancel: Cancel) -> Any:
        from inpaint_studio.engine.importer import import_checkpoint

        return import_checkpoint(job.options["path"])

    def _measure_checkpoint(self, job: Job, progress: Progress, cancel: Cancel) -> Any:
        """Score a checkpoint against Telea on the measurement photos (engine.checkpoint_measure) and record it in
        its JSON. Progress says on what, in words; cancel is honoured between photos."""
        from pathlib import Path

        from inpaint_studio.core.errors import Cancelled
        from inpaint_studio.engine.checkpoint_measure import measure_checkpoint, measurement_photos

        label, photos = measurement_photos()
        words = f"on {len(photos)} {label}"

        def step(fraction: float, _message: str) -> None:
            if cancel():  # evaluate takes no cancel of its own: stop at its next step
                raise Cancelled("measuring cancelled")
            progress(fraction, words)

        progress(0.0, words)
        return measure_checkpoint(Path(job.options["checkpoint"]).stem, device=self.device, progress=step)

    def _inpaint(self, job: Job, progress: Progress, cancel: Cancel) -> Any:
        manager = self._manager_for(job.method, job.options)
        return manager.run(job.image, job.mask, job.edges, progress, cancel, hd_config=self._hd_config(),
                           stains=job.stains)

    def _restore(self, job: Job, progress: Progress, cancel: Cancel) -> Any:
        return self._manager_for(job.method, job.options).run(job.image, None, None, progress, cancel)

    def _predict_mask(self, job: Job, progress: Progress, cancel: Cancel) -> Any:
        # the mask and its translucent part (shown as a soft mask)
        return self._manager_for(job.method, job.options).predict_mask(job.image, progress, cancel)

    def _predict_edges(self, job: Job, progress: Progress, cancel: Cancel) -> Any:
        return self._manager_for(job.method, job.options).predict_edges(job.image, job.mask)

    _RUNNERS: dict[JobKind, Callable[[EngineWorker, Job, Progress, Cancel], Any]] = {
        JobKind.LIST_MODELS: _list_models,
        JobKind.IMPORT_CHECKPOINT: _import_checkpoint,
        JobKind.MEASURE_CHECKPOINT: _measure_checkpoint,
        JobKind.INPAINT: _inpaint,
        JobKind.RESTORE: _restore,
        JobKind.PREDICT_MASK: _predict_mask,
        JobKind.PREDICT_EDGES: _predict_edges,
    }


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
