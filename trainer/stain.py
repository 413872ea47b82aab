"""`python -m trainer stain`: train the stain network (`networks.stain_net`) that finds translucent damage for
VCNet's blind runs, resume it, and put it into a VCNet checkpoint as its `stain` component.

Samples: a training photo scaled to ~512 px (×0.6–1.0), damaged whole (so each family keeps its size at 512²),
then a random crop. Most carry a stain from the training families (`--families`, default `stain` — the old
synthetic kind — and `tint`, `core.damage_families.tint_blots`: random darkening tints over blots, spots,
streaks and rims); some are clean, some carry opaque damage of the seen kinds (a stroke is not a stain). The
network learns *where* the stain visibly changed the photo (`stain_target`, BCE; 0 on clean and opaque
samples) and, with `--outputs 2`, *how strongly* (`darkening`: the share of light the stain takes, L1 where
stained) — the tint removal inverts a tint exactly only given a map proportional to the true strength. Coffee, water, foxing, fading and yellowing are never drawn: the report measures the network on them
as unseen damage.

Validation: fixed crops of validation photos, seen and unseen families side by side: the map's mean absolute
error where stained, IoU and the share of a clean crop it marks (above the run's `--threshold`, 0.1), and the
PSNR gain of `core.tint.remove_tint` driven by the predicted map.

The run directory keeps `last.pt` (network, optimiser, step, numpy generator: a dict of tensors and
primitives, loaded with `weights_only=True`), `log.jsonl` and `run.json` (the settings). Finished runs keep
weights only (`--finish`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from inpaint_studio.core.atomic import atomic_write, atomic_write_text
from inpaint_studio.core.damage_families import SEEN, Damage, draw_damage, lift_blots, speck_tints, tint_blots
from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.metrics import psnr
from inpaint_studio.core.sections import replace_section
from inpaint_studio.core.stains import confirmed_stains
from inpaint_studio.core.tint import remove_tint
from trainer.blind_choice import CLEAN_CAP

NETWORK = "stain_unet"
TRAIN_FAMILIES = ("stain", "tint", "lift", "specks")
# Opaque damage shown as negatives: the seen opaque kinds only (the unseen ones stay unseen).
NEGATIVES = tuple(f for f in SEEN if f != "stain")
VAL_FAMILIES = ("stain", "tint", "coffee", "foxing", "water", "spill")
PHOTO_SIDE = 512
CLEAN_SHARE, NEGATIVE_SHARE = 0.15, 0.15
# With mined hard negatives (`--hard-negatives-from`), this share of samples is a clean crop around a pixel that
# the mining network took for a stain on a clean training photo (its own browns and shadows).
HARD_SHARE = 0.2
HARD_WHERE = 0.5  # the mining network's `where` at or above this on a clean photo is a hard negative
STAINED = 0.03  # target strength above this counts as stained
DEFAULT_STEPS = 6000
PSNR_CAP = CLEAN_CAP  # an unchanged crop's PSNR is infinite: capped as `trainer tune` caps it


def draw_family(image: np.ndarray, rng: np.random.Generator, family: str) -> Damage:
    """`draw_damage`, plus the stain network's own training families `tint` (darkening), `lift` (fading) and
    `specks` (many small tinted dots)."""
    own = {"tint": tint_blots, "lift": lift_blots, "specks": speck_tints}
    return own[family](image, rng) if family in own else draw_damage(image, rng, family)


def _scaled(image: np.ndarray, side: int) -> np.ndarray:
    h, w = image.shape[:2]
    f = side / max(h, w)
    return cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def _crop(arrays: list[np.ndarray], size: int, rng: np.random.Generator,
          around: np.ndarray | None = None) -> list[np.ndarray]:
    """A random size×size crop of every array alike; with `around` (a boolean map), one holding a random
    pixel of it (a crop that misses a small stain teaches nothing about stains)."""
    h, w = arrays[0].shape[:2]
    if h < size or w < size:  # reflect-pad small photos
        py, px = max(0, size - h), max(0, size - w)
        arrays = [np.pad(a, ((0, py), (0, px)) + ((0, 0),) * (a.ndim - 2), mode="reflect") for a in arrays]
        if around is not None:
            around = np.pad(around, ((0, py), (0, px)))
        h, w = arrays[0].shape[:2]
    y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    if around is not None and around.any():
        ys, xs = np.nonzero(around)
        k = int(rng.integers(len(ys)))
        y = int(np.clip(ys[k] - rng.integers(0, size), 0, h - size))
        x = int(np.clip(xs[k] - rng.integers(0, size), 0, w - size))
    return [a[y:y + size, x:x + size] for a in arrays]


SEEN_CHANGE = 8  # grey levels: a tint that changes no channel this much cannot be seen in a textured photo


def stain_target(clean: np.ndarray, damage: Damage) -> np.ndarray:
    """The family's strength where the stain visibly changed the photo (≥ SEEN_CHANGE grey levels in some
    channel), 0 elsewhere: a faint fringe no one could see is not asked of the network."""
    if damage.strength is None:
        return np.zeros(clean.shape[:2], np.float32)
    change = np.abs(damage.image.astype(np.int16) - clean.astype(np.int16)).max(-1)
    return np.where((damage.mask > 0) & (change >= SEEN_CHANGE), damage.strength, 0).astype(np.float32)


_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def darkening(clean: np.ndarray, damaged: np.ndarray) -> np.ndarray:
    """The share of light a tint takes at each pixel (float32 0..1; 0 where it lightens): 1 − g for the local
    luminance gain g = I/C, fitted by least squares over 5×5 windows (a single pixel's ratio is noise in the
    shadows). For a multiplicative tint it is proportional to the family's strength, with one scale for every
    family: what `core.tint` needs, and what a network can see."""
    yc = clean.astype(np.float32) @ _LUMA / 255
    yd = damaged.astype(np.float32) @ _LUMA / 255
    gain = cv2.blur(yd * yc, (5, 5)) / (cv2.blur(yc * yc, (5, 5)) + 1e-4)
    return np.clip(1 - gain, 0, 1).astype(np.float32)


def make_sample(photo: np.ndarray, rng: np.random.Generator, families: tuple[str, ...], crop: int,
                scale: tuple[float, float] = (0.6, 1.0),
                hard: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(damaged crop RGB uint8, target strength float32, darkening float32, goal RGB uint8) from a photo
    scaled to ~PHOTO_SIDE. The goal is what the correction head should give: the clean photo, except under
    opaque damage, which no tint correction can undo (the damaged crop itself: leave it). `hard` (bool, the
    photo's size): where a clean crop is a hard negative (`mine_hard`)."""
    image = _scaled(photo, max(crop, round(PHOTO_SIDE * rng.uniform(*scale))))
    if hard is not None and hard.any() and rng.random() < HARD_SHARE:
        hard = cv2.resize(hard.astype(np.uint8), image.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0
        zero = np.zeros(image.shape[:2], np.float32)
        crop_image, target, dark = _crop([image, zero, zero], crop, rng, around=hard)
        crop_image = np.ascontiguousarray(crop_image)
        return crop_image, np.ascontiguousarray(target), np.ascontiguousarray(dark), crop_image
    u = rng.random()
    target = np.zeros(image.shape[:2], np.float32)
    goal = image
    if u < CLEAN_SHARE:
        damaged = image
    elif u < CLEAN_SHARE + NEGATIVE_SHARE:
        damaged = goal = draw_family(image, rng, NEGATIVES[int(rng.integers(len(NEGATIVES)))]).image
    else:
        d = draw_family(image, rng, families[int(rng.integers(len(families)))])
        damaged = d.image
        target = stain_target(image, d)
    dark = darkening(image, damaged) * (target > STAINED)
    damaged, target, dark, goal = _crop([damaged, target, dark, goal], crop, rng,
                                        around=target > STAINED if rng.random() < 0.8 else None)
    return tuple(np.ascontiguousarray(a) for a in (damaged, target, dark, goal))  # type: ignore[return-value]


def to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255


def predict_maps(net: torch.nn.Module, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The network's (where, how strongly) maps (float32 H×W, 0..1) of one RGB uint8 image; a one-output
    network's strength is its `where`."""
    with torch.no_grad():
        where, amount = net.maps(to_tensor([image]))
    return where[0, 0].numpy().astype(np.float32), amount[0, 0].numpy().astype(np.float32)


def predict_corrected(net: torch.nn.Module, image: np.ndarray) -> np.ndarray:
    """The photo (RGB uint8) as a five-output network's correction head restores it."""
    with torch.no_grad():
        restored, _ = net.corrected(to_tensor([image]))
    return np.clip(np.rint(restored[0].permute(1, 2, 0).numpy() * 255), 0, 255).astype(np.uint8)


def mine_hard(run_dir: Path, photos: list[np.ndarray]) -> list[np.ndarray]:
    """Hard negatives: where another stain run's network (`run_dir`) finds a stain (`where` ≥ HARD_WHERE) on
    each clean photo (bool maps, each photo's size). Its false alarms are the photos' own browns, shadows and
    warm textures; shown as clean crops they teach the difference an all-random clean crop rarely shows."""
    from inpaint_studio.networks.registry import create_network

    settings = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    net = create_network(NETWORK, **settings["config"])
    net.load_state_dict(load_state(run_dir)["network"])
    net.eval()
    return [predict_maps(net, photo)[0] >= HARD_WHERE for photo in photos]


AMOUNT_WEIGHT = 5.0  # the darkening's L1 (~0.1 at the start) against the BCE's ~0.5
# The correction's L1 over the whole crop (0..1 units; a stained crop starts near 0.02–0.05, a clean one at 0)
# against the BCE's ~0.1–0.5 once the network finds stains.
CORRECTION_WEIGHT = 20.0


def loss_fn(logits: torch.Tensor, target: torch.Tensor, dark: torch.Tensor | None = None,
            image: torch.Tensor | None = None, goal: torch.Tensor | None = None) -> torch.Tensor:
    """BCE on where the stain is (stained pixels weighted ×3: they are a few percent of all); with a second
    output, plus the L1 of the darkening where stained. Fitting the soft strength through the *where* output
    (BCE on soft targets plus L1) stayed a flat guess for the first thousand steps, so the strength has a head
    of its own, started from a network that already knows where."""
    stained = (target > STAINED).float()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        logits[:, :1], stained, pos_weight=torch.tensor(3.0, device=logits.device))
    if logits.shape[1] >= 2 and dark is not None:
        err = (torch.sigmoid(logits[:, 1:2]) - dark).abs() * stained
        loss = loss + AMOUNT_WEIGHT * err.sum() / stained.sum().clamp_min(1.0)
    if logits.shape[1] == 5 and image is not None and goal is not None:
        restored = (image * torch.exp(logits[:, 2:5])).clamp(0, 1)
        loss = loss + CORRECTION_WEIGHT * (restored - goal).abs().mean()
    return loss


@dataclass
class ValSet:
    names: list[str]  # family (or "clean") of each sample
    images: list[np.ndarray]
    targets: list[np.ndarray]
    cleans: list[np.ndarray]


def make_val(photos: list[np.ndarray], per_family: int, crop: int, seed: int = 1) -> ValSet:
    val = ValSet([], [], [], [])
    for fi, family in enumerate((*VAL_FAMILIES, "clean")):
        for k in range(per_family):
            rng = np.random.default_rng([seed, fi, k])
            image = _scaled(photos[(fi * per_family + k) % len(photos)], PHOTO_SIDE)
            if family == "clean":
                damaged, target = image, np.zeros(image.shape[:2], np.float32)
            else:
                d = draw_family(image, rng, family)
                damaged, target = d.image, stain_target(image, d)
            damaged, target, clean = _crop([damaged, target, image], crop, rng, around=target > STAINED)
            val.names.append(family)
            val.images.append(np.ascontiguousarray(damaged))
            val.targets.append(np.ascontiguousarray(target))
            val.cleans.append(np.ascontiguousarray(clean))
    return val


def clean_map(where: np.ndarray, threshold: float, amount: np.ndarray | None = None) -> np.ndarray:
    """The map as VCNet uses it: the strength (`amount`, else `where` itself) where `where` reaches
    `threshold`, zero elsewhere (the network's faint guesses)."""
    value = where if amount is None else amount
    return np.where(where >= threshold, value, 0).astype(np.float32)


def evaluate(net: torch.nn.Module, val: ValSet, threshold: float) -> dict[str, Any]:
    """Per family: mean absolute error of the map where stained, IoU at `threshold`, share marked on clean
    crops, and the PSNR gain of the tint removal the map drives (capped at 60 dB)."""
    rows: dict[str, dict[str, list[float]]] = {}
    net.eval()
    for name, image, target, clean in zip(val.names, val.images, val.targets, val.cleans, strict=True):
        where, amount = predict_maps(net, image)
        s = clean_map(where, threshold, amount)
        row = rows.setdefault(name, {"mae": [], "iou": [], "marked": [], "gain": [], "corrected": []})
        stained, found = target > STAINED, s > 0
        if stained.any():
            truth = darkening(clean, image) if getattr(net, "outputs", 1) == 2 else target
            row["mae"].append(float(np.abs(s - truth)[stained].mean()))
            row["iou"].append(float((stained & found).sum() / max(1, (stained | found).sum())))
        row["marked"].append(float(found.mean()))
        before = min(PSNR_CAP, psnr(image, clean))
        row["gain"].append(min(PSNR_CAP, psnr(remove_tint(image, s), clean)) - before)
        if getattr(net, "correction", None) is not None:
            row["corrected"].append(min(PSNR_CAP, psnr(predict_corrected(net, image), clean)) - before)
    net.train()
    return {k: {m: round(float(np.mean(v)), 4) for m, v in r.items() if v} for k, r in rows.items()}


THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def tune_threshold(net: torch.nn.Module, val: ValSet, seen: list[str], thresholds: tuple[float, ...] = THRESHOLDS,
                   small_area: float = 0) -> dict[float, dict[str, Any]]:
    """Per threshold: the mean PSNR gain of the tint removal per family, driven by the map as VCNet uses it
    (`core.stains.confirmed_stains`), and the score it is chosen by — the mean over the seen families and the
    clean crops (capped at 60 dB, so any change to a clean crop costs)."""
    maps = [predict_maps(net, image) for image in val.images]
    table: dict[float, dict[str, Any]] = {}
    for t in thresholds:
        gains: dict[str, list[float]] = {}
        for name, image, (where, amount), clean in zip(val.names, val.images, maps, val.cleans, strict=True):
            before = min(PSNR_CAP, psnr(image, clean))
            after = min(PSNR_CAP, psnr(remove_tint(image, confirmed_stains(image, where, amount, t, small_area)), clean))
            gains.setdefault(name, []).append(after - before)
        means = {k: round(float(np.mean(v)), 3) for k, v in gains.items()}
        score = float(np.mean([means[k] for k in means if k in seen or k == "clean"]))
        table[t] = {"score": round(score, 3), "gains": means}
    return table


def _val_photos(folder: Path | None) -> list[np.ndarray]:
    from trainer.data import photo_files

    files = photo_files(None, "val") if folder is None else photo_files(folder, "train")
    return [_scaled(load_rgb(p), PHOTO_SIDE) for p in files]


def _state(net: torch.nn.Module, opt: torch.optim.Optimizer | None, step: int, rng: np.random.Generator) -> dict[str, Any]:
    state: dict[str, Any] = {"network": net.state_dict(), "step": step,
                             "rng": json.dumps(rng.bit_generator.state)}
    if opt is not None:
        state["optimizer"] = opt.state_dict()
    return state


def save_state(run_dir: Path, state: dict[str, Any]) -> None:
    atomic_write(run_dir / "last.pt", lambda tmp: torch.save(state, tmp))


def load_state(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "last.pt"
    if not path.is_file():
        raise InpaintStudioError(f"{run_dir} has no last.pt to resume from")
    return torch.load(path, map_location="cpu", weights_only=True)


def resume_settings(run_dir: Path, steps: int | None, what: str) -> dict[str, Any]:
    """A run's settings for `--resume`; a new end `steps` is written back, so later resumes keep it."""
    settings_path = run_dir / "run.json"
    if not settings_path.is_file():
        raise InpaintStudioError(f"{run_dir} is not a {what} run (no run.json)")
    settings = json.loads(settings_path.read_text(encoding="utf-8"))
    if steps and steps != settings["steps"]:
        settings["steps"] = steps
        atomic_write_text(settings_path, json.dumps(settings, indent=1) + "\n")
    return settings


def restore_state(run_dir: Path, net: torch.nn.Module, opt: torch.optim.Optimizer, rng: np.random.Generator) -> int:
    """Load the run's last state into `net`, `opt` (when it kept one) and `rng`; returns its step."""
    state = load_state(run_dir)
    net.load_state_dict(state["network"])
    if "optimizer" in state:
        opt.load_state_dict(state["optimizer"])
    rng.bit_generator.state = json.loads(state["rng"])
    step = int(state["step"])
    print(f"resumed {run_dir} at step {step}", file=sys.stderr)
    return step


def after_step(run_dir: Path, args: argparse.Namespace, net: torch.nn.Module, opt: torch.optim.Optimizer,
               rng: np.random.Generator, step: int, steps: int, loss: float, started: float,
               validate: Callable[[], dict[str, Any]], describe: Callable[[dict[str, Any]], str]) -> None:
    """Progress, the periodic save and the periodic validation (appended to log.jsonl) of a training loop."""
    if step % 20 == 0:
        print(f"\rstep {step}/{steps} loss {loss:.4f} ({time.time() - started:.0f} s)", end="", file=sys.stderr, flush=True)
    last = step == steps
    if step % args.save_every == 0 or last:
        save_state(run_dir, _state(net, opt, step, rng))
    if step % args.val_every == 0 or last:
        metrics = validate()
        with (run_dir / "log.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps({"step": step, "loss": round(loss, 5), "val": metrics}) + "\n")
        print(f"\nstep {step}: {describe(metrics)}", file=sys.stderr)


def finish(run_dir: Path, args: argparse.Namespace, net: torch.nn.Module, step: int, rng: np.random.Generator) -> None:
    """With `--finish`, keep weights only (no optimiser state): a finished run's state stays small in git."""
    if args.finish:
        save_state(run_dir, _state(net, None, step, rng))


def _start_from(net: torch.nn.Module, run_dir: Path) -> None:
    """Load another run's network into `net`; only a strength or correction head it lacks may start new."""
    state = load_state(run_dir)
    try:
        missing, unexpected = net.load_state_dict(state["network"], strict=False)
    except RuntimeError:  # same names, other shapes
        missing, unexpected = [""], []
    if unexpected or any(not k.startswith(("amount.", "correction.")) for k in missing):
        raise InpaintStudioError(f"{run_dir} holds another stain network than this run's (widths or norm differ)")
    print(f"started from {run_dir} (step {state['step']})", file=sys.stderr)


def _lr(step: int, steps: int, lr: float) -> float:
    warm = min(1.0, (step + 1) / 100)
    return lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / max(1, steps)))))


