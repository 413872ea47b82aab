"""Extend the canvas (outpainting): a larger document whose new border is the mask, for any method to fill.
No Qt."""

from __future__ import annotations

import numpy as np

from inpaint_studio.ui.model.document import Document

MAX_EXTEND_PX = 4096


def extended(doc: Document, left: int, top: int, right: int, bottom: int) -> Document:
    """`doc` with `left`/`top`/`right`/`bottom` pixels added: the new border starts as the nearest edge
    pixels (a neutral start; the methods never read hole pixels) and is the mask, joined to whatever mask
    there was; edges and alpha grow with it (alpha opaque). Path and metadata carry over; it is unsaved."""
    sides = (left, top, right, bottom)
    if any(not 0 <= n <= MAX_EXTEND_PX for n in sides) or not any(sides):
        raise ValueError(f"add 0–{MAX_EXTEND_PX} px on each side, and some somewhere")
    pad = ((top, bottom), (left, right))
    new = Document(np.pad(doc.image, (*pad, (0, 0)), mode="edge"), path=doc.path, exif=doc.exif,
                   icc_profile=doc.icc_profile,
                   alpha=None if doc.alpha is None else np.pad(doc.alpha, pad, constant_values=255))
    new.original = np.pad(doc.original, (*pad, (0, 0)), mode="edge")
    new.mask = np.pad(doc.mask, pad, constant_values=255)
    new.edges = np.pad(doc.edges, pad, constant_values=0)
    new.saved_token = -1  # a new size is unsaved until written
    return new
