"""`python -m trainer tune`: measure an exported checkpoint's inference settings on validation photos (the
working size for every learned fill; for VCNet also the size its mask network looks at and its blind detector ×
fill) and, with `record`, write them into the checkpoint's JSON, which the engine follows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from inpaint_studio.core.paths import user_cache_dir


def tune_checkpoint(checkpoint: Path, images: Path | None = None, *, limit: int = 12, size: int = 256, seed: int = 0,
                    record: bool = False, log: Callable[[str], None] = print) -> None:
    """Tune `checkpoint` on up to `limit` photos of `images` (default: the photo set's val split) at `size`²."""
    from inpaint_studio.core.imageio import load_rgb
    from inpaint_studio.engine.checkpoints import read_metadata
    from inpaint_studio.engine.evaluate import prepare
    from trainer import blind_choice, working_size
    from trainer.data import DataError

    folder = images or user_cache_dir() / "photos" / "val"
    paths = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[:limit]
    if len(paths) < 2:
        raise DataError(f"need at least two photos in {folder} (run `python -m trainer fetch-photos`)")
    photos = [(p.name, prepare(load_rgb(p), size)) for p in paths]
    working_size.run(checkpoint, photos, seed, record, log=log)
    if read_metadata(checkpoint).get("method") == "vcnet":
        if 2 * size >= min(blind_choice.MASK_SIZES):
            large = [(p.name, prepare(load_rgb(p), 2 * size)) for p in paths]
            blind_choice.run_mask_size(checkpoint, large, seed, record, log=log)
        else:
            log(f"mask size: photos of {2 * size} px are below the smallest candidate; not chosen")
        blind_choice.run(checkpoint, photos, seed, record, log=log)
