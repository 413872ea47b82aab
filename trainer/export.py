"""`python -m trainer export RUN --to models/NAME`: a run's networks as an app checkpoint
(`NAME.safetensors` + `NAME.json` through `engine.checkpoints.save_checkpoint`) plus a model card `NAME.md`.
The engine then loads it with `create_method(method, checkpoint=path)`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch

from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.engine.checkpoints import checkpoint_files, save_checkpoint
from trainer.card import Stage, model_card, read_curve
from trainer.config import TrainConfig, init_sources
from trainer.recipes import get_recipe
from trainer.state import load_training_checkpoint

MAX_CHAIN = 8  # init_from links followed when listing the stages behind an export


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


def export_run(
    run: Path, to: Path, *, which: str = "best", half: bool = False, overwrite: bool = False, notes: str = ""
) -> Path:
    """Write the app checkpoint and its model card; returns the .safetensors path."""
    source = _pick_checkpoint(run, which)
    ckpt = load_training_checkpoint(source)
    cfg = TrainConfig.from_dict(ckpt["config"])
    st_path, json_path = checkpoint_files(to)
    card = st_path.with_suffix(".md")
    curve_png = st_path.with_name(st_path.stem + ".curve.png")
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
    stages = training_chain(source, ckpt)
    meta: dict[str, Any] = {
        "channel_order": "RGB",
        "source": {"file": str(source), "trained_by": "inpaint-studio trainer"},
        "training": {
            "recipe": cfg.recipe, "stage": cfg.stage, "steps": int(ckpt["step"]),
            "wall_time_s": round(float(ckpt.get("wall_time", 0.0)), 1), "device": ckpt.get("device", ""),
            "world_size": int(ckpt.get("world_size", 1)), "image_size": cfg.image_size,
            "batch_size": cfg.batch_size, "width": cfg.width,
            "data": cfg.data or "photo set (trainer/data/photos.tsv, train split)",
            "val_data": cfg.val_data or ("photo set val split" if not cfg.data else cfg.data),
            "vgg_terms_off": list(ckpt.get("vgg_terms_off") or []),
            "feature_trunk": ckpt.get("feature_trunk") or "none",
            "checkpoint": source.name, "config": cfg.to_dict(),
        },
        "metrics": {k: round(v, 6) for k, v in metrics.items()},
        "stages": [{"run_dir": str(st.run_dir) if st.run_dir else None, "recipe": st.config.get("recipe"),
                    "stage": st.config.get("stage"), "steps": st.steps, "wall_time_s": round(st.wall_time_s, 1),
                    "device": st.device} for st in stages],
        "total_training_s": round(sum(st.wall_time_s for st in stages), 1),
        **recipe.export_meta(),
    }
    if recipe.variant():
        meta["variant"] = recipe.variant()
    path = save_checkpoint(
        st_path.with_suffix(""), recipe.method,
        {c.name: recipe.nets[c.name] for c in components},
        {c.name: {"network": c.network, "config": c.config} for c in components},
        meta, half=half,
    )
    networks = [(c.name, c.network, c.config, _count(recipe.nets[c.name]), _paper_count(cfg, c.name))
                for c in components]
    run_dir = stages[-1].run_dir
    hint = (f"`python -m trainer train --resume {run_dir}` continues the last stage exactly (its state is "
            "kept there), then `python -m trainer export` again." if run_dir is not None else
            "The training state was not kept with this export.")
    drawn = write_curve_image(stages, curve_png)
    text = model_card(st_path.stem, recipe.method, {**meta, "half": half}, networks, stages, recipe.best_key(), hint,
                      notes, curve_image=drawn)
    card.write_text(text, encoding="utf-8")
    return path


def default_export_stem(run: Path, name: str | None = None) -> Path:
    """Where `export` writes without --to: the user's models folder, named after the run folder (or `name`)."""
    from inpaint_studio.core.paths import user_models_dir
    from inpaint_studio.engine.named_checkpoints import check_new_name, clean_name

    run = Path(run)
    folder = _run_dir_of(run) if run.is_file() else run
    clean = clean_name(name or (folder or run).resolve().name)
    check_new_name(clean)
    return user_models_dir() / clean


