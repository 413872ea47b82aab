"""`python -m trainer marks`: train the marks network (`networks.mark_net`) that finds thin opaque marks —
scratches, hairlines, dust — for VCNet's blind runs, resume it, and put it into a VCNet checkpoint as its `marks`
component.

Samples: a training photo scaled to ~512 px (×0.6–1.0), damaged whole by a training family (`--families`, default
`hairline` and `dust`: so each family keeps its size at 512²), then `CROPS_PER_PHOTO` random crops, most holding
a mark. Some photos stay clean and some carry a stain (the seen `stain` kind: a tint over the photo is not a
mark to paint over). The target is where the damage visibly changed the photo (`Damage.mask`); BCE, marked
pixels weighted ×3 (they are a few percent of a crop). With `--hard-negatives-from RUN`, a fifth of the photos
instead give clean crops around what RUN's network marks on that clean photo (mined at the start and on resume).
With `--favour-busy`, busy photos (fur, foliage, patterned cloth) are drawn more often than smooth ones.

Held out by default: the old `scratch` kind (`core.synthesis`, another generator of 1–3 px film scratches) and
`text`; validation crops of validation photos report seen and unseen families side by side (IoU and recall at the
run's threshold, the share of a clean crop marked).

The run directory keeps `last.pt` (network, optimiser, step, numpy generator; loaded with `weights_only=True`),
`log.jsonl` and `run.json`. Finished runs keep weights only (`--finish`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from inpaint_studio.core.atomic import atomic_write_text
from inpaint_studio.core.damage_families import check_families, draw_damage
from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.sections import replace_section
from trainer.stain import (
    PHOTO_SIDE,
    _crop,
    _lr,
    _scaled,
    _val_photos,
    after_step,
    draw_family,
    finish,
    load_state,
    restore_state,
    resume_settings,
    to_tensor,
)

NETWORK = "mark_unet"
VAL_FAMILIES = ("hairline", "dust", "scratch", "text")
NEGATIVES = ("stain",)  # a tint over the photo is not a mark to paint over
# `--negatives` may also name `tint` (the stain network's own family: random tints over blots and spot fields,
# which look like specks but are stains), keeping foxing itself unseen.
EXTRA_NEGATIVES = ("tint",)
CLEAN_SHARE, NEGATIVE_SHARE = 0.15, 0.1
# With mined hard negatives (`--hard-negatives-from`), this share of photos gives clean crops around pixels that
# the mining run's network took for a mark on a clean training photo (wires, twigs, specular dots, fine text).
HARD_SHARE = 0.2
HARD_WHERE = 0.5  # the mining network's map at or above this on a clean photo is a hard negative
# With `--favour-busy`, photos are drawn in proportion to their fine detail (`busyness`, clipped to this range):
# the train split is mostly smooth illustrations, and a network trained on them misses marks on fur, foliage and
# patterned cloth (on the held-out source's baboon and aloe photos it found 1 % of a hairline's pixels, 97 % once
# the background was blurred).
BUSY_RANGE = (1.0, 8.0)
CROPS_PER_PHOTO = 4
DEFAULT_STEPS = 5000
COMPONENT = "marks"


def make_samples(photo: np.ndarray, rng: np.random.Generator, families: tuple[str, ...], crop: int,
                 count: int = CROPS_PER_PHOTO,
                 negatives: tuple[str, ...] = NEGATIVES,
                 hard: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """`count` (damaged crop RGB uint8, target float32 0/1) pairs from one photo scaled to ~PHOTO_SIDE and damaged
    whole. `hard` (bool, the photo's size): where a clean crop is a hard negative (`mine_hard`)."""
    image = _scaled(photo, max(crop, round(PHOTO_SIDE * rng.uniform(0.6, 1.0))))
    if hard is not None and hard.any() and rng.random() < HARD_SHARE:
        # INTER_AREA, not nearest: a one-pixel line of hard pixels must survive the downscale
        hard = cv2.resize(hard.astype(np.float32), image.shape[1::-1], interpolation=cv2.INTER_AREA) > 0
        zero = np.zeros(image.shape[:2], np.float32)
        crops = [_crop([image, zero], crop, rng, around=hard) for _ in range(count)]
        return [(np.ascontiguousarray(c), np.ascontiguousarray(t)) for c, t in crops]
    u = rng.random()
    target = np.zeros(image.shape[:2], np.float32)
    if u < CLEAN_SHARE:
        damaged = image
    elif u < CLEAN_SHARE + NEGATIVE_SHARE:
        damaged = draw_family(image, rng, negatives[int(rng.integers(len(negatives)))]).image
    else:
        d = draw_damage(image, rng, families[int(rng.integers(len(families)))])
        damaged, target = d.image, (d.mask > 0).astype(np.float32)
    out = []
    for _ in range(count):
        around = target > 0 if target.any() and rng.random() < 0.8 else None
        c_img, c_tgt = _crop([damaged, target], crop, rng, around=around)
        out.append((np.ascontiguousarray(c_img), np.ascontiguousarray(c_tgt)))
    return out


def busyness(photo: np.ndarray) -> float:
    """How much fine detail a photo (~PHOTO_SIDE) has: the median absolute difference between its grey image
    and a 2-px Gaussian blur of it, in grey levels (train split: quartiles 0.7, 1.9, 3.8)."""
    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.median(np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 2))))


