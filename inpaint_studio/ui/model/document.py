"""The open document: photo, mask layer, edge layer, result candidates and undo patches — no Qt.

Widgets render it and send it requests; every change is announced to subscribers as (layer, box) so a view
repaints only the rectangle that changed. Undo stores patches (bounding box + before/after arrays), never
whole layers, so undo memory grows with what was painted, not with the photo size."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inpaint_studio.ui.model.raster import EMPTY, Box, changed_box, fill_polygon, fill_rect, stamp_segment

LAYERS = ("image", "mask", "edges")
Listener = Callable[[str, Box], None]
_tokens = itertools.count(1)


@dataclass
class Patch:
    """One undoable change: `before`/`after` are copies of `layer[box]`."""

    layer: str
    box: Box
    before: np.ndarray
    after: np.ndarray
    label: str
    token: int = field(default_factory=lambda: next(_tokens))
    prev_token: int = 0  # image state this patch was made from (tracks unsaved changes)


@dataclass
class Candidate:
    """One result awaiting the user's choice."""

    method: str
    image: np.ndarray
    seconds: float
    request_id: int
    label: str = ""  # under its thumbnail
    model: str = ""  # what made it, as picked ("deepfill_v2 · places2"); the method when not given
    caption: str = ""  # what the split view calls it (the model, or only its letter in a blind round)

    def __post_init__(self) -> None:
        self.model = self.model or self.method
        self.caption = self.caption or self.model