def train(args: argparse.Namespace) -> int:
    from inpaint_studio.networks.registry import create_network
    from trainer.data import photo_files

    torch.set_num_threads(max(1, args.threads))
    run_dir: Path = args.run
    settings_path = run_dir / "run.json"
    if args.resume:
        settings = resume_settings(run_dir, args.steps, "stain")
        net = create_network(NETWORK, **settings["config"])
    else:
        if (run_dir / "last.pt").exists():
            raise InpaintStudioError(f"{run_dir} already holds a run: add --resume to continue it")
        families = tuple(f for f in args.families.split(",") if f)
        bad = [f for f in families if f not in (*TRAIN_FAMILIES, *SEEN)]
        if bad:
            raise InpaintStudioError(f"the stain network trains on {', '.join(TRAIN_FAMILIES)} or seen kinds, "
                                     f"not {', '.join(bad)}")
        config = {"widths": list(args.widths), "norm": args.norm}
        if getattr(args, "outputs", 1) != 1:
            config["outputs"] = int(args.outputs)
        settings = {"network": NETWORK, "config": config, "families": list(families),
                    "negatives": list(NEGATIVES), "steps": args.steps or DEFAULT_STEPS, "batch": args.batch, "crop": args.crop,
                    "lr": args.lr, "threshold": args.threshold, "seed": args.seed,
                    "photos": "train split" if args.photos is None else str(args.photos)}
        net = create_network(NETWORK, **settings["config"])
        if getattr(args, "init_from", None) is not None:  # checked before anything is written
            settings["init_from"] = args.init_from.as_posix()
            _start_from(net, args.init_from)
        if getattr(args, "hard_negatives_from", None) is not None:
            if not (args.hard_negatives_from / "run.json").is_file():
                raise InpaintStudioError(f"{args.hard_negatives_from} is not a stain run (no run.json)")
            settings["hard_negatives_from"] = args.hard_negatives_from.as_posix()
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(settings_path, json.dumps(settings, indent=1) + "\n")
    opt = torch.optim.Adam(net.parameters(), lr=settings["lr"])
    rng = np.random.default_rng(settings["seed"])
    step = 0
    if args.resume:
        step = restore_state(run_dir, net, opt, rng)
    files = photo_files(args.photos, "train")
    photos = [_scaled(load_rgb(p), PHOTO_SIDE) for p in files]
    hard: list[np.ndarray | None] = [None] * len(photos)
    if "hard_negatives_from" in settings:  # mined again on resume: the same network gives the same maps
        hard = list(mine_hard(Path(settings["hard_negatives_from"]), photos))
        print(f"hard negatives: {sum(int(h.any()) for h in hard)} of {len(photos)} photos, "
              f"{np.mean([h.mean() for h in hard]):.2%} of their pixels", file=sys.stderr)
    val = make_val(_val_photos(args.photos), args.val_per_family, settings["crop"])
    families = tuple(settings["families"])
    start = time.time()
    net.train()
    while step < settings["steps"]:
        for g in opt.param_groups:
            g["lr"] = _lr(step, settings["steps"], settings["lr"])
        pairs = []
        for _ in range(settings["batch"]):
            k = int(rng.integers(len(photos)))
            pairs.append(make_sample(photos[k], rng, families, settings["crop"], hard=hard[k]))
        x = to_tensor([p[0] for p in pairs])
        y = torch.from_numpy(np.stack([p[1] for p in pairs]))[:, None]
        dark = torch.from_numpy(np.stack([p[2] for p in pairs]))[:, None]
        goal = to_tensor([p[3] for p in pairs])
        loss = loss_fn(net(x), y, dark, x, goal)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        after_step(run_dir, args, net, opt, rng, step, settings["steps"], loss.item(), start,
                   lambda: evaluate(net, val, settings["threshold"]),
                   lambda metrics: "  ".join(f"{k} gain {v['gain']:+.2f} iou {v.get('iou', 0):.2f} "
                                             f"marked {v['marked']:.3f}"
                                             + (f" corrected {v['corrected']:+.2f}" if "corrected" in v else "")
                                             for k, v in metrics.items()))
    finish(run_dir, args, net, step, rng)
    return 0


