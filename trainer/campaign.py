"""`python -m trainer campaign --minutes M --device cuda`: DeepFill v2 (the Navier–Stokes prefill variant that
ships), EdgeConnect and VCNet trained one after the other in one process within M minutes, then each exported,
tuned, checked against the floor and (optionally) the model table re-measured; a report (campaign.md + .json).

Time: `RESERVE` of M is kept for export, tune and floor checks; the rest goes to the training stages in
proportion to `MODEL_SHARES` × each stage's share within its model. Each stage gets its share of the time still
left (a stage that ends early — a step cap, a zero-step merge — leaves its time to the ones after it) and stops
cleanly at its deadline: it validates, saves and is exported from its best validated checkpoint. A stage that
fails (a diverged loss, CUDA out of memory) stops its own model only. `tune --record` measures each export's
working size and VCNet's blind detector × fill. The table re-measure (`benchmarks/model_table.py`, its own
`--table-limit`) runs after and is not part of M.

Presets: `paper` (width 1, 256², the papers' settings; `--init auto` seeds each model from a published
checkpoint imported with `inpaint-studio models import` into the user models folder when one is present and
matches the recipe's networks, else starts fresh), `small` (continues the shipped small runs of
`models/training/`, copied into the campaign folder first so nothing under `models/` changes; the CPU-sensible
mode) and `tiny` (a smoke test: width 0.125, 64², 3 steps per stage).

On CUDA: mixed precision (the loop's AMP), channels-last layout, and the largest batch that fits (`largest_batch`:
doubling until CUDA runs out of memory, then the last size that fitted). On the CPU the preset's fixed batch.
Exports go into the campaign folder; `--ship` also copies those that clear the floor (`engine/floor.py`) into
`models/` and records their sample check; a checkpoint below the floor is never shipped and the report says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from inpaint_studio.core import paths
from inpaint_studio.core.atomic import atomic_write, atomic_write_text
from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.paths import PROJECT_ROOT, user_models_dir
from trainer.batch_probe import MAX_BATCH, free_cuda, largest_batch, try_training_step
from trainer.campaign_report import report_markdown, table_summary
from trainer.config import ConfigError, TrainConfig, merge

MODEL_SHARES = {"deepfill_v2": 0.4, "edgeconnect": 0.3, "vcnet": 0.3}  # of the training time
RESERVE = 0.2  # of --minutes kept for export, tune and floor checks
TINY_STEPS = 3  # steps per stage of the tiny preset (a smoke test)
CPU_BATCH = {"paper": 4, "small": 0, "tiny": 2}  # fixed CPU batch (0: the resumed run's own)
EXPORT_SUFFIX = {"paper": "paper", "small": "small", "tiny": "tiny"}


@dataclass(frozen=True)
class Stage:
    key: str  # the run folder's name under the campaign's runs/
    recipe: str
    stage: str = ""
    share: float = 1.0  # of its model's training time
    settings: dict[str, Any] = field(default_factory=dict)  # TrainConfig overrides (fresh runs)
    seeds: tuple[str, ...] = ()  # earlier stages whose runs seed this one (init_from, in order)
    resume: str = ""  # small preset: the models/training run this stage continues (copied first)
    merge: bool = False  # zero steps: puts the seeds' networks together for export


@dataclass(frozen=True)
class ModelPlan:
    name: str  # a MODEL_SHARES key
    method: str  # engine method the export loads into
    export: str  # export stem, before the preset suffix
    stages: tuple[Stage, ...]


# The fresh mask network's damage: every family but a held-out few (validated as unseen_*), scratches weighted
# up, clean photos and translucent damage as negatives (stains are not holes: `translucent_negatives`).
MPN_VARIETY: dict[str, Any] = {
    "damage": ["contamination", "contamination", "scratch", "scratch", "scratch", "ink", "graffiti", "dust", "text",
               "stain", "coffee", "fading", "clean", "clean"],
    "hold_out": ["paste", "watermark", "hairline", "water", "foxing", "yellowing"],
    "translucent_negatives": True, "mask_tau_max": 0.9, "weights": {"dice": 1.0},
}


# Stages whose generator trains without instance norm unless published weights seed it (their layout keeps it).
NORM_FREE_WHEN_FRESH = frozenset({"edgeconnect-inpaint"})

# The layout of the shipped `edgeconnect-small`: an inpainting generator without instance norm, with resize
# convolutions (`edgeconnect-plain`), beside the transposed-convolution edge generator it was seeded with.
EDGECONNECT_SMALL_LAYOUT: dict[str, Any] = {"norm": "none", "upsample": "resize", "edge_upsample": "transpose"}


def plans(preset: str) -> list[ModelPlan]:
    """What each preset trains: fresh stages (paper, tiny) or continuations of the shipped small runs."""
    prefill = {"network": {"prefill": "navier_stokes"}}
    if preset == "small":
        return [
            ModelPlan("deepfill_v2", "deepfill_v2", "deepfill_v2-prefill",
                      (Stage("deepfill_v2-prefill", "deepfill_v2", resume="deepfill_v2-prefill"),)),
            ModelPlan("edgeconnect", "edgeconnect", "edgeconnect", (
                Stage("edgeconnect-edge", "edgeconnect", "edge", 0.4, resume="edgeconnect_edge-dlr"),
                Stage("edgeconnect-inpaint", "edgeconnect", "inpaint", 0.6, resume="edgeconnect-plain"),
                Stage("edgeconnect-merged", "edgeconnect", "joint", 0.0, seeds=("edgeconnect-inpaint", "edgeconnect-edge"),
                      settings={"network": EDGECONNECT_SMALL_LAYOUT}, merge=True),
            )),
            ModelPlan("vcnet", "vcnet", "vcnet", (
                Stage("vcnet-mpn", "vcnet", "mpn", 0.5, resume="vcnet_mpn-wide"),
                Stage("vcnet-rin", "vcnet", "rin", 0.5, resume="vcnet_rin-small"),
                Stage("vcnet-merged", "vcnet", "joint", 0.0, seeds=("vcnet-rin", "vcnet-mpn"), merge=True),
            )),
        ]
    if preset not in ("paper", "tiny"):
        raise ConfigError(f"unknown campaign preset '{preset}' (paper | small | tiny)")
    return [
        ModelPlan("deepfill_v2", "deepfill_v2", "deepfill_v2-prefill",
                  (Stage("deepfill_v2-prefill", "deepfill_v2", settings=prefill),)),
        ModelPlan("edgeconnect", "edgeconnect", "edgeconnect", (
            Stage("edgeconnect-edge", "edgeconnect", "edge", 0.4),
            Stage("edgeconnect-inpaint", "edgeconnect", "inpaint", 0.6, seeds=("edgeconnect-edge",)),
        )),
        ModelPlan("vcnet", "vcnet", "vcnet", (
            Stage("vcnet-mpn", "vcnet", "mpn", 0.5, settings=MPN_VARIETY),
            Stage("vcnet-rin", "vcnet", "rin", 0.5, seeds=("vcnet-mpn",)),
        )),
    ]


# --- time -----------------------------------------------------------------------------------------------------


def stage_shares(models: Sequence[ModelPlan]) -> dict[str, float]:
    """Each training stage's fraction of the training time (model share × stage share, normalised)."""
    raw = {s.key: MODEL_SHARES[m.name] * s.share for m in models for s in m.stages if not s.merge}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()} if total > 0 else raw