def photo_weights(photos: list[np.ndarray]) -> np.ndarray:
    """Drawing probabilities favouring busy photos (`--favour-busy`)."""
    w = np.clip([busyness(p) for p in photos], *BUSY_RANGE)
    return w / w.sum()


def mine_hard(run_dir: Path, photos: list[np.ndarray]) -> list[np.ndarray]:
    """Hard negatives: where another marks run's network (`run_dir`) sees a mark (≥ HARD_WHERE) on each clean
    photo (bool maps, each photo's size): the photos' own thin lines and specks, which a random clean crop rarely
    centres on."""
    from inpaint_studio.networks.registry import create_network

    if not (run_dir / "run.json").is_file():
        raise InpaintStudioError(f"{run_dir} is not a marks run (no run.json)")
    settings = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    net = create_network(NETWORK, **settings["config"])
    net.load_state_dict(load_state(run_dir)["network"])
    net.eval()
    return [predict(net, photo) >= HARD_WHERE for photo in photos]


def loss_fn(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target, pos_weight=torch.tensor(3.0, device=logits.device))


def predict(net: torch.nn.Module, image: np.ndarray) -> np.ndarray:
    """Where the network sees a mark (float32 H×W, 0..1) in one RGB uint8 image."""
    with torch.no_grad():
        return torch.sigmoid(net(to_tensor([image])))[0, 0].numpy().astype(np.float32)