def export(args: argparse.Namespace) -> int:
    """Put the run's network into a VCNet checkpoint as its `stain` component, with the run's settings and last
    validation in the JSON's `blind.stains`."""
    from inpaint_studio.engine.checkpoints import load_checkpoint
    from inpaint_studio.networks.registry import create_network

    run_dir: Path = args.run
    settings = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    state = load_state(run_dir)
    lines = (run_dir / "log.jsonl").read_text(encoding="utf-8").splitlines() if (run_dir / "log.jsonl").exists() else []
    ckpt = load_checkpoint(args.export_into)
    if ckpt.method != "vcnet":
        raise InpaintStudioError(f"{args.export_into} is a {ckpt.method} checkpoint, not VCNet's")
    states = {c: ckpt.state_dict(c) for c in ckpt.components if c != "stain"}
    states["stain"] = state["network"]
    components = {c: dict(spec) for c, spec in ckpt.components.items() if c != "stain"}
    components["stain"] = {"network": settings["network"], "config": settings["config"]}
    meta = {k: v for k, v in ckpt.meta.items() if k not in ("format", "version", "method", "components", "dtype")}
    blind = dict(meta.get("blind") or {})
    blind["stains"] = {
        "threshold": args.threshold, "small_area": args.small_area,
        "trained_on": settings["families"], "negatives": settings["negatives"], "steps": int(state["step"]),
        "init_from": settings.get("init_from"),
        "photos": settings["photos"], "validation": json.loads(lines[-1])["val"] if lines else {},
        "unseen": [f for f in VAL_FAMILIES if f not in settings["families"]],
    }
    # The table is always measured (the card shows it); the threshold is chosen on the seen families and clean
    # crops only, unless given (e.g. chosen on whole clean photos, which crops under-represent).
    net = create_network(settings["network"], **settings["config"])
    net.load_state_dict(state["network"])
    val = make_val(_val_photos(args.photos), args.val_per_family, settings["crop"], seed=2)
    if getattr(net, "correction", None) is not None:
        return _export_correction(args, run_dir, net, val, settings, blind, meta, states, components, ckpt)
    table = tune_threshold(net, val, seen=settings["families"], small_area=args.small_area)
    # ties (to 0.01 dB) go to the highest threshold: it changes the fewest photos
    best = max(table, key=lambda t: (round(table[t]["score"], 2), t)) if args.threshold is None else args.threshold
    blind["stains"]["threshold"] = best
    blind["stains"]["threshold_chosen"] = "on the seen families and clean crops" if args.threshold is None else "given"
    blind["stains"]["threshold_table"] = table
    for t, row in table.items():
        print(f"threshold {t:.2f}: seen and clean {row['score']:+.2f} dB  " +
              "  ".join(f"{k} {v:+.2f}" for k, v in row["gains"].items()))
    if args.threshold is None and table[best]["score"] <= 0 and not args.force:
        raise InpaintStudioError("the stain network does not help yet on the seen families and clean crops "
                                 "at any threshold: nothing written (train it longer, or --force)")
    path = _write_checkpoint(args, run_dir, blind, meta, states, components, ckpt)
    print(f"stain network ({int(state['step'])} steps) written into {path}")
    return 0