def budget_split(minutes: float, models: Sequence[ModelPlan]) -> dict[str, float]:
    """Planned seconds per training stage when every stage uses its whole share (the report's plan)."""
    training = minutes * 60 * (1 - RESERVE)
    return {k: training * v for k, v in stage_shares(models).items()}


def stage_seconds(seconds_left: float, share: float, shares_left: Sequence[float]) -> float:
    """A stage's time: its share of the training time still left among the stages still to run (itself
    included), so that time a stage did not use goes to the ones after it."""
    total = sum(shares_left)
    return max(0.0, seconds_left) * share / total if total > 0 else 0.0


# --- starting points ----------------------------------------------------------------------------------------------


def imported_checkpoint(method: str) -> Path | None:
    """A published checkpoint of `method` imported into the user models folder (`inpaint-studio models import`
    records the source file's layout), newest first; None when there is none."""
    from inpaint_studio.engine.checkpoints import find_checkpoints, read_metadata

    folder = user_models_dir().resolve()
    for path in find_checkpoints(method):
        meta = read_metadata(path)
        # published: converted from a layout, never trained by us (our exports, imported too, carry "training")
        if path.resolve().parent == folder and (meta.get("source") or {}).get("layout") and not meta.get("training"):
            return path
    return None


def seed_from_import(checkpoint: Path, cfg: TrainConfig, dest: Path) -> str:
    """Write the imported checkpoint's networks as a zero-step training checkpoint `dest` that `init_from` reads.
    Raises ConfigError when they do not fit the recipe's networks at this width."""
    from inpaint_studio.engine.checkpoints import load_checkpoint
    from trainer.recipes import get_recipe
    from trainer.state import TRAINING_FORMAT, TRAINING_VERSION, atomic_torch_save

    ck = load_checkpoint(checkpoint)
    models = {c: ck.state_dict(c) for c in ck.components}
    stages = get_recipe(cfg.recipe).stages
    whole = merge(cfg, {"stage": "joint" if "joint" in stages else stages[0], "init_from": ""}, "import")
    recipe = get_recipe(whole.recipe)(whole, torch.device("cpu"), None)
    recipe.build()
    try:
        loaded = recipe.init_from_state(models)
    except (RuntimeError, KeyError) as exc:
        raise ConfigError(f"{checkpoint.name} does not match the {cfg.recipe} networks at width {cfg.width}: "
                          f"{str(exc).splitlines()[0]}") from None
    if not loaded:
        raise ConfigError(f"{checkpoint.name} holds none of the {cfg.recipe} networks")
    atomic_torch_save({
        "format": TRAINING_FORMAT, "version": TRAINING_VERSION, "recipe": whole.recipe, "stage": whole.stage,
        "step": 0, "config": whole.to_dict(), "models": models, "wall_time": 0.0,
        "device": f"imported from {checkpoint.name}",
    }, dest)
    return ", ".join(loaded)


