"""The classical fill a prefill network learns to correct, for each training sample (`network.prefill`).

Navier–Stokes costs a few milliseconds at 256² and is computed on the fly. PatchMatch costs about a second, so its
fills are cached on disk keyed by the content of (image, mask, method, options): a sample is a pure function of
(seed, epoch, index) (`trainer.data`), so the fixed validation set, a resumed run and a rerun of the same epochs
all find their fills there and each is computed once.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from inpaint_studio.core.atomic import atomic_write_bytes
from inpaint_studio.core.paths import user_cache_dir
from inpaint_studio.engine.methods.prefill import classical_prefill

CACHED_METHODS = ("patchmatch",)  # too slow to recompute every epoch


class PrefillSource:
    """`source(image, mask)` → the recorded classical fill (RGB uint8), cached for the costly methods."""

    def __init__(self, spec: Mapping[str, Any], cache_dir: str | Path | None = None) -> None:
        self.spec = {"method": spec["method"], "options": dict(spec.get("options") or {})}
        self.cache_dir: Path | None = None
        if self.spec["method"] in CACHED_METHODS:
            self.cache_dir = Path(cache_dir) if cache_dir else user_cache_dir() / "prefill" / str(spec["method"])
        self._tag = json.dumps(self.spec, sort_keys=True).encode()

    def _key(self, image: np.ndarray, mask: np.ndarray) -> str:
        h = hashlib.sha1(self._tag)
        h.update(np.asarray(image.shape, np.int64).tobytes())
        h.update(np.ascontiguousarray(image).tobytes())
        h.update(np.ascontiguousarray(mask > 0).tobytes())
        return h.hexdigest()

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.cache_dir is None:
            return classical_prefill(image, mask, self.spec)
        key = self._key(image, mask)
        path = self.cache_dir / key[:2] / f"{key}.png"
        if path.is_file():
            try:
                with Image.open(path) as im:
                    cached = np.asarray(im.convert("RGB"))
                if cached.shape == image.shape:
                    return cached
            except OSError:
                pass  # a damaged cache file is recomputed and rewritten
        filled = classical_prefill(image, mask, self.spec)
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        Image.fromarray(filled).save(buf, format="PNG", compress_level=1)
        atomic_write_bytes(path, buf.getvalue())
        return filled