def make_val(photos: list[np.ndarray], per_family: int, crop: int, seed: int = 1) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Fixed (family or "clean", crop, target) triples from validation photos."""
    val = []
    for fi, family in enumerate((*VAL_FAMILIES, "clean")):
        for k in range(per_family):
            rng = np.random.default_rng([seed, fi, k])
            image = _scaled(photos[(fi * per_family + k) % len(photos)], PHOTO_SIDE)
            if family == "clean":
                damaged, target = image, np.zeros(image.shape[:2], np.float32)
            else:
                d = draw_damage(image, rng, family)
                damaged, target = d.image, (d.mask > 0).astype(np.float32)
            c_img, c_tgt = _crop([damaged, target], crop, rng, around=target > 0 if target.any() else None)
            val.append((family, np.ascontiguousarray(c_img), np.ascontiguousarray(c_tgt)))
    return val


def evaluate(net: torch.nn.Module, val: list[tuple[str, np.ndarray, np.ndarray]], threshold: float) -> dict[str, Any]:
    """Per family: IoU and recall at `threshold`, and the share of each crop marked."""
    rows: dict[str, dict[str, list[float]]] = {}
    net.eval()
    for name, image, target in val:
        found, truth = predict(net, image) >= threshold, target > 0
        row = rows.setdefault(name, {"iou": [], "recall": [], "marked": []})
        if truth.any():
            row["iou"].append(float((found & truth).sum() / max(1, (found | truth).sum())))
            row["recall"].append(float(found[truth].mean()))
        row["marked"].append(float(found.mean()))
    net.train()
    return {k: {m: round(float(np.mean(v)), 4) for m, v in r.items() if v} for k, r in rows.items()}


def train(args: argparse.Namespace) -> int:
    from inpaint_studio.networks.registry import create_network
    from trainer.data import photo_files

    torch.set_num_threads(max(1, args.threads))
    run_dir: Path = args.run
    settings_path = run_dir / "run.json"
    if args.resume:
        settings = resume_settings(run_dir, args.steps, "marks")
    else:
        if (run_dir / "last.pt").exists():
            raise InpaintStudioError(f"{run_dir} already holds a run: add --resume to continue it")
        try:
            families = tuple(check_families(f for f in args.families.split(",") if f))
        except ValueError as exc:
            raise InpaintStudioError(str(exc)) from None
        if not families:
            raise InpaintStudioError("--families: name at least one damage family to train on")
        negatives = tuple(f for f in args.negatives.split(",") if f)
        if not negatives:
            raise InpaintStudioError("--negatives: name at least one family to show as 'no mark'")
        try:
            check_families(f for f in negatives if f not in EXTRA_NEGATIVES)
        except ValueError as exc:
            raise InpaintStudioError(f"--negatives: {exc}") from None
        settings = {"network": NETWORK, "config": {"widths": list(args.widths)}, "families": list(families),
                    "negatives": list(negatives), "steps": args.steps or DEFAULT_STEPS, "batch": args.batch,
                    "crop": args.crop, "lr": args.lr, "threshold": args.threshold, "seed": args.seed,
                    "photos": "train split" if args.photos is None else str(args.photos)}
    net = create_network(NETWORK, **settings["config"])
    files = photo_files(args.photos, "train")  # checked before anything is written
    if not args.resume and args.init_from is not None:
        _start_from(net, args.init_from)
        settings["init_from"] = args.init_from.as_posix()
    if not args.resume and getattr(args, "hard_negatives_from", None) is not None:
        if not (args.hard_negatives_from / "run.json").is_file():
            raise InpaintStudioError(f"{args.hard_negatives_from} is not a marks run (no run.json)")
        settings["hard_negatives_from"] = args.hard_negatives_from.as_posix()
    if not args.resume and getattr(args, "favour_busy", False):
        settings["favour_busy"] = True
    if not args.resume:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(settings_path, json.dumps(settings, indent=1) + "\n")
    opt = torch.optim.Adam(net.parameters(), lr=settings["lr"])
    rng = np.random.default_rng(settings["seed"])
    step = 0
    if args.resume:
        step = restore_state(run_dir, net, opt, rng)
    photos = [_scaled(load_rgb(p), PHOTO_SIDE) for p in files]
    hard: list[np.ndarray | None] = [None] * len(photos)
    if "hard_negatives_from" in settings:  # mined again on resume: the same network gives the same maps
        hard = list(mine_hard(Path(settings["hard_negatives_from"]), photos))
        print(f"hard negatives: {sum(int(h.any()) for h in hard)} of {len(photos)} photos, "
              f"{np.mean([h.mean() for h in hard]):.2%} of their pixels", file=sys.stderr)
    weights = photo_weights(photos) if settings.get("favour_busy") else None
    val = make_val(_val_photos(args.photos), args.val_per_family, settings["crop"])
    families, negatives = tuple(settings["families"]), tuple(settings["negatives"])
    per_photo = min(CROPS_PER_PHOTO, settings["batch"])
    start = time.time()
    net.train()
    while step < settings["steps"]:
        for g in opt.param_groups:
            g["lr"] = _lr(step, settings["steps"], settings["lr"])
        pairs: list[tuple[np.ndarray, np.ndarray]] = []
        while len(pairs) < settings["batch"]:
            k = int(rng.integers(len(photos)) if weights is None else rng.choice(len(photos), p=weights))
            pairs += make_samples(photos[k], rng, families, settings["crop"], per_photo, negatives, hard[k])
        pairs = pairs[: settings["batch"]]
        x = to_tensor([p[0] for p in pairs])
        y = torch.from_numpy(np.stack([p[1] for p in pairs]))[:, None]
        loss = loss_fn(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        after_step(run_dir, args, net, opt, rng, step, settings["steps"], loss.item(), start,
                   lambda: evaluate(net, val, settings["threshold"]),
                   lambda metrics: "  ".join(f"{k} iou {v.get('iou', 0):.2f} recall {v.get('recall', 0):.2f} "
                                             f"marked {v['marked']:.3f}" for k, v in metrics.items()))
    finish(run_dir, args, net, step, rng)
    return 0


def _start_from(net: torch.nn.Module, run_dir: Path) -> None:
    """Load another marks run's network into `net` (same widths), checked before anything is written."""
    try:
        net.load_state_dict(load_state(run_dir)["network"])
    except RuntimeError:
        raise InpaintStudioError(f"{run_dir} holds another marks network than this run's (widths differ)") from None
    print(f"started from {run_dir}", file=sys.stderr)


CARD_BEGIN = "<!-- marks-network:begin (written by python -m trainer marks --export-into) -->"
CARD_END = "<!-- marks-network:end -->"