def export_use_hint(path: Path) -> str:
    """The command that runs the exported checkpoint: by name in the user's models folder, else by file."""
    from inpaint_studio.core.paths import user_models_dir
    from inpaint_studio.engine.checkpoints import read_metadata

    method = read_metadata(path)["method"]
    in_user_folder = path.parent.resolve() == user_models_dir().resolve()
    model = path.stem if in_user_folder else f"{method}={path}"
    return f"use it: inpaint-studio inpaint PHOTO --mask MASK -o OUT --model {model}"


def write_curve_image(stages: list[Stage], dest: Path) -> bool:
    """The training curves (each run's plot.png) of every stage that trained, one above the other: a merged
    zero-step run has no curve of its own, its stages do. False (and no file) when none was drawn."""
    trained = [s for s in stages if s.run_dir is not None and s.steps > 0 and (s.run_dir / "plot.png").is_file()]
    dest.unlink(missing_ok=True)  # never leave an earlier export's curve beside a new card
    if len(trained) == 1:
        shutil.copyfile(trained[0].run_dir / "plot.png", dest)
    elif trained:
        from PIL import Image, ImageDraw

        images = [Image.open(s.run_dir / "plot.png").convert("RGB") for s in trained]
        band = 24  # a title above each stage's plot: which run it is
        sheet = Image.new("RGB", (max(i.width for i in images), sum(i.height + band for i in images)), "white")
        draw, y = ImageDraw.Draw(sheet), 0
        for i, (stage, image) in enumerate(zip(trained, images, strict=True), 1):
            cfg = stage.config
            draw.text((8, y + 6), f"Stage {i}: {cfg.get('recipe')} {cfg.get('stage') or ''}: {stage.run_dir} "
                      f"({stage.steps} steps)", fill="black")
            sheet.paste(image, (0, y + band))
            y += image.height + band
        sheet.save(dest)
    return bool(trained)


def _run_dir_of(checkpoint: Path) -> Path | None:
    """checkpoints/last.pt → the run directory (when it looks like one)."""
    if checkpoint.is_dir():
        return checkpoint
    parent = checkpoint.parent
    return parent.parent if parent.name == "checkpoints" else None


def training_chain(source: Path, ckpt: dict[str, Any]) -> list[Stage]:
    """The exported run and, before it, every run it was seeded from (`init_from`, possibly several),
    parents before children."""
    stages: list[Stage] = []
    seen: set[str] = set()

    def visit(path: Path, ck: dict[str, Any]) -> None:
        run_dir = _run_dir_of(path)
        key = str((run_dir or path).resolve())
        if key in seen or len(stages) >= MAX_CHAIN:
            return
        seen.add(key)
        cfg = dict(ck.get("config") or {})
        for parent in init_sources(str(cfg.get("init_from") or "")):
            try:
                parent_ckpt = load_training_checkpoint(parent)
            except (CheckpointError, OSError):
                stages.append(Stage(None, {"recipe": "?", "init_from": str(parent)}, 0, 0.0, "unknown"))
                continue
            visit(parent / "checkpoints" / "last.pt" if parent.is_dir() else parent, parent_ckpt)
        stages.append(Stage(run_dir, cfg, int(ck.get("step", 0)), float(ck.get("wall_time", 0.0)),
                            str(ck.get("device", "")), read_curve(run_dir)))

    visit(source, ckpt)
    return stages


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _paper_count(cfg: TrainConfig, component: str) -> int | None:
    """Parameters of the same component at width 1 (the paper's size), built on the meta device."""
    try:
        with torch.device("meta"):
            full = get_recipe(cfg.recipe)(TrainConfig.from_dict({**cfg.to_dict(), "width": 1.0}), torch.device("meta"), None)
            full.build()
        return _count(full.nets[component])
    except Exception:  # a network that cannot be built on the meta device: the card shows a dash
        return None
