"""The training loop shared by every recipe: device, seeding, AMP, DDP, data order, validation next to
Telea, logs, sample grids, atomic checkpoints, exact resume, Ctrl+C and NaN handling.

Data order is a pure function of (seed, step): each epoch's permutation comes from DistributedSampler
(seeded, `set_epoch`) and each sample's crop/mask from its own generator (see `trainer.data`). A resumed
run therefore only needs the step to rebuild the exact remaining batches; networks, optimizers, scaler and
RNG states come from the checkpoint.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler

from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.paths import user_cache_dir, user_data_dir
from inpaint_studio.engine.device import resolve_device
from trainer import distributed
from trainer.config import ConfigError, TrainConfig, init_sources, merge
from trainer.data import DataError, InpaintingDataset, MaskFolder, synthetic_mask_fn, to_tensors
from trainer.hed import load_feature_trunk
from trainer.prefill import PrefillSource
from trainer.recipes import get_recipe
from trainer.recipes.base import Recipe
from trainer.runlog import CsvLog, TensorBoard, draw_plot
from trainer.seeding import seed_plan
from trainer.state import (
    TRAINING_FORMAT,
    TRAINING_VERSION,
    atomic_torch_save,
    capture_rng,
    load_training_checkpoint,
    restore_rng,
)
from trainer.validation import Validator


class TrainingDiverged(InpaintStudioError):
    """A loss became NaN or infinite; the run stopped and its last good checkpoint was kept."""


@dataclass
class RunResult:
    run_dir: Path
    step: int
    stopped: str  # "done" | "interrupted" | "paused" (stop_at reached) | "deadline" (time ran out)
    metrics: dict[str, float] = field(default_factory=dict)
    best: dict[str, Any] = field(default_factory=dict)
    recipe: Recipe | None = None  # the trained networks, for callers that go on using them in-process


def build_config(recipe: str, stage: str = "", file_options: dict[str, Any] | None = None,
                 cli_options: dict[str, Any] | None = None) -> TrainConfig:
    """Recipe defaults (the paper's) ← config file ← command line."""
    cls = get_recipe(recipe)
    file_options = dict(file_options or {})
    stage = stage or str(file_options.get("stage") or "") or cls.default_stage()
    cfg = merge(TrainConfig(recipe=recipe, stage=stage), cls.defaults(stage), "recipe defaults")
    cfg = merge(cfg, file_options, "config file")
    return merge(cfg, cli_options or {}, "command line")


def default_data_dirs(cfg: TrainConfig) -> tuple[Path, Path]:
    photos = user_cache_dir() / "photos"
    train = Path(cfg.data) if cfg.data else photos / "train"
    val = Path(cfg.val_data) if cfg.val_data else (photos / "val" if not cfg.data else train)
    if not cfg.data and not train.is_dir():
        raise DataError(f"no training images at {train}: run `python -m trainer fetch-photos` or pass --data DIR")
    return train, val


def make_datasets(cfg: TrainConfig, recipe: Recipe) -> tuple[InpaintingDataset, InpaintingDataset]:
    needs = recipe.needs()
    train_dir, val_dir = default_data_dirs(cfg)
    if needs.damage:
        mask_fn, damage = None, [k for k in cfg.damage if k not in cfg.hold_out]
        if not damage:
            raise DataError(f"every damage kind of --damage ({', '.join(cfg.damage)}) is held out: nothing to train on")
    else:
        mask_fn = MaskFolder(Path(cfg.mask_dir)) if cfg.mask_dir else synthetic_mask_fn(cfg.mask_kind, cfg.hole_ratio)
        damage = None
    prefill = PrefillSource(needs.prefill, cfg.network.get("prefill_cache") or None) if needs.prefill else None
    common = {"mask_fn": mask_fn, "edges": needs.edges, "edge_sigma": cfg.edge_sigma, "damage": damage,
              "seed": cfg.seed, "crop_min": cfg.crop_min, "prefill": prefill,
              "translucent_negatives": cfg.translucent_negatives}
    train = InpaintingDataset(train_dir, cfg.image_size, train=True, cache_mb=cfg.cache_mb, **common)
    val = InpaintingDataset(val_dir, cfg.image_size, train=False, limit=cfg.val_images, **common)
    return train, val


def make_unseen_dataset(cfg: TrainConfig, recipe: Recipe) -> InpaintingDataset | None:
    """Validation photos damaged by the held-out kinds only (None when nothing is held out)."""
    if not cfg.hold_out or not recipe.needs().damage:
        return None
    _, val_dir = default_data_dirs(cfg)
    return InpaintingDataset(val_dir, cfg.image_size, train=False, limit=cfg.val_images, damage=cfg.hold_out,
                             edges=recipe.needs().edges, edge_sigma=cfg.edge_sigma, seed=cfg.seed + 1,
                             crop_min=cfg.crop_min, translucent_negatives=cfg.translucent_negatives)


def pick_device(cfg: TrainConfig, d: distributed.Dist) -> torch.device:
    name = resolve_device(cfg.device)
    if name == "cuda":
        return torch.device("cuda", d.local_rank if d.enabled else torch.cuda.current_device())
    return torch.device(name)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextmanager
def _sigint_flag() -> Iterator[Callable[[], bool]]:
    """Turn the first Ctrl+C into a flag checked between steps (a half-done step is never saved); a
    second Ctrl+C interrupts at once."""
    hit = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield hit.is_set
        return

    def handler(signum: int, frame: Any) -> None:
        if hit.is_set():
            raise KeyboardInterrupt
        hit.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield hit.is_set
    finally:
        signal.signal(signal.SIGINT, previous)


class _Run:
    """State of one training session (single rank's view)."""

    def __init__(self, cfg: TrainConfig, d: distributed.Dist, log: Callable[[str], None]) -> None:
        self.cfg, self.d, self.log = cfg, d, log
        self.device = pick_device(cfg, d)
        self.run_dir = Path(cfg.run_dir)
        self.step = 0
        self.best: dict[str, Any] = {}
        self.last_val: dict[str, float] = {}
        self.wall_time = 0.0

    def checkpoint(self, recipe: Recipe) -> dict[str, Any]:
        return {
            "format": TRAINING_FORMAT, "version": TRAINING_VERSION,
            "recipe": self.cfg.recipe, "stage": self.cfg.stage, "step": self.step,
            "config": self.cfg.to_dict(),
            "models": {k: m.state_dict() for k, m in recipe.nets.items()},
            "optimizers": {k: o.state_dict() for k, o in recipe.optims.items()},
            "scaler": recipe.scaler.state_dict() if recipe.scaler is not None else None,
            "rng": capture_rng(),
            "best": self.best, "last_val": self.last_val, "wall_time": self.wall_time,
            "device": str(self.device), "world_size": self.d.world,
            "vgg_terms_off": [] if recipe.vgg is not None else recipe.vgg_terms(),
            "feature_trunk": self.cfg.feature_trunk,
        }

    def save(self, recipe: Recipe, name: str = "last.pt") -> Path:
        path = self.run_dir / "checkpoints" / name
        atomic_torch_save(self.checkpoint(recipe), path)
        return path


def train(
    cfg: TrainConfig | None = None,
    *,
    resume: Path | None = None,
    overrides: dict[str, Any] | None = None,
    stop_at: int | None = None,
    log: Callable[[str], None] | None = None,
    deadline: float | None = None,
    validate_at_start: bool = False,
) -> RunResult:
    """Train `cfg` (a fresh run) or continue the run in `resume` (its saved config, plus `overrides`
    such as a larger `steps`). `stop_at` pauses after that many total steps, saving a checkpoint.
    `deadline` (a `time.monotonic()` value) ends the run after the first step that reaches it: it validates,
    saves and returns "deadline" (the campaign's time budget). `validate_at_start` validates a resumed run before
    its first step too (a fresh run always is): the starting point on this session's data, a candidate for best.pt."""
    ckpt: dict[str, Any] | None = None
    if resume is not None:
        ckpt = load_training_checkpoint(resume)
        cfg = merge(TrainConfig.from_dict(ckpt["config"]), overrides or {}, "command line")
        cfg.run_dir = str(Path(resume) if Path(resume).is_dir() else Path(resume).parent.parent)
    elif cfg is None:
        raise ConfigError("train() needs a config or a run to resume")
    assert cfg is not None
    if not cfg.run_dir:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        cfg.run_dir = str(user_data_dir() / "runs" / f"{cfg.recipe}{'-' + cfg.stage if cfg.stage else ''}-{stamp}")

    d = distributed.init_from_env(resolve_device(cfg.device))
    threads = torch.get_num_threads()
    new_dir = not Path(cfg.run_dir).exists()
    try:
        return _train(cfg, d, ckpt, stop_at, log, deadline, validate_at_start)
    except BaseException:
        if new_dir and d.main:
            _drop_unstarted_run(Path(cfg.run_dir))
        raise
    finally:
        torch.set_num_threads(threads)
        distributed.shutdown(d)


def _drop_unstarted_run(run_dir: Path) -> None:
    """A run that failed before its first checkpoint (a refused --init-from, too few images) leaves no folder
    behind: it holds nothing to resume, and an empty run would be listed beside the real ones."""
    if run_dir.is_dir() and not (run_dir / "checkpoints").exists():
        shutil.rmtree(run_dir, ignore_errors=True)


def _train(cfg: TrainConfig, d: distributed.Dist, ckpt: dict[str, Any] | None, stop_at: int | None,
           log_fn: Callable[[str], None] | None, deadline: float | None = None,
           validate_at_start: bool = False) -> RunResult:
    run_dir = Path(cfg.run_dir)
    if ckpt is None and (run_dir / "checkpoints" / "last.pt").exists():
        raise ConfigError(f"{run_dir} already holds a training run: continue it with --resume {run_dir} "
                          "or choose another --run-dir")
    if d.main:
        run_dir.mkdir(parents=True, exist_ok=True)
    text_log = run_dir / "train.log"

    def log(msg: str) -> None:
        if not d.main:
            return
        (log_fn or _tqdm_write)(msg)
        with text_log.open("a", encoding="utf-8") as fh:
            fh.write(msg + "\n")

    run = _Run(cfg, d, log)
    device = run.device
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    _seed_everything(cfg.seed)
    # the resolved trunk is stored in cfg so a resumed run keeps it even if the cache changes
    requested_trunk = cfg.feature_trunk
    cfg.feature_trunk, vgg = load_feature_trunk(requested_trunk, cfg.vgg_weights)
    vgg = vgg.to(device) if vgg is not None else None
    recipe = get_recipe(cfg.recipe)(cfg, device, vgg)
    recipe.prefill()  # a prefill the recipe lacks (or an unknown fill) fails before any work
    try:
        recipe.build()
    except ValueError as exc:  # a network refusing its `network.*` settings: the user's input, said in one line
        raise ConfigError(f"network settings: {exc}") from None
    # base rates as built from the config (before a resumed optimizer state replaces them), so a resumed
    # run may change --lr; the schedule scales them every step
    base_lrs = {name: [g["lr"] for g in opt.param_groups] for name, opt in recipe.optims.items()}
    if recipe.vgg_terms():
        if vgg is None:
            why = ("--feature-trunk none" if requested_trunk == "none" else
                   "no VGG19 weights (--vgg-weights) and no HED trunk (python -m trainer fetch-hed)")
            log(f"{why}: the {', '.join(recipe.vgg_terms())} loss terms are off")
        else:
            log(f"feature trunk {cfg.feature_trunk} for the {', '.join(recipe.vgg_terms())} loss terms")
    speed_settings(recipe, cfg, device)

    if ckpt is not None:
        _restore(run, recipe, ckpt)
        log(f"resumed {run_dir} at step {run.step}")
    elif cfg.init_from:
        # Several runs may seed one stage (EdgeConnect's joint stage from its edge and inpaint runs).
        # Each network comes from the last source whose stage trained it (`trainer.seeding`).
        sources = [(src, load_training_checkpoint(src)) for src in init_sources(cfg.init_from)]
        for source, models in seed_plan(sources):
            seeded = recipe.init_from_state(models)
            log(f"initialised {', '.join(seeded) or 'nothing'} from {source}")
    recipe.wrap(distributed.wrapper(d, device))
    recipe.train_mode(True)
    lr_factor(cfg, run.step)  # an unknown schedule fails before any work

    train_ds, val_ds = make_datasets(cfg, recipe)
    sampler = DistributedSampler(train_ds, num_replicas=d.world, rank=d.rank, shuffle=True, seed=cfg.seed,
                                 drop_last=True)
    per_epoch = len(sampler) // cfg.batch_size
    if per_epoch == 0:
        raise DataError(f"{len(train_ds)} training images are fewer than one batch of {cfg.batch_size} per process")
    validator = Validator(val_ds, cfg.val_images, cfg.batch_size) if d.main else None
    unseen_ds = make_unseen_dataset(cfg, recipe)
    unseen = Validator(unseen_ds, cfg.val_images, cfg.batch_size) if d.main and unseen_ds is not None else None
    train_csv = CsvLog(run_dir / "log.csv") if d.main else None
    val_csv = CsvLog(run_dir / "val.csv") if d.main else None
    tb = TensorBoard(run_dir / "tensorboard") if d.main else None
    if d.main:
        assert train_csv is not None and val_csv is not None
        train_csv.truncate_after(run.step)
        val_csv.truncate_after(run.step)
        (run_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1) + "\n", encoding="utf-8")
        log(f"{cfg.recipe}{' ' + cfg.stage if cfg.stage else ''}: {len(train_ds)} training images, "
            f"{len(val_ds)} validation, {cfg.image_size}², batch {cfg.batch_size}×{d.world}, device {device}"
            f"{', AMP' if recipe.scaler else ''}; run dir {run_dir}")
        if tb is not None and not tb.enabled:
            log("TensorBoard not installed: logging to CSV and plot.png only")

    def validate() -> None:
        if validator is None:
            return
        metrics, outputs = validator.evaluate(recipe, device)
        run.last_val = metrics
        assert val_csv is not None
        row = dict(metrics)
        if unseen is not None:  # held-out damage: reported beside, never chosen on (yet)
            row.update({f"unseen_{k}": v for k, v in unseen.evaluate(recipe, device)[0].items()})
        val_csv.append({"step": run.step, **{k: f"{v:.6g}" for k, v in row.items()}})
        if tb is not None:
            tb.scalars("val", metrics, run.step)
        validator.grid(outputs, run_dir / "samples" / f"val_{run.step:07d}.png")
        key = recipe.best_key()
        summary = ", ".join(f"{k} {metrics[k]:.4g}" for k in (key, f"telea_{key}", "psnr", "telea_psnr",
                                                               "mask_iou") if k in metrics)
        log(f"step {run.step}: validation {summary}")
        if key in metrics and run.step > 0 and (not run.best or metrics[key] < run.best["value"]):
            run.best = {"step": run.step, "metric": key, "value": metrics[key], "metrics": metrics}
            run.save(recipe, "best.pt")

    if (ckpt is None or validate_at_start) and d.main:
        validate()  # step 0: the untrained network next to Telea, the reference every later score beats

    bar = None
    if d.main and cfg.progress:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=run.step, desc=f"{cfg.recipe} {cfg.stage}".strip(), dynamic_ncols=True)
    session_start = time.perf_counter()
    base_wall = run.wall_time
    stopped = "done"
    with _sigint_flag() as interrupted:
        while run.step < cfg.steps and stopped == "done":
            epoch, offset = divmod(run.step, per_epoch)
            sampler.set_epoch(epoch)
            train_ds.set_epoch(epoch)
            order = list(sampler)
            batches = [order[i * cfg.batch_size : (i + 1) * cfg.batch_size] for i in range(offset, per_epoch)]
            # A private generator: creating a loader draws a worker seed, which must not advance the global
            # torch RNG (a resumed run creates a different number of loaders).
            loader = DataLoader(train_ds, batch_sampler=batches, collate_fn=to_tensors, num_workers=cfg.workers,
                                generator=torch.Generator().manual_seed(cfg.seed * 100003 + epoch))
            for batch in loader:
                batch = to_device(batch, device, cfg.channels_last)
                _apply_lr(recipe, base_lrs, lr_factor(cfg, run.step))
                recipe.step = run.step
                losses = recipe.train_step(batch)
                if recipe.scaler is not None:
                    recipe.scaler.update()
                values = {k: float(v) for k, v in losses.items()}
                bad = [k for k, v in values.items() if not math.isfinite(v)]
                if distributed.any_rank(bool(bad), d, device):
                    last = run.run_dir / "checkpoints" / "last.pt"
                    kept = f"the last good checkpoint is {last}" if last.is_file() else "no checkpoint was written yet"
                    if bar is not None:
                        bar.close()
                    raise TrainingDiverged(
                        f"loss {', '.join(bad) or 'on another rank'} became non-finite at step {run.step + 1}; "
                        f"stopped without saving — {kept} (lower the learning rate or turn AMP off, then --resume)"
                    )
                run.step += 1
                run.wall_time = base_wall + time.perf_counter() - session_start
                out_of_time = distributed.any_rank(deadline is not None and time.monotonic() >= deadline, d, device)
                if d.main:
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix({k: f"{v:.3g}" for k, v in list(values.items())[:5]}, refresh=False)
                    if _due(run.step, cfg.log_every) or run.step == cfg.steps:
                        assert train_csv is not None
                        train_csv.append({"step": run.step, "epoch": epoch, "wall_time": f"{run.wall_time:.2f}",
                                          **{k: f"{v:.6g}" for k, v in values.items()}})
                        if tb is not None:
                            tb.scalars("train", values, run.step)
                    if _due(run.step, cfg.val_every) or run.step == cfg.steps or out_of_time:
                        validate()
                        _plot(run_dir, train_csv, val_csv, recipe)
                    if _due(run.step, cfg.sample_every) and not _due(run.step, cfg.val_every):
                        assert validator is not None
                        _, outputs = validator.evaluate(recipe, device)
                        validator.grid(outputs, run_dir / "samples" / f"val_{run.step:07d}.png")
                stop_now = distributed.any_rank(interrupted(), d, device)
                pause = stop_at is not None and run.step >= stop_at
                if d.main and (_due(run.step, cfg.checkpoint_every) or run.step == cfg.steps or stop_now or pause
                               or out_of_time):
                    run.save(recipe)
                if stop_now:
                    stopped = "interrupted"
                    log(f"interrupted: saved step {run.step} to {run_dir / 'checkpoints' / 'last.pt'}; "
                        f"continue with `python -m trainer train --resume {run_dir}`")
                    break
                if pause:
                    stopped = "paused"
                    break
                if out_of_time:
                    stopped = "deadline"
                    log(f"time budget reached: saved step {run.step} to {run_dir / 'checkpoints' / 'last.pt'}")
                    break
                if run.step >= cfg.steps:
                    break
            if d.main:
                _plot(run_dir, train_csv, val_csv, recipe)
    if bar is not None:
        bar.close()
    if d.main and stopped == "done" and not (run_dir / "checkpoints" / "last.pt").is_file():
        run.save(recipe)  # a zero-step run (networks merged from init_from runs) still leaves its checkpoint
    if tb is not None:
        tb.close()
    distributed.barrier(d)
    return RunResult(run_dir, run.step, stopped, run.last_val, run.best, recipe)