def export(args: argparse.Namespace) -> int:
    """Put the run's network into a VCNet checkpoint as its `marks` component, with the run's settings, the
    threshold and its last validation in the JSON's `blind.marks`."""
    from inpaint_studio.engine.checkpoints import load_checkpoint, save_checkpoint

    run_dir: Path = args.run
    threshold = 0.5 if args.threshold is None else float(args.threshold)
    if not 0 < threshold < 1:
        raise InpaintStudioError(f"--threshold must be between 0 and 1, not {args.threshold}")
    if not (run_dir / "run.json").is_file():
        raise InpaintStudioError(f"{run_dir} is not a marks run (no run.json)")
    settings = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    state = load_state(run_dir)
    log = run_dir / "log.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    ckpt = load_checkpoint(args.export_into)
    if ckpt.method != "vcnet":
        raise InpaintStudioError(f"{args.export_into} is a {ckpt.method} checkpoint, not VCNet's")
    states = {c: ckpt.state_dict(c) for c in ckpt.components if c != COMPONENT}
    states[COMPONENT] = state["network"]
    components = {c: dict(spec) for c, spec in ckpt.components.items() if c != COMPONENT}
    components[COMPONENT] = {"network": settings["network"], "config": settings["config"]}
    meta = {k: v for k, v in ckpt.meta.items() if k not in ("format", "version", "method", "components", "dtype")}
    blind = dict(meta.get("blind") or {})
    blind["marks"] = {
        "threshold": threshold,
        "trained_on": settings["families"], "negatives": settings["negatives"], "steps": int(state["step"]),
        "photos": settings["photos"], "validation": json.loads(lines[-1])["val"] if lines else {},
        "validation_threshold": settings["threshold"],
        "unseen": [f for f in VAL_FAMILIES if f not in settings["families"]],
        "verified": not args.unverified,
    }
    if getattr(args, "side_limit", None) is not None:
        if args.side_limit <= 0:
            raise InpaintStudioError(f"--side-limit must be above 0 grey levels, not {args.side_limit:g}")
        blind["marks"]["side_limit"] = float(args.side_limit)
    for key in ("init_from", "hard_negatives_from", "favour_busy"):  # how the run was made, when it says
        if key in settings:
            blind["marks"][key] = settings[key]
    meta["blind"] = blind
    path = save_checkpoint(args.export_into, "vcnet", states, components, meta, half=ckpt.meta.get("dtype") == "float16")
    card = path.with_suffix(".md")
    if card.is_file():
        text = replace_section(card.read_text(encoding="utf-8"), CARD_BEGIN, CARD_END,
                               marks_card(blind["marks"], run_dir), heading="## Marks network")
        atomic_write_text(card, text)
    print(f"marks network ({int(state['step'])} steps, threshold {blind['marks']['threshold']:g}) written into {path}")
    return 0


def marks_card(record: dict[str, Any], run_dir: Path) -> str:
    """The card's marks-network section: what it trained on, what it never saw, its last validation."""
    lines = [
        f"Component `{COMPONENT}` (`networks/mark_net.py`), {record['steps']} steps on {record['photos']}; trained "
        f"on {', '.join(record['trained_on'])} (negatives: clean photos, {', '.join(record['negatives'])}"
        + (f"; hard negatives: clean crops where `{record['hard_negatives_from']}` saw marks on training photos"
           if record.get("hard_negatives_from") else "")
        + ("; busy photos drawn more often" if record.get("favour_busy") else "")
        + ")"
        + (f", started from `{record['init_from']}`" if record.get("init_from") else "")
        + ". Never "
        f"seen: {', '.join(record['unseen'])} (and every other family). Threshold {record['threshold']:g}. Blind "
        "runs add what it finds to the mask network's and the classical detector's damage"
        + (" before the second look (`core.verify`)" if record.get("verified", True) else
           "; the second look (`core.verify`, fitted without it) cannot take back what it finds")
        + (f"; a found line whose two sides differ by more than {record['side_limit']:g} grey levels along most of "
           "its length is the photo's own rim and is left alone (`core.mark_sides`)" if record.get("side_limit") else "")
        + "; option `marks=false` turns it off. Resume: `python -m trainer marks --run "
        f"{run_dir.as_posix()} --resume --steps N`.",
    ]
    val = record.get("validation") or {}
    if val:
        at = record.get("validation_threshold")
        lines += ["", "The run's last validation: crops of validation photos (~512 px scale)"
                  + (f", the map at {at:g}:" if at is not None else ":"), "",
                  "| family | seen | IoU | recall | share of the crop marked |", "|---|---|---|---|---|"]
        for name, row in val.items():
            seen = "clean photos" if name == "clean" else ("seen" if name in record["trained_on"] else "unseen")
            lines.append(f"| {name} | {seen} | {row.get('iou', 0):.2f} | {row.get('recall', 0):.2f} | "
                         f"{row['marked']:.3f} |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    return export(args) if args.export_into else train(args)