def _write_checkpoint(args: argparse.Namespace, run_dir: Path, blind: dict[str, Any], meta: dict[str, Any],
                      states: dict[str, Any], components: dict[str, Any], ckpt: Any) -> Path:
    """Save the checkpoint with its new `blind` block and rewrite its card's stain-network section."""
    from inpaint_studio.engine.checkpoints import save_checkpoint

    meta["blind"] = blind
    path = save_checkpoint(args.export_into, "vcnet", states, components, meta, half=ckpt.meta.get("dtype") == "float16")
    card = path.with_suffix(".md")
    if card.is_file():
        text = replace_section(card.read_text(encoding="utf-8"), CARD_BEGIN, CARD_END, stain_card(blind["stains"], run_dir),
                               heading="## Stain network")
        atomic_write_text(card, text)
    return path


def _export_correction(args: argparse.Namespace, run_dir: Path, net: torch.nn.Module, val: ValSet,
                       settings: dict[str, Any], blind: dict[str, Any], meta: dict[str, Any],
                       states: dict[str, Any], components: dict[str, Any], ckpt: Any) -> int:
    """Export a correcting (five-output) network: blind runs apply its correction, so what is measured and
    recorded is the correction's gain per family on validation crops (no threshold to choose); refused
    unless it helps on the seen families and clean crops together."""
    metrics = evaluate(net, val, settings["threshold"])
    gains = {k: round(float(v["corrected"]), 3) for k, v in metrics.items()}
    seen = [k for k in gains if k in settings["families"] or k == "clean"]
    score = float(np.mean([gains[k] for k in seen]))
    print("correction on validation crops: " + "  ".join(f"{k} {v:+.2f}" for k, v in gains.items()))
    if score <= 0 and not args.force:
        raise InpaintStudioError("the stain network's correction does not help yet on the seen families and clean "
                                 "crops: nothing written (train it longer, or --force)")
    blind["stains"]["correction"] = {"gains": gains, "score": round(score, 3)}
    if getattr(args, "min_change", None) is not None:
        if args.min_change < 0:
            raise InpaintStudioError(f"--min-change must be 0 or more grey levels, not {args.min_change:g}")
        blind["stains"]["min_change"] = float(args.min_change)
    blind["stains"]["threshold_chosen"] = "unused: the network corrects the stains itself"
    path = _write_checkpoint(args, run_dir, blind, meta, states, components, ckpt)
    print(f"stain network ({int(blind['stains']['steps'])} steps, correcting) written into {path}")
    return 0


