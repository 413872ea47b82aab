"""`inpaint-studio models measure NAME`: a checkpoint's fill scored against Telea on the same photos and holes,
recorded in its JSON (`measured`), so the model list can say how it measured.

The photos: the fetched photo set's validation split (`python -m trainer fetch-photos`; at most MAX_PHOTOS of
them), else the bundled sample photos. Each is prepared as `evaluate` prepares photos (SIZE², centre crop) and
gets the generated holes of BUCKETS; the numbers are means over every (photo, hole).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inpaint_studio.core import paths
from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.engine.base import ProgressFn
from inpaint_studio.engine.checkpoints import update_metadata
from inpaint_studio.engine.named_checkpoints import MEASURED_KEY, find_named

SIZE = 256
BUCKETS = ((0.1, 0.2), (0.2, 0.3), (0.3, 0.4))
MAX_PHOTOS = 16
METRICS = ("l1_hole", "psnr_hole", "ssim_hole")
_PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def measurement_photos() -> tuple[str, list[Path]]:
    """("validation photos", files) when the photo set is fetched, else ("bundled samples", files)."""
    val = paths.user_cache_dir() / "photos" / "val"
    if val.is_dir():
        found = sorted(p for p in val.iterdir() if p.suffix.lower() in _PHOTO_SUFFIXES)[:MAX_PHOTOS]
        if found:
            return "validation photos", found
    return "bundled samples", sorted(p for p in paths.SAMPLES_DIR.iterdir() if p.suffix.lower() in _PHOTO_SUFFIXES)


def measure_checkpoint(
    name: str, *, device: str = "auto", size: int = SIZE, progress: ProgressFn | None = None
) -> dict[str, Any]:
    """Measure the named checkpoint and Telea, record the block in the checkpoint's JSON, return it."""
    import numpy as np

    from inpaint_studio.engine.evaluate import evaluate

    entry = find_named(name)
    label, photos = measurement_photos()
    ours = f"{entry.method}={entry.path}"
    result = evaluate(photos, [ours, "telea"], generate=BUCKETS, size=size, device=device, progress=progress)
    rows = {model: [r for r in result.rows if r["model"] == model] for model in (f"{entry.method}[{name}]", "telea")}
    if not rows[f"{entry.method}[{name}]"]:
        why = "; ".join(result.skipped) or "no photo could be filled"
        raise CheckpointError(f"'{name}' could not be measured: {why}")

    def mean(model: str, key: str) -> float:
        return round(float(np.mean([r[key] for r in rows[model] if r[key] is not None])), 4)

    block: dict[str, Any] = {
        "photos": label,
        "count": int(rows[f"{entry.method}[{name}]"][0]["n"]),  # photos filled (an unreadable one is left out)
        "size": size,
        "buckets": list(result.buckets),
        "seed": 0,
        **{key: mean(f"{entry.method}[{name}]", key) for key in METRICS},
        **{f"telea_{key}": mean("telea", key) for key in METRICS},
    }
    update_metadata(entry.path, lambda doc: doc.update({MEASURED_KEY: block}))
    return block