# --- the campaign ---------------------------------------------------------------------------------------------------


@dataclass
class CampaignOptions:
    minutes: float
    out: Path
    device: str = "cuda"
    preset: str = "paper"
    init: str = "auto"  # auto | fresh
    data: str = ""
    val_data: str = ""
    ship: bool = False
    table: bool = True
    tune: bool = True
    table_limit: int = 4
    tune_limit: int = 12
    tune_size: int = 256
    max_steps: int = 0  # 0: time decides (tiny: TINY_STEPS)
    max_batch: int = MAX_BATCH
    threads: int = 0
    workers: int = -1  # -1: several on CUDA (the prefill is computed in the loader), 0 on the CPU
    seed: int = 0
    probe: bool | None = None  # None: probe the batch on CUDA only
    models_dir: Path | None = None  # where --ship copies to (default: the repository's models/)
    training_dir: Path | None = None  # the small preset's runs (default: models/training)


def check_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device cuda: torch {torch.__version__} sees no CUDA GPU on this machine "
                          "(use --device cpu, or install a CUDA build of torch)")
    if name not in ("cuda", "cpu", "mps"):
        raise ConfigError(f"--device must be cuda, cpu or mps, not '{name}'")
    from inpaint_studio.engine.device import resolve_device

    try:
        return torch.device(resolve_device(name))
    except InpaintStudioError as exc:  # mps on a machine without it
        raise ConfigError(f"--device {name}: {exc}") from None