CARD_BEGIN = "<!-- stain-network:begin (written by python -m trainer stain --export-into) -->"
CARD_END = "<!-- stain-network:end -->"


def stain_card(record: dict[str, Any], run_dir: Path) -> str:
    """The card's stain-network section: what it trained on, what it never saw, and the tint removal it drives
    per family at each threshold (validation crops at ~512 px scale)."""
    correction = record.get("correction")
    if correction:
        gains = correction["gains"]
        return "\n".join([
            f"Component `stain` (`networks/stain_net.py`, five outputs), {record['steps']} steps on {record['photos']}"
            + (f" (started from `{record['init_from']}`)" if record.get("init_from") else "") + "; trained on "
            f"{', '.join(record['trained_on'])} (negatives: clean crops, {', '.join(record['negatives'])}: asked to "
            "leave them as they are). Never seen: "
            f"{', '.join(record['unseen'])} (and fading, yellowing). Blind runs apply its correction: a smooth "
            "per-channel gain it predicts, left out wherever it changes a pixel by less than 2 grey levels"
            + (f" or in a region whose 90th-percentile change is under {record['min_change']:g}"
               if record.get("min_change") else "")
            + ", or in a region it would move away from what its surroundings suggest (an overshoot)"
            + " (`core.tint`'s fitted model is not used); option `stains=false` turns it off. Resume: "
            f"`python -m trainer stain --run {run_dir.as_posix()} --resume --steps N`.",
            "", "PSNR gain of its correction (dB) on validation crops (the raw correction, before the dead zone "
            "and the region rules):", "",
            "| " + " | ".join("clean crops" if f == "clean" else f"{f} ({'seen' if f in record['trained_on'] else 'unseen'})"
                              for f in gains) + " |",
            "|" + "---|" * len(gains),
            "| " + " | ".join(f"{v:+.2f}" for v in gains.values()) + " |",
        ])
    given = record.get("threshold_chosen") == "given"
    how = "given at export" if given else "chosen on the seen families and clean crops only"
    lines = [
        f"Component `stain` (`networks/stain_net.py`), {record['steps']} steps on {record['photos']}"
        + (f" (started from `{record['init_from']}`)" if record.get("init_from") else "") + "; trained on "
        f"{', '.join(record['trained_on'])} (negatives: clean crops, {', '.join(record['negatives'])}). "
        f"Never seen: {', '.join(record['unseen'])} (and fading, yellowing). Threshold "
        f"{record['threshold']:g}, {how}. Blind runs keep what it finds "
        "where the translucent judge confirms a tint over the photo"
        + (f" (or the region is under {record['small_area']:g} px)" if record.get("small_area") else "")
        + " and invert that tint (`core.tint.remove_tint`, which leaves a stain it does not trust as it is); "
        "option `stains=false` turns it off. Resume: `python -m trainer stain --run "
        f"{run_dir.as_posix()} --resume --steps N`.",
    ]
    table = record.get("threshold_table") or {}
    if table:
        families = list(next(iter(table.values()))["gains"])
        lines += ["", "PSNR gain of the tint removal (dB) on validation crops, by threshold:", "",
                  "| threshold | " + " | ".join("clean crops" if f == "clean" else f"{f} ({'seen' if f in record['trained_on'] else 'unseen'})"
                                                for f in families) + " |",
                  "|---|" + "---|" * len(families)]
        for t, row in table.items():
            mark = " (chosen)" if float(t) == float(record["threshold"]) else ""
            lines.append(f"| {float(t):g}{mark} | " + " | ".join(f"{row['gains'][f]:+.2f}" for f in families) + " |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    return export(args) if args.export_into else train(args)