class Document:
    def __init__(
        self,
        image: np.ndarray,
        *,
        path: Path | None = None,
        alpha: np.ndarray | None = None,
        exif: bytes | None = None,
        icc_profile: bytes | None = None,
    ) -> None:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image must be RGB uint8 H×W×3, got {image.dtype} {image.shape}")
        self.image = np.ascontiguousarray(image)
        self.original = self.image.copy()
        h, w = image.shape[:2]
        # The mask layer keeps soft brush values (0–255); binary_mask() is what models see.
        self.mask = np.zeros((h, w), np.uint8)
        self.edges = np.zeros((h, w), np.uint8)
        self.path = path
        self.alpha = alpha
        self.exif = exif
        self.icc_profile = icc_profile
        self.candidates: list[Candidate] = []
        self.selected: int | None = None
        self._listeners: list[Listener] = []
        self._stroke_layer: str | None = None
        self._stroke_before: np.ndarray | None = None
        self._stroke_box: Box = EMPTY
        self.image_token = 0  # identifies the current image content; 0 = as loaded
        self.saved_token = 0

    # --- basics ----------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape[0], self.image.shape[1]

    @property
    def modified(self) -> bool:
        """The image differs from what was loaded or last saved (mask edits live in the autosave)."""
        return self.image_token != self.saved_token

    def mark_saved(self, path: Path | None = None) -> None:
        self.saved_token = self.image_token
        if path is not None:
            self.path = path

    def layer(self, name: str) -> np.ndarray:
        if name not in LAYERS:
            raise KeyError(name)
        return getattr(self, name)

    def subscribe(self, listener: Listener) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def notify(self, layer: str, box: Box | None = None) -> None:
        h, w = self.shape
        box = Box(0, 0, w, h) if box is None else box
        if box.empty:
            return
        for listener in list(self._listeners):
            listener(layer, box)

    def binary_mask(self) -> np.ndarray:
        """The hole as models see it: 255 where the (possibly soft) mask is at least half painted."""
        return np.where(self.mask >= 128, 255, 0).astype(np.uint8)

    # --- strokes ---------------------------------------------------------------------------------
    def begin_stroke(self, layer: str) -> None:
        # One full copy per stroke (a few ms even at 24 MP) lets each mouse move touch only its dab.
        self._stroke_layer = layer
        self._stroke_before = self.layer(layer).copy()
        self._stroke_box = EMPTY

    @property
    def stroking(self) -> bool:
        return self._stroke_layer is not None

    def stroke_segment(
        self, p0: tuple[float, float], p1: tuple[float, float], radius: float, *, hardness: float = 1.0, erase: bool = False
    ) -> Box:
        assert self._stroke_layer is not None, "begin_stroke() first"
        box = stamp_segment(self.layer(self._stroke_layer), p0, p1, radius, hardness=hardness, erase=erase)
        self._track(box)
        return box

    def stroke_rect(self, c0: tuple[float, float], c1: tuple[float, float], *, erase: bool = False) -> Box:
        assert self._stroke_layer is not None, "begin_stroke() first"
        box = fill_rect(self.layer(self._stroke_layer), c0, c1, erase=erase)
        self._track(box)
        return box

    def stroke_polygon(self, points: list[tuple[float, float]], *, erase: bool = False) -> Box:
        assert self._stroke_layer is not None, "begin_stroke() first"
        box = fill_polygon(self.layer(self._stroke_layer), points, erase=erase)
        self._track(box)
        return box

    def _track(self, box: Box) -> None:
        if not box.empty:
            self._stroke_box = box.union(self._stroke_box)
            self.notify(self._stroke_layer or "", box)

    def end_stroke(self, label: str) -> Patch | None:
        """Finish the stroke; returns the patch to push on the undo stack (None if nothing changed)."""
        layer, before, box = self._stroke_layer, self._stroke_before, self._stroke_box
        self._stroke_layer, self._stroke_before, self._stroke_box = None, None, EMPTY
        if layer is None or before is None or box.empty:
            return None
        arr = self.layer(layer)
        sl = box.slices()
        old, new = before[sl], arr[sl]
        tight = changed_box(old, new)
        if tight.empty:
            return None
        tight = Box(tight.x0 + box.x0, tight.y0 + box.y0, tight.x1 + box.x0, tight.y1 + box.y0)
        return self._patch(layer, tight, before[tight.slices()].copy(), arr[tight.slices()].copy(), label)

    # --- whole-layer edits (clear, invert, grow, predicted mask, accepted result) ------------------
    def replace_layer(self, layer: str, new: np.ndarray, label: str) -> Patch | None:
        """Set a whole layer; only the changed bounding box is stored and announced."""
        arr = self.layer(layer)
        if new.shape != arr.shape or new.dtype != arr.dtype:
            raise ValueError(f"{layer}: expected {arr.dtype} {arr.shape}, got {new.dtype} {new.shape}")
        box = changed_box(arr, new)
        if box.empty:
            return None
        sl = box.slices()
        patch = self._patch(layer, box, arr[sl].copy(), np.array(new[sl], copy=True), label)
        self.apply(patch, forward=True)
        return patch

    def _patch(self, layer: str, box: Box, before: np.ndarray, after: np.ndarray, label: str) -> Patch:
        return Patch(layer, box, before, after, label, prev_token=self.image_token)

    def apply(self, patch: Patch, *, forward: bool) -> None:
        """Redo (forward) or undo a patch and announce the changed box."""
        arr = self.layer(patch.layer)
        arr[patch.box.slices()] = patch.after if forward else patch.before
        if patch.layer == "image":
            self.image_token = patch.token if forward else patch.prev_token
        self.notify(patch.layer, patch.box)

    # --- results ---------------------------------------------------------------------------------
    def add_candidate(self, candidate: Candidate) -> int:
        self.candidates.append(candidate)
        self.selected = len(self.candidates) - 1
        return self.selected

    def select(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self.candidates):
            raise IndexError(index)
        self.selected = index

    @property
    def current_candidate(self) -> Candidate | None:
        return self.candidates[self.selected] if self.selected is not None else None

    def clear_candidates(self) -> None:
        self.candidates.clear()
        self.selected = None

    def accept(self, index: int | None = None) -> Patch | None:
        """The chosen candidate becomes the image (an undoable patch); the candidates are cleared."""
        index = self.selected if index is None else index
        if index is None:
            return None
        result = self.candidates[index].image
        label = f"Accept {self.candidates[index].model}"
        patch = self.replace_layer("image", result, label)
        self.clear_candidates()
        return patch

    def working_image(self, from_last_result: bool = False, *, original: bool = False) -> np.ndarray:
        """The image a new run starts from: the current image, the selected (not yet accepted) result, or
        the photo as loaded (to redo a fill from scratch)."""
        if original:
            return self.original
        cand = self.current_candidate
        return cand.image if from_last_result and cand is not None else self.image

    def summary(self) -> dict[str, Any]:
        h, w = self.shape
        return {"width": w, "height": h, "path": str(self.path) if self.path else None}
