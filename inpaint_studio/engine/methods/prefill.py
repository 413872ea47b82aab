"""The classical fill a "prefill" network starts from (`networks.deepfill_v2_prefill`).

A prefill checkpoint records which fill it was trained on in its metadata, `"prefill": {"method": NAME,
"options": {...}}`; the trainer's data loader and the engine's learned method both call `classical_prefill`
with that record, so inference sees exactly the input the network learned from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from inpaint_studio.core.errors import CheckpointError

# Fills a network may start from: deterministic classical methods (PatchMatch is seeded).
PREFILL_METHODS = ("navier_stokes", "telea", "patchmatch")
# Names in plain words, for model cards ("DeepFill v2 with a Navier–Stokes prefill").
PREFILL_TITLES = {"navier_stokes": "Navier–Stokes", "telea": "Telea", "patchmatch": "PatchMatch"}


def prefill_spec(value: str | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Normalise a config value (`"navier_stokes"`, `{"method": …, "options": {…}}`, "" / None = off)."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, str):
        spec: dict[str, Any] = {"method": value, "options": {}}
    elif isinstance(value, Mapping):
        spec = {"method": value.get("method"), "options": dict(value.get("options") or {})}
    else:
        raise CheckpointError(f"prefill must be a method name or {{'method', 'options'}}, not {value!r}")
    if spec["method"] not in PREFILL_METHODS:
        raise CheckpointError(f"unknown prefill method {spec['method']!r} (known: {', '.join(PREFILL_METHODS)})")
    return spec


def classical_prefill(image: np.ndarray, mask: np.ndarray, spec: Mapping[str, Any]) -> np.ndarray:
    """The recorded classical fill of `mask` (uint8, > 0 = hole) in `image` (RGB uint8), RGB uint8."""
    from inpaint_studio.engine.base import create_method

    method = create_method(str(spec["method"]), **dict(spec.get("options") or {}))
    return method.inpaint(image, mask)


def prefill_title(spec: Mapping[str, Any] | None) -> str:
    """'a Navier–Stokes prefill' (for cards and descriptions); '' when there is none."""
    if not spec:
        return ""
    name = PREFILL_TITLES.get(str(spec["method"]), str(spec["method"]))
    return f"a {name} prefill"