def speed_settings(recipe: Recipe, cfg: TrainConfig, device: torch.device) -> None:
    """Mixed precision on CUDA (`amp`) and the channels-last memory layout (`channels_last`, for tensor cores);
    shared by the loop and the campaign's batch-size probe so the probe measures what training will use."""
    if device.type == "cuda" and cfg.amp:
        recipe.scaler = torch.amp.GradScaler("cuda")
        recipe.autocast = lambda: torch.autocast("cuda", dtype=torch.float16)
    if cfg.channels_last:
        for net in recipe.nets.values():
            net.to(memory_format=torch.channels_last)


def to_device(batch: dict[str, torch.Tensor], device: torch.device, channels_last: bool) -> dict[str, torch.Tensor]:
    """A collated batch on the training device (images in channels-last layout when asked)."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return {k: v.to(device, non_blocking=True, memory_format=fmt) if v.dim() == 4 else v.to(device, non_blocking=True)
            for k, v in batch.items()}


def lr_factor(cfg: TrainConfig, step: int) -> float:
    """The schedule's factor on the base learning rates before optimizer step `step + 1`."""
    if cfg.warmup_steps > 0 and step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    if cfg.lr_schedule == "constant":
        return 1.0
    if cfg.lr_schedule == "cosine":
        span = max(1, cfg.steps - cfg.warmup_steps)
        t = min(1.0, (step - cfg.warmup_steps) / span)
        return cfg.lr_min_ratio + (1.0 - cfg.lr_min_ratio) * 0.5 * (1.0 + math.cos(math.pi * t))
    raise ConfigError(f"unknown lr_schedule '{cfg.lr_schedule}' (constant | cosine)")


