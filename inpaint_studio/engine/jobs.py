"""The job model: one piece of engine work a front end asks for, with a typed kind (no Qt, no torch).

The desktop app's worker thread runs these; each carries a request id, the result slot it answers (so a
newer request of the same slot makes an older result stale) and a cancel event."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np


class JobKind(str, Enum):
    """What a job does. `str` so a kind reads and compares as its plain name ("inpaint")."""

    INPAINT = "inpaint"  # fill the given mask
    RESTORE = "restore"  # blind: the method finds the damage and fills it
    PREDICT_MASK = "predict_mask"
    PREDICT_EDGES = "predict_edges"
    LIST_MODELS = "list_models"  # the model catalogue
    IMPORT_CHECKPOINT = "import_checkpoint"  # options["path"]: a published checkpoint to convert
    MEASURE_CHECKPOINT = "measure_checkpoint"  # options["checkpoint"]: score it against Telea, record it in its JSON

    @property
    def on_image(self) -> bool:
        """Whether the job works on the open photo (its result is stale once another photo opens)."""
        return self not in (JobKind.LIST_MODELS, JobKind.IMPORT_CHECKPOINT, JobKind.MEASURE_CHECKPOINT)

    @property
    def cancellable(self) -> bool:
        """Whether Cancel stops it: the work the user waits on (listing and importing are quick)."""
        return self not in (JobKind.LIST_MODELS, JobKind.IMPORT_CHECKPOINT)


@dataclass
class Job:
    rid: int  # 0 until submitted: the request tracker gives it an id
    # The result it answers: "inpaint", "compare:<model>", "mask", "edges", "restore", "models", "import",
    # "measure:<checkpoint>".
    slot: str
    kind: JobKind
    method: str = ""
    image: np.ndarray | None = None
    mask: np.ndarray | None = None
    edges: np.ndarray | None = None
    options: dict[str, Any] = field(default_factory=dict)
    # An inpaint job's translucent damage (uint8 H×W strength, 0 = none: the Auto mask's amber part): its tint
    # is removed where trusted before the mask is filled, so "Restore mask" treats stains as Restore does.
    stains: np.ndarray | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.kind = JobKind(self.kind)  # a plain name is accepted, an unknown one refused here, not on the thread