# A stage that fails this way stops its model only: a refused setting, too few photos, a diverged loss, or CUDA
# running out of memory after the probe (validation at a larger batch, fragmentation).
STAGE_ERRORS = (InpaintStudioError, torch.cuda.OutOfMemoryError)


class Campaign:
    def __init__(self, opts: CampaignOptions, log: Callable[[str], None] = print) -> None:
        if opts.ship and opts.preset == "tiny":
            raise ConfigError("the tiny preset is a smoke test: it is never shipped (drop --ship)")
        if opts.init not in ("auto", "fresh"):
            raise ConfigError(f"--init must be auto or fresh, not '{opts.init}'")
        if opts.minutes <= 0:
            raise ConfigError("--minutes must be positive")
        if (Path(opts.out) / "campaign.json").exists():
            raise ConfigError(f"{opts.out} already holds a campaign: choose another --out")
        self.opts = opts
        self.models_dir = Path(opts.models_dir or paths.SHIPPED_MODELS_DIR)
        self.training_dir = Path(opts.training_dir or paths.SHIPPED_MODELS_DIR / "training")
        self.device = check_device(opts.device)
        self.models = plans(opts.preset)
        self.out = Path(opts.out)
        self.runs: dict[str, Path] = {}
        self.log_file = self.out / "campaign.log"
        self._log = log
        self.report: dict[str, Any] = {
            "settings": {"minutes": opts.minutes, "preset": opts.preset, "device": str(self.device),
                         "init": opts.init, "data": opts.data or "photo set", "ship": opts.ship,
                         "reserve": RESERVE, "model_shares": MODEL_SHARES,
                         "amp": self.device.type == "cuda", "channels_last": self.device.type == "cuda"},
            "plan_seconds": {k: round(v, 1) for k, v in budget_split(opts.minutes, self.models).items()},
            "stages": [], "models": [], "table": None,
        }

    def log(self, msg: str) -> None:
        self._log(msg)
        self.out.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("a", encoding="utf-8") as fh:
            fh.write(msg + "\n")

    # --- stages ---
    def common_settings(self) -> dict[str, Any]:
        o = self.opts
        cuda = self.device.type == "cuda"
        workers = o.workers if o.workers >= 0 else (min(8, max(1, (os.cpu_count() or 2) - 2)) if cuda else 0)
        settings: dict[str, Any] = {"device": self.device.type, "threads": o.threads, "workers": workers,
                                    "progress": False, "channels_last": cuda, "amp": True}
        if o.data:
            settings["data"] = o.data
            settings["val_data"] = o.val_data or o.data
        return settings

    def step_cap(self) -> int:
        return self.opts.max_steps or (TINY_STEPS if self.opts.preset == "tiny" else 10**9)

    def fresh_config(self, model: ModelPlan, stage: Stage) -> TrainConfig:
        from trainer.cli import PRESETS
        from trainer.loop import build_config

        cfg = build_config(stage.recipe, stage.stage)
        cfg = merge(cfg, PRESETS[self.opts.preset], f"preset {self.opts.preset}")
        cfg = merge(cfg, stage.settings, "campaign stage")
        cfg = merge(cfg, {**self.common_settings(), "seed": self.opts.seed, "steps": self.step_cap(),
                          "run_dir": str(self.out / "runs" / stage.key)}, "campaign")
        if self.device.type == "cpu" and CPU_BATCH[self.opts.preset]:
            cfg.batch_size = CPU_BATCH[self.opts.preset]
        sources = [str(self.runs[k]) for k in stage.seeds]
        published = ""
        if self.opts.init == "auto" and self.opts.preset == "paper":
            published = self.import_seed(model, cfg)
            if published:
                sources.insert(0, published)
        if stage.key in NORM_FREE_WHEN_FRESH and not published:
            # Nothing published to keep the layout for: the generator drops instance norm, which hides a photo's
            # colour from it (on this project's CPU runs hole L1 22.4 instead of 30.3 after 3 000 steps).
            cfg.network["norm"] = "none"
        cfg.init_from = ",".join(sources)
        return cfg

    def import_seed(self, model: ModelPlan, cfg: TrainConfig) -> str:
        """The converted published checkpoint of this model (converted once per model), or ''."""
        found = imported_checkpoint(model.method)
        if found is None:
            self.report.setdefault("init", {})[model.name] = "fresh (no published checkpoint imported)"
            return ""
        dest = self.out / "seeds" / f"{model.name}.pt"
        if not dest.is_file():
            extra = {"network": {**cfg.network, "reset_heads": True}} if cfg.network.get("prefill") else {}
            try:
                seeded = seed_from_import(found, merge(cfg, extra, "import"), dest)
            except ConfigError as exc:
                self.log(f"{model.name}: {exc}; starting fresh")
                self.report.setdefault("init", {})[model.name] = f"fresh ({exc})"
                return ""
            self.log(f"{model.name}: starting from the imported {found.name} ({seeded})")
            self.report.setdefault("init", {})[model.name] = f"imported {found}"
        if cfg.network.get("prefill"):
            cfg.network["reset_heads"] = True  # a published plain generator: start at the classical fill
        return str(dest)

    def resume_overrides(self, stage: Stage) -> tuple[Path, dict[str, Any]]:
        """Copy the shipped run into the campaign folder; overrides that continue it at its current rate."""
        from trainer.loop import lr_factor
        from trainer.state import atomic_torch_save, load_training_checkpoint

        source = self.training_dir / stage.resume
        if not (source / "checkpoints" / "last.pt").is_file():
            raise ConfigError(f"{source} holds no training state (checkpoints/last.pt) to continue")
        dest = self.out / "runs" / stage.key
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("best.pt", "samples", "tensorboard"))
        ckpt = load_training_checkpoint(dest)
        # best.pt is chosen among this session's validations only (the first one included): the run's old best
        # was scored on its own data, which the campaign's may not be
        ckpt["best"] = {}
        atomic_torch_save(ckpt, dest / "checkpoints" / "last.pt")
        cfg = TrainConfig.from_dict(ckpt["config"])
        step = int(ckpt["step"])
        factor = lr_factor(cfg, step)  # continue at the rate it had reached, held constant
        overrides = {**self.common_settings(), "steps": step + self.step_cap(), "lr_schedule": "constant",
                     "warmup_steps": 0, "lr": cfg.lr * factor, "d_lr": cfg.d_lr * factor}
        if self.device.type == "cpu" and CPU_BATCH[self.opts.preset]:
            overrides["batch_size"] = CPU_BATCH[self.opts.preset]
        return dest, overrides

    def merge_config(self, stage: Stage) -> TrainConfig:
        from trainer.state import load_training_checkpoint

        configs = [load_training_checkpoint(self.runs[k])["config"] for k in stage.seeds]
        network: dict[str, Any] = {}
        for c in configs:
            network.update(c.get("network") or {})
        first = configs[0]  # the scale of the first seed: its critics' shapes depend on the crop size
        return merge(TrainConfig(recipe=stage.recipe, stage=stage.stage), {
            **{k: first[k] for k in ("width", "image_size", "batch_size", "seed", "damage", "mask_kind") if k in first},
            **self.common_settings(), "network": network, "steps": 0, "feature_trunk": "none",
            "init_from": ",".join(str(self.runs[k]) for k in stage.seeds),
            "run_dir": str(self.out / "runs" / stage.key)}, "campaign merge")

    def probe_batch(self, cfg: TrainConfig) -> int:
        probe = self.opts.probe if self.opts.probe is not None else self.device.type == "cuda"
        if not probe:
            return cfg.batch_size
        from trainer.data import list_images
        from trainer.loop import default_data_dirs

        # never more than one epoch's photos: the loop needs at least one whole batch per epoch
        limit = min(self.opts.max_batch, max(1, len(list_images(default_data_dirs(cfg)[0]))))
        size = largest_batch(lambda b: try_training_step(cfg, b, self.device), min(cfg.batch_size, 4, limit),
                             limit, on_oom=free_cuda)
        free_cuda()
        self.log(f"{cfg.recipe} {cfg.stage}: batch {size} (the largest that fitted)".replace("  ", " "))
        return size

    def run_stage(self, model: ModelPlan, stage: Stage, deadline: float) -> dict[str, Any]:
        from trainer.loop import train
        from trainer.state import load_training_checkpoint

        started = time.monotonic()
        before: dict[str, float] = {}
        if stage.merge:
            cfg = self.merge_config(stage)
            result = train(cfg, log=self.log)
        elif stage.resume:
            run_dir, overrides = self.resume_overrides(stage)
            ckpt = load_training_checkpoint(run_dir)
            start_step = int(ckpt["step"])
            cfg = merge(TrainConfig.from_dict(ckpt["config"]), overrides, "campaign")
            overrides["batch_size"] = self.probe_batch(cfg)
            # validated first on this campaign's data: the "before" numbers, and best.pt never falls below them
            result = train(resume=run_dir, overrides=overrides, log=self.log, deadline=deadline,
                           validate_at_start=True)
        else:
            cfg = self.fresh_config(model, stage)
            cfg.batch_size = self.probe_batch(cfg)
            result = train(cfg, log=self.log, deadline=deadline)
        if not stage.resume:
            start_step = 0
        before = _validation_at(result.run_dir, start_step)
        self.runs[stage.key] = result.run_dir
        final = load_training_checkpoint(result.run_dir)
        return {
            "model": model.name, "stage": stage.key, "recipe": stage.recipe, "recipe_stage": stage.stage,
            "run_dir": str(result.run_dir), "continued_from": stage.resume or None, "merge": stage.merge,
            "start_step": start_step, "end_step": result.step, "steps": result.step - start_step,
            "batch_size": int(final["config"]["batch_size"]), "width": float(final["config"]["width"]),
            "image_size": int(final["config"]["image_size"]), "stopped": result.stopped,
            "minutes": round((time.monotonic() - started) / 60, 2),
            "before": _rounded(before), "after": _rounded(result.metrics or dict(final.get("last_val") or {})),
        }

    # --- after training ---
    def finish_model(self, model: ModelPlan, last_stage: Stage) -> dict[str, Any]:
        from inpaint_studio.engine.floor import floor_check
        from trainer.export import export_run

        name = f"{model.export}-{EXPORT_SUFFIX[self.opts.preset]}"
        started = time.monotonic()
        path = export_run(self.runs[last_stage.key], self.out / "models" / name, half=True, overwrite=True)
        entry: dict[str, Any] = {"model": model.name, "export": str(path), "name": name}
        entry["tune"] = self.tune_export(path, model.method, name)
        floor = floor_check(model.method, path)
        entry["floor"] = {"passed": floor.passed, "l1_hole": round(floor.l1_hole, 3),
                          "flat_l1_hole": round(floor.flat_l1_hole, 3), "periodic": round(floor.periodic, 3),
                          "words": floor.describe()}
        self.log(f"{name}: floor {'passed' if floor.passed else 'NOT passed'}: {floor.describe()}")
        if not floor.passed:
            entry["shipped"] = "no: below the floor (engine/floor.py)"
        elif self.opts.ship:
            entry["shipped"] = str(self.ship(path, name))
        else:
            entry["shipped"] = "no: --ship not given"
        entry["minutes"] = round((time.monotonic() - started) / 60, 2)
        return entry

    def tune_export(self, path: Path, method: str, name: str) -> dict[str, Any]:
        """`trainer tune --record` on the export: the working size (every learned fill; trivial at the paper's
        256² crops) and VCNet's blind detector × fill; what it chose, for the report."""
        from inpaint_studio.engine.checkpoints import read_metadata
        from trainer.tuning import tune_checkpoint

        if not self.opts.tune:
            return {"skipped": "--no-tune"}
        folder = self.opts.val_data or self.opts.data
        try:
            tune_checkpoint(path, Path(folder) if folder else None, limit=self.opts.tune_limit,
                            size=self.opts.tune_size, record=True, log=self.log)
        except InpaintStudioError as exc:  # too few photos: the export keeps its defaults
            self.log(f"{name}: tune skipped: {exc}")
            return {"skipped": str(exc)}
        meta = read_metadata(path)
        chosen: dict[str, Any] = {"working_size": (meta.get("inference") or {}).get("working_size")}
        if method == "vcnet":
            blind = meta.get("blind") or {}
            chosen["blind"] = {k: blind[k] for k in ("detector", "fill", "threshold") if k in blind}
        return chosen

    def ship(self, path: Path, name: str) -> Path:
        from inpaint_studio.engine.sample_check import record

        dest = self.models_dir
        for suffix in (".safetensors", ".json", ".md", ".curve.png"):
            src = path.with_name(name + suffix)
            if src.is_file():  # atomic: the app may be reading the shipped file of that name
                atomic_write(dest / src.name, lambda tmp, src=src: shutil.copyfile(src, tmp))
        shipped = dest / f"{name}.safetensors"
        record(shipped)
        self.log(f"{name}: shipped to {shipped} (sample check recorded)")
        self.carry_texture(shipped)
        return shipped

    def carry_texture(self, shipped: Path) -> None:
        """A shipped textured checkpoint of the same method (`trainer fusion`) sorts first and is what the engine
        runs: it is rewritten around the new export, keeping its texture stage, so the new weights are used."""
        from inpaint_studio.engine.checkpoints import load_checkpoint, read_metadata
        from inpaint_studio.engine.sample_check import record
        from trainer.fusion import carry_texture_stage

        method = read_metadata(shipped)["method"]
        for path in sorted(self.models_dir.glob("*.safetensors")):
            if path.resolve() == shipped.resolve() or not path.with_suffix(".json").is_file():
                continue
            ckpt = load_checkpoint(path)
            if ckpt.method == method and "texture_fusion" in ckpt.components:
                record(carry_texture_stage(path, shipped))
                self.log(f"{path.stem}: its texture stage now runs on {shipped.stem} (sample check recorded)")

    def remeasure_table(self, passed: list[Path]) -> dict[str, Any]:
        """benchmarks/model_table.py as a subprocess: into models/ when shipping; else into the campaign folder,
        run on a stand-in of models/ (INPAINT_STUDIO_MODELS_DIR) where the exports that cleared the floor replace
        the shipped checkpoints of their methods: the table as it would be if they were shipped."""
        from inpaint_studio.engine.checkpoints import read_metadata

        before = table_summary(self.models_dir / "table.json")
        env = dict(os.environ)
        if self.opts.ship:
            out = self.models_dir
        else:
            out = self.out / "table"
            view = self.out / "models-as-shipped"
            view.mkdir(parents=True, exist_ok=True)
            replaced = {read_metadata(p)["method"] for p in passed}
            for json_path in sorted(self.models_dir.glob("*.json")):
                st_path = json_path.with_suffix(".safetensors")
                try:
                    keep = not st_path.is_file() or read_metadata(st_path)["method"] not in replaced
                except InpaintStudioError:
                    keep = True  # table.json and other JSON: not a checkpoint, kept as they are
                for src in (json_path, st_path):
                    if keep and src.is_file():
                        shutil.copyfile(src, view / src.name)
            for p in passed:
                for suffix in (".safetensors", ".json"):
                    shutil.copyfile(p.with_suffix(suffix), view / p.with_suffix(suffix).name)
            env["INPAINT_STUDIO_MODELS_DIR"] = str(view)
        limit = self.opts.table_limit
        cmd = [sys.executable, str(PROJECT_ROOT / "benchmarks" / "model_table.py"), "--limit", str(limit),
               "--large-limit", str(max(1, limit // 2)), "--out", str(out)]
        self.log("model table: " + " ".join(cmd[1:]))
        started = time.monotonic()
        with (self.out / "table.log").open("w", encoding="utf-8") as fh:
            code = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT).returncode
        after = table_summary(out / "table.json") if code == 0 else {}
        return {"command": " ".join(cmd[1:]), "exit_code": code, "out": str(out), "before": before, "after": after,
                "minutes": round((time.monotonic() - started) / 60, 2)}

    def run(self) -> dict[str, Any]:
        threads = torch.get_num_threads()
        if self.opts.threads > 0:  # export, tune and the floor check too (the loop sets it per stage)
            torch.set_num_threads(self.opts.threads)
        try:
            return self._run()
        finally:
            torch.set_num_threads(threads)

    def _run(self) -> dict[str, Any]:
        self.out.mkdir(parents=True, exist_ok=True)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed crop sizes: let cuDNN pick its fastest kernels
        started = time.monotonic()
        train_end = started + self.opts.minutes * 60 * (1 - RESERVE)
        shares = stage_shares(self.models)
        pending = [s.key for m in self.models for s in m.stages if not s.merge]
        self.log(f"campaign: {self.opts.preset} preset on {self.device}, {self.opts.minutes:g} min "
                 f"({(1 - RESERVE) * self.opts.minutes:.1f} min training); out {self.out}")
        failed: dict[str, str] = {}
        for model in self.models:
            for stage in model.stages:
                deadline = time.monotonic()
                if not stage.merge:
                    seconds = stage_seconds(train_end - time.monotonic(), shares[stage.key],
                                            [shares[k] for k in pending])
                    pending.remove(stage.key)
                    deadline += seconds
                    if model.name not in failed:
                        self.log(f"{stage.key}: {seconds / 60:.1f} min")
                if model.name in failed:
                    continue  # its time goes to the next model
                try:
                    row = self.run_stage(model, stage, deadline)
                except STAGE_ERRORS as exc:  # the other models still train; the report says what stopped this one
                    failed[model.name] = f"{stage.key}: {str(exc).splitlines()[0]}"
                    self.log(f"{model.name} stopped: {failed[model.name]}")
                    free_cuda()
                    continue
                self.report["stages"].append(row)
                self.write_report()
        self.report["training_minutes"] = round((time.monotonic() - started) / 60, 2)
        for model in self.models:  # after all training, so no model's checks eat another's training time
            if model.name in failed:
                self.report["models"].append({"model": model.name, "error": failed[model.name]})
            else:
                self.report["models"].append(self.finish_model(model, model.stages[-1]))
            self.write_report()
        self.report["minutes"] = round((time.monotonic() - started) / 60, 2)
        if self.opts.table:
            passed = [Path(m["export"]) for m in self.report["models"] if m.get("floor", {}).get("passed")]
            self.report["table"] = self.remeasure_table(passed)
        self.report["total_minutes"] = round((time.monotonic() - started) / 60, 2)
        self.write_report()
        return self.report

    def write_report(self) -> None:
        atomic_write_text(self.out / "campaign.json", json.dumps(self.report, indent=1) + "\n")
        atomic_write_text(self.out / "campaign.md", report_markdown(self.report))


def _rounded(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(float(v), 4) for k, v in metrics.items()}


def _validation_at(run_dir: Path, step: int) -> dict[str, float]:
    """The run's last validation row at `step` (the session's starting point: step 0 for a fresh run)."""
    import csv

    path = Path(run_dir) / "val.csv"
    if not path.is_file():
        return {}
    found: dict[str, float] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("step") == str(step):
                found = {k: float(v) for k, v in row.items() if k != "step" and v not in ("", None)}
    return found


def run_campaign(opts: CampaignOptions, log: Callable[[str], None] = print) -> dict[str, Any]:
    return Campaign(opts, log).run()
