"""`python -m trainer export RUN --to models/NAME`: a run's networks as an app checkpoint
(`NAME.safetensors` + `NAME.json` through `engine.checkpoints.save_checkpoint`) plus a model card `NAME.md`.
The engine then loads it with `create_method(method, checkpoint=path)`."""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Any

import torch

from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.engine.checkpoints import checkpoint_files, save_checkpoint
from trainer.config import TrainConfig
from trainer.recipes import get_recipe
from trainer.state import load_training_checkpoint


def _pick_checkpoint(run: Path, which: str) -> Path:
    run = Path(run)
    if run.is_file():
        return run
    best, last = run / "checkpoints" / "best.pt", run / "checkpoints" / "last.pt"
    if which == "best" and best.is_file():
        return best
    if last.is_file():
        return last
    raise CheckpointError(f"{run} has no checkpoints/last.pt: is it a training run directory?")


def export_run(run: Path, to: Path, *, which: str = "best", half: bool = False, overwrite: bool = False) -> Path:
    """Write the app checkpoint and its model card; returns the .safetensors path."""
    source = _pick_checkpoint(run, which)
    ckpt = load_training_checkpoint(source)
    cfg = TrainConfig.from_dict(ckpt["config"])
    st_path, json_path = checkpoint_files(to)
    card = st_path.with_suffix(".md")
    existing = [p.name for p in (st_path, json_path, card) if p.exists()]
    if existing and not overwrite:
        raise CheckpointError(f"{', '.join(existing)} already exist(s): choose another name or pass --force")

    torch.manual_seed(0)
    recipe = get_recipe(cfg.recipe)(cfg, torch.device("cpu"), None)
    recipe.build()
    for name, state in ckpt["models"].items():
        recipe.nets[name].load_state_dict(state)
    components = recipe.export_components()
    best = ckpt.get("best") or {}
    metrics = dict(best.get("metrics") or {}) if source.name == "best.pt" else dict(ckpt.get("last_val") or {})
    meta: dict[str, Any] = {
        "channel_order": "RGB",
        "source": {"file": str(source), "trained_by": "inpaint-studio trainer"},
        "training": {
            "recipe": cfg.recipe, "stage": cfg.stage, "steps": int(ckpt["step"]),
            "wall_time_s": round(float(ckpt.get("wall_time", 0.0)), 1), "device": ckpt.get("device", ""),
            "world_size": int(ckpt.get("world_size", 1)), "image_size": cfg.image_size,
            "batch_size": cfg.batch_size, "width": cfg.width,
            "data": cfg.data or "photo set (shared/data/photos.tsv, train split)",
            "val_data": cfg.val_data or ("photo set val split" if not cfg.data else cfg.data),
            "vgg_terms_off": list(ckpt.get("vgg_terms_off") or []),
            "feature_trunk": ckpt.get("feature_trunk") or "none",
            "checkpoint": source.name, "config": cfg.to_dict(),
        },
        "metrics": {k: round(v, 6) for k, v in metrics.items()},
    }
    path = save_checkpoint(
        st_path.with_suffix(""), recipe.method,
        {c.name: recipe.nets[c.name] for c in components},
        {c.name: {"network": c.network, "config": c.config} for c in components},
        meta, half=half,
    )
    card.write_text(model_card(st_path.stem, recipe.method, meta, components), encoding="utf-8")
    return path


def model_card(name: str, method: str, meta: dict[str, Any], components: list[Any]) -> str:
    t, m = meta["training"], meta["metrics"]
    lines = [
        f"# {name}", "",
        f"Method `{method}`, trained with the Inpaint Studio trainer (recipe `{t['recipe']}`"
        f"{', stage `' + t['stage'] + '`' if t['stage'] else ''}).", "",
        "## Networks", "",
        *[f"- `{c.name}`: `{c.network}` {c.config}" for c in components], "",
        "## Training", "",
        f"- steps: {t['steps']}, wall time {t['wall_time_s']} s on {t['device']} × {t['world_size']}",
        f"- images {t['image_size']}², batch {t['batch_size']}, width multiplier {t['width']}",
        f"- data: {t['data']}; validation: {t['val_data']}",
        f"- feature trunk for perceptual/style losses: {t.get('feature_trunk', 'none')}; "
        f"terms off (no trunk): {', '.join(t['vgg_terms_off']) or 'none'}",
        f"- exported {time.strftime('%Y-%m-%d %H:%M')} on {platform.node() or 'unknown host'}", "",
        "## Validation (this model next to Telea on the same images and masks)", "",
    ]
    keys = [k for k in m if not k.startswith("telea_")]
    if keys:
        lines += ["| metric | this model | Telea |", "|---|---|---|"]
        lines += [f"| {k} | {m[k]:.4g} | {m['telea_' + k]:.4g} |" if f"telea_{k}" in m else f"| {k} | {m[k]:.4g} | |"
                  for k in keys]
    else:
        lines.append("No validation metrics were recorded.")
    lines += ["", "L1 in grey levels (0–255), PSNR in dB, SSIM in [0, 1]; `_hole` = inside the mask only.",
              "Load it with `create_method(\"" + method + "\", checkpoint=\"" + name + ".safetensors\")`.", ""]
    return "\n".join(lines)
