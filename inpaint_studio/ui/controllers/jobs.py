"""The jobs controller: engine work asked for by the user — submitting, cancelling, progress, and the results.

Every job carries its request id; a result is applied only if it answers the newest request of its slot and
the photo it was computed for is still open. Results are applied by job kind through one table."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

from inpaint_studio.engine.jobs import Job, JobKind
from inpaint_studio.ui.canvas import CanvasView, soft_mask_words
from inpaint_studio.ui.controllers.blind_ab import BlindAB
from inpaint_studio.ui.controllers.documents import DocumentController
from inpaint_studio.ui.controllers.feedback import Feedback
from inpaint_studio.ui.model.document import Candidate, Document
from inpaint_studio.ui.model.picks import Pick
from inpaint_studio.ui.model.requests import RequestTracker
from inpaint_studio.ui.model_panel import ModelPanel
from inpaint_studio.ui.settings import Settings
from inpaint_studio.ui.worker import EngineThread

if TYPE_CHECKING:  # the catalogue is built on the worker thread
    from inpaint_studio.engine.catalogue import ModelInfo

# What the progress bar says while a job of each kind runs.
VERBS: dict[JobKind, str] = {
    JobKind.INPAINT: "Inpainting", JobKind.RESTORE: "Restoring", JobKind.PREDICT_MASK: "Finding damage",
    JobKind.PREDICT_EDGES: "Predicting edges", JobKind.IMPORT_CHECKPOINT: "Importing weights",
    JobKind.LIST_MODELS: "Listing models", JobKind.MEASURE_CHECKPOINT: "Measuring",
}


def model_name(job: Job) -> str:
    """The model a job runs, as the user picked it ("deepfill_v2", "deepfill_v2 · places2")."""
    return Pick.from_options(job.method, job.options).name if job.method else ""


def running_text(job: Job) -> str:
    verb = VERBS[job.kind]
    if job.slot == "restore" and job.kind is JobKind.INPAINT:
        verb = "Removing the stains' tint and filling your mask" if job.stains is not None else "Filling your mask"
    if job.kind is JobKind.MEASURE_CHECKPOINT:
        return f"{verb} {model_name(job)}"
    return f"{verb} with {model_name(job)}" if job.method else verb


@dataclass
class _Running:
    job: Job
    started: float


class JobController(QObject):
    jobFinished = Signal(int, str)  # rid, outcome ("applied", "discarded", "failed", "cancelled")

    def __init__(self, engine: EngineThread, panel: ModelPanel, canvas: CanvasView, documents: DocumentController,
                 blind: BlindAB, settings: Settings, feedback: Feedback, time_label: QLabel) -> None:
        super().__init__(panel)
        self.engine = engine
        self.panel = panel
        self.canvas = canvas
        self.documents = documents
        self.blind = blind
        self.settings = settings
        self.feedback = feedback
        self.time_label = time_label
        self.requests = RequestTracker()
        self.models: dict[str, ModelInfo] = {}  # the catalogue, by method name
        self.running: dict[int, _Running] = {}
        # How a wanted result is applied, by kind; False: it no longer fits (another photo, another size).
        self._apply: dict[JobKind, Callable[[Job, Any, float], bool]] = {
            JobKind.LIST_MODELS: lambda job, result, seconds: True,  # shown through the worker's modelsListed
            JobKind.IMPORT_CHECKPOINT: self._imported,
            JobKind.MEASURE_CHECKPOINT: self._measured_checkpoint,
            JobKind.INPAINT: self._on_photo(self._add_candidate),
            JobKind.RESTORE: self._on_photo(self._add_candidate),
            JobKind.PREDICT_MASK: self._on_photo(self._set_mask),
            JobKind.PREDICT_EDGES: self._on_photo(self._add_edges),
        }
        w = engine.worker
        w.progress.connect(self._on_progress)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.cancelled.connect(self._on_cancelled)
        w.modelsListed.connect(self.show_models)

    # --- bookkeeping -----------------------------------------------------------------------------
    def busy(self) -> bool:
        """Whether a job on the photo is in flight (listing models or importing weights does not count)."""
        return any(r.job.kind.on_image for r in self.running.values())

    def submit(self, job: Job) -> int:
        if job.rid == 0:
            job.rid, job.cancel_event = self.requests.new(job.slot)
        self.running[job.rid] = _Running(job, time.perf_counter())
        if job.kind is not JobKind.LIST_MODELS:
            blind = self.blind.label(model_name(job)) is not None
            self.panel.set_busy(True, "Filling A and B" if blind else running_text(job))
        self.engine.submit(job)
        return job.rid

    def cancel_image_jobs(self) -> None:
        for rid, running in list(self.running.items()):
            if running.job.kind.on_image:
                self.requests.cancel(rid)

    def cancel(self) -> None:
        """Stop everything in flight (a measurement too); whatever comes back from those jobs is discarded."""
        stoppable = [rid for rid, running in self.running.items() if running.job.kind.cancellable]
        if not stoppable:
            return  # nothing running: Esc must not announce a cancellation
        for rid in stoppable:
            self.requests.cancel(rid)
        self.panel.set_busy(False, "cancelled")

    def photo_replaced(self, document: Document, new_photo: bool) -> None:
        """Results computed for the previous image must not land on this one."""
        if new_photo and self.busy():
            self.panel.set_busy(False, "cancelled: another photo opened")
        self.cancel_image_jobs()
        self.blind.end()
        self.show_candidates(document.selected)  # a document brought back by undo/redo keeps its results
        self.update_enabled()

    def _end(self, rid: int) -> tuple[Job | None, bool]:
        running = self.running.pop(rid, None)
        if running is None:
            return None, False
        wanted = self.requests.finish(running.job.slot, rid)
        if not any(r.job.kind is not JobKind.LIST_MODELS for r in self.running.values()):
            self.panel.set_busy(False)
        if not any(r.job.kind is JobKind.MEASURE_CHECKPOINT for r in self.running.values()):
            self.panel.set_measuring(None)
        return running.job, wanted

    # --- what the worker reports -----------------------------------------------------------------
    def _on_progress(self, rid: int, fraction: float, message: str) -> None:
        running = self.running.get(rid)
        if running is not None and self.requests.is_current(running.job.slot, rid):
            # In a blind A/B round the engine's step ("running telea") would give the answer away.
            self.panel.set_progress(fraction, "" if self.blind.round is not None else message)

    def _on_finished(self, rid: int, slot: str, result: Any, seconds: float) -> None:
        job, wanted = self._end(rid)
        applied = job is not None and wanted and self._apply[job.kind](job, result, seconds)
        self.jobFinished.emit(rid, "applied" if applied else "discarded")

    def _on_failed(self, rid: int, slot: str, message: str) -> None:
        _, wanted = self._end(rid)
        if wanted:
            self.panel.set_busy(False, "failed")
            self.feedback.error(message)
        self.jobFinished.emit(rid, "failed")

    def _on_cancelled(self, rid: int, slot: str) -> None:
        self._end(rid)
        self.jobFinished.emit(rid, "cancelled")

    # --- results, by kind ------------------------------------------------------------------------
    def _imported(self, job: Job, result: Any, seconds: float) -> bool:
        # Not tied to an image: applies even with none open.
        self.panel.set_busy(False, "weights imported")
        self.feedback.message(f"imported weights to {result}", 6000)
        self.list_models()
        return True

    def _measured_checkpoint(self, job: Job, result: Any, seconds: float) -> bool:
        """The checkpoint's JSON has its numbers: say how it did, and re-read the catalogue so its row says so too."""
        from inpaint_studio.engine.named_checkpoints import MEASURED_KEY, CheckpointEntry

        path = Path(job.options["checkpoint"])
        how = CheckpointEntry(path.stem, job.method, path, {MEASURED_KEY: result}).measured_words()
        self.panel.set_busy(False, f"measured {path.stem} in {seconds:.0f} s")
        self.feedback.message(f"{model_name(job)}: {how}", 15000)
        self.list_models()
        return True

    def _on_photo(self, apply: Callable[[Job, Document, Any, float], bool]) -> Callable[[Job, Any, float], bool]:
        """A result for the open photo: applied only while one is open; the time and "done" shown once it is."""
        def applied(job: Job, result: Any, seconds: float) -> bool:
            doc = self.documents.document
            if doc is None:
                return False
            self.time_label.setText(f"last run: {seconds:.2f} s")
            if not apply(job, doc, result, seconds):
                return False
            self.panel.set_busy(False, f"done in {seconds:.2f} s")
            return True

        return applied

    def _set_mask(self, job: Job, doc: Document, result: Any, seconds: float) -> bool:
        self.documents.replace("mask", np.asarray(result.mask, np.uint8), "Auto mask")
        self.canvas.set_soft_mask(result.translucent)  # translucent damage: shown by its strength, never filled
        if self.canvas.soft_mask is not None:
            self.feedback.message(soft_mask_words(self.canvas.soft_mask), 30000)
        return True

    def _add_edges(self, job: Job, doc: Document, result: Any, seconds: float) -> bool:
        # The guess is added inside the hole only: the user's edges outside stay, and so do the contours
        # they sketched inside it (the network never sees those: they are the user's, not its).
        hole = doc.binary_mask() > 0
        edges = doc.edges.copy()
        edges[hole] = np.maximum(edges[hole], np.asarray(result, np.uint8)[hole])
        self.documents.replace("edges", edges, "Predict edges")
        return True

    def _add_candidate(self, job: Job, doc: Document, result: Any, seconds: float) -> bool:
        if result.shape != doc.image.shape:  # the document changed under the job
            return False
        method = job.method or job.slot
        model = model_name(job) or method  # names the checkpoint when one was picked
        letter = self.blind.label(model)  # blind A/B: only the letter, everywhere it is shown
        label = letter or f"{model} {seconds:.1f}s"
        index = doc.add_candidate(Candidate(method, result, seconds, job.rid, label, model, letter or model))
        ordered = self.blind.order(doc)
        self.show_candidates(index if ordered is None else ordered)
        if method == "auto" and ordered is None:  # which method filled which part (the plan the fill followed)
            from inpaint_studio.engine.methods.auto_fill import describe_routes, plan_routes

            self.feedback.message(f"Filled {describe_routes(plan_routes(doc.binary_mask()))}", 15000)
        return True

    def show_candidates(self, selected: int | None) -> None:
        doc = self.documents.document
        if doc is None:
            return
        self.panel.set_candidates([(c.label, c.image) for c in doc.candidates], selected)
        cand = doc.current_candidate
        self.canvas.show_result(cand.image if cand is not None else None)
        self.canvas.set_result_name(cand.caption if cand is not None else "")
        self.update_enabled()

    def select_candidate(self, index: int) -> None:
        doc = self.documents.document
        if doc is not None and 0 <= index < len(doc.candidates):
            doc.select(index)
            self.canvas.show_result(doc.candidates[index].image)
            self.canvas.set_result_name(doc.candidates[index].caption)

    def accept_result(self) -> None:
        doc = self.documents.document
        if doc is None or doc.current_candidate is None:
            return
        self.blind.score(doc, doc.current_candidate)
        # One undo step: the result in, the mask it filled cleared (it has done its job; undo brings both back).
        undo = self.documents.undo_stack
        undo.beginMacro(f"Accept {doc.current_candidate.model}")
        self.documents.push_patch(doc.accept())
        self.documents.clear_mask()
        undo.endMacro()
        self.show_candidates(None)

    def discard_results(self) -> None:
        self.blind.end()
        if self.documents.document is not None:
            self.documents.document.clear_candidates()
            self.show_candidates(None)

    def update_enabled(self) -> None:
        has = self.documents.document is not None
        p = self.panel
        for b in (p.inpaint_button, p.compare_button, p.auto_mask_button, p.restore_button, p.edges_button):
            b.setEnabled(has)
        p.set_restore_mode(self.documents.has_mask())

    # --- the model catalogue ---------------------------------------------------------------------
    def list_models(self) -> None:
        self.submit(Job(0, "models", JobKind.LIST_MODELS))

    def import_weights(self, path: str) -> None:
        self.submit(Job(0, "import", JobKind.IMPORT_CHECKPOINT, options={"path": path}))

    def measure(self, entry: Any) -> int:
        """Score a checkpoint (engine.named_checkpoints.CheckpointEntry) on the validation photos; when it is done
        the catalogue is re-read, so its row says how it measured."""
        self.panel.set_measuring(entry)
        return self.submit(Job(0, f"measure:{entry.name}", JobKind.MEASURE_CHECKPOINT, entry.method,
                               options={"checkpoint": entry.path}))

    def show_models(self, infos: list[ModelInfo]) -> None:
        self.models = {i.name: i for i in infos}
        stored = self.settings.get("model")
        self.panel.set_models(infos, stored or self._measured_default(infos),
                              self.settings.get("model_checkpoint") if stored else "")

    @staticmethod
    def _measured_default(infos: list[ModelInfo]) -> str:
        """No stored choice yet: the catalogue's measured object-removal default (models/table.json)."""
        from inpaint_studio.engine.catalogue import measured_defaults
        from inpaint_studio.engine.defaults import FALLBACK

        return measured_defaults(infos).get("fill", FALLBACK["fill"])

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
            self.feedback.error(f"{names[0]}: {self.models[names[0]].weights} — import weights with Models ▸ Import…")
        else:
            self.feedback.error("no installed model can do that")
        return None

    def _measured(self, task: str, fallback: str) -> str:
        return next((i.name for i in self.models.values() if task in i.default_for and i.available), fallback)

    def _blind_preference(self) -> tuple[str, ...]:
        """The measured best blind model first (models/table.json), then the learned one, then classical."""
        return (self._measured("blind", "classical_restore"), "vcnet", "classical_restore")

    # --- asking for work -------------------------------------------------------------------------
    def inpaint_job(self, method: str, slot: str, checkpoint: Path | None = None) -> Job | None:
        """A fill of the mask by `method` (with `checkpoint`, else its default weights); the option widgets apply
        when it is the picked model's method. None after saying why not."""
        doc = self.documents.require()
        if doc is None:
            return None
        mask = doc.binary_mask()
        if not mask.any():
            self.feedback.error("the mask is empty: paint over what to remove first")
            return None
        info = self.models.get(method)
        edges = None
        if info is not None and info.capabilities.accepts_edges and self.panel.use_edges.isChecked() and doc.edges.any():
            edges = doc.edges.copy()  # exactly what the user drew (a snapshot: later edits don't leak in)
        options = self.panel.option_values() if method == self.panel.current_model else {}
        if checkpoint is not None:
            options["checkpoint"] = checkpoint
        return Job(0, slot, JobKind.INPAINT, method, self.panel.working_image(doc).copy(), mask, edges, options)

    def inpaint(self) -> int | None:
        pick = self.panel.current_pick if self.panel.current_model else Pick(self.settings.get("model"))
        method = pick.method
        info = self.models.get(method)
        doc = self.documents.document
        if doc is not None and doc.edges.any() and info is not None and not info.capabilities.accepts_edges:
            # The user's pick stands; say plainly that it ignores the sketch and which fill would follow it.
            guided = self._measured("edges", "edge_guided")
            self.feedback.message(f"{method} ignores the edges you drew; pick {guided} to follow them", 15000)
        if info is not None and not info.available:
            self.feedback.error(f"{method}: weights missing — import them with Models ▸ Import…")
            return None
        job = self.inpaint_job(method, "inpaint", pick.checkpoint)
        return self.submit(job) if job else None

    def _runnable(self, pick: Pick) -> bool:
        info = self.models.get(pick.method)
        return info is None or info.available

    def compare_models(self) -> list[int]:
        """One candidate per ticked row: a method with its default weights, a checkpoint row with its checkpoint."""
        picks = self.panel.ticked_picks() or [self.panel.current_pick]
        rids = []
        for pick in picks:
            if not self._runnable(pick):
                continue
            job = self.inpaint_job(pick.method, f"compare:{pick.name}", pick.checkpoint)
            if job is None:
                break
            rids.append(self.submit(job))
        return rids

    def blind_ab(self) -> list[int]:
        """Two ticked models (or checkpoints) fill the same mask, shown as A and B (see BlindAB)."""
        picks = [pick for pick in self.panel.ticked_picks() if self._runnable(pick)]
        if len(picks) != 2:
            self.feedback.error("Blind A/B: tick exactly two models, the two to compare without knowing which is which")
            return []
        doc = self.documents.require()
        if doc is None:
            return []
        if doc.candidates:
            if not self.documents.ask_drop_candidates(len(doc.candidates)):
                return []
            self.discard_results()
        jobs = [self.inpaint_job(pick.method, f"compare:{pick.name}", pick.checkpoint) for pick in picks]
        if any(job is None for job in jobs):
            return []  # the reason is already on screen (an empty mask, say)
        self.blind.start(*(pick.name for pick in picks))
        return [self.submit(job) for job in jobs if job is not None]

    def _photo_and_model(self, want: str, preferred: tuple[str, ...]) -> tuple[Document, str] | None:
        """The open photo and the model to run on it, or None after saying why not."""
        doc = self.documents.require()
        method = self._pick(want, preferred) if doc is not None else None
        return (doc, method) if doc is not None and method is not None else None

    def restore(self) -> int | None:
        """With a mask (say Auto mask, then corrected by hand): fill exactly that mask with the blind model's
        fill, after removing the tint of the stains the Auto mask showed in amber. Without one: the model finds
        the damage itself."""
        found = self._photo_and_model("blind", self._blind_preference())
        if found is None:
            return None
        doc, method = found
        image = self.panel.working_image(doc).copy()
        mask = doc.binary_mask()
        if mask.any():
            # The amber map describes the photo as it is (None once it changed), not an original or a result
            soft = self.canvas.soft_mask
            stains = soft.copy() if soft is not None and np.array_equal(image, doc.image) else None
            return self.submit(Job(0, "restore", JobKind.INPAINT, method, image, mask, stains=stains))
        return self.submit(Job(0, "restore", JobKind.RESTORE, method, image))

    def auto_mask(self) -> int | None:
        found = self._photo_and_model("predicts_mask", self._blind_preference())
        if found is None:
            return None
        doc, method = found
        return self.submit(Job(0, "mask", JobKind.PREDICT_MASK, method, doc.image.copy()))

    def predict_edges(self) -> int | None:
        found = self._photo_and_model("predicts_edges", ("edgeconnect",))
        if found is None:
            return None
        doc, method = found
        mask = doc.binary_mask()
        if not mask.any():
            self.feedback.error("the mask is empty: paint the hole first, then predict its edges")
            return None
        return self.submit(Job(0, "edges", JobKind.PREDICT_EDGES, method, doc.image.copy(), mask))