def _apply_lr(recipe: Recipe, base_lrs: dict[str, list[float]], factor: float) -> None:
    for name, opt in recipe.optims.items():
        for group, base in zip(opt.param_groups, base_lrs[name], strict=True):
            group["lr"] = base * factor


def _due(step: int, every: int) -> bool:
    """Every `every` steps; 0 (or less) means never."""
    return every > 0 and step % every == 0


def _restore(run: _Run, recipe: Recipe, ckpt: dict[str, Any]) -> None:
    if ckpt["recipe"] != run.cfg.recipe or ckpt.get("stage", "") != run.cfg.stage:
        raise ConfigError(f"checkpoint is {ckpt['recipe']} {ckpt.get('stage', '')}, not {run.cfg.recipe} {run.cfg.stage}")
    for name, state in ckpt["models"].items():
        recipe.nets[name].load_state_dict(state)
    for name, state in ckpt["optimizers"].items():
        recipe.optims[name].load_state_dict(state)
    if recipe.scaler is not None and ckpt.get("scaler"):
        recipe.scaler.load_state_dict(ckpt["scaler"])
    run.step = int(ckpt["step"])
    run.best = dict(ckpt.get("best") or {})
    run.last_val = dict(ckpt.get("last_val") or {})
    run.wall_time = float(ckpt.get("wall_time", 0.0))
    restore_rng(ckpt["rng"])


def _plot(run_dir: Path, train_csv: CsvLog | None, val_csv: CsvLog | None, recipe: Recipe) -> None:
    if train_csv is None or val_csv is None:
        return
    loss_keys = [c for c in train_csv.columns if c not in ("step", "epoch", "wall_time")]
    key = recipe.best_key()
    val_keys = [k for k in (key, f"telea_{key}") if k in val_csv.columns]
    psnr_keys = [k for k in ("psnr", "telea_psnr", "mask_iou") if k in val_csv.columns]
    panels = [("training losses", train_csv.rows, loss_keys), (f"validation {key} (lower is better)", val_csv.rows, val_keys)]
    if psnr_keys:
        panels.append(("validation PSNR / IoU (higher is better)", val_csv.rows, psnr_keys))
    draw_plot(panels, run_dir / "plot.png")


def _tqdm_write(msg: str) -> None:
    from tqdm import tqdm

    tqdm.write(msg)
