"""Train a texture-fusion stage (`networks.texture_fusion`) for a shipped learned fill and ship them together.

    python -m trainer fusion-data --out DIR --methods deepfill_v2 --count 1500          # samples (train split)
    python -m trainer fusion-data --out VAL --methods deepfill_v2 --count 200 --split val --seed 1
    python -m trainer fusion --base models/deepfill_v2-prefill-small --fills deepfill_v2 \
        --samples DIR --val-samples VAL --steps 3000 --to models/deepfill_v2-fusion-small

The samples hold, per hole, the truth, the learned fill (`fill_<name>`, made by the base checkpoint) and
PatchMatch's fill; the fusion learns per pixel how to mix them, with hole L1. The written checkpoint is the base
checkpoint's components plus `texture_fusion`, and its JSON records `"texture": {"method": "patchmatch"}`, which
the engine reads to run PatchMatch and the fusion after the learned fill (`engine.methods.learned`).
A run takes minutes, so it is not resumable; its log (validation per evaluation) goes into the JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inpaint_studio.core.atomic import atomic_write_text
from inpaint_studio.core.metrics import detail_ratio
from inpaint_studio.core.sections import CARD_TABLE_BEGIN, CARD_TABLE_END
from inpaint_studio.engine.checkpoints import build_modules, load_checkpoint, save_checkpoint, update_metadata
from inpaint_studio.networks.registry import create_network
from trainer.fusion_data import read_sample

TEXTURE_SPEC = {"method": "patchmatch", "options": {}}


@dataclass
class FusionSet:
    """Samples as uint8 arrays N×H×W×C (masks N×H×W)."""

    truth: np.ndarray
    mask: np.ndarray
    learned: np.ndarray
    patchmatch: np.ndarray
    smooth: np.ndarray | None = None  # a smooth classical fill (Navier–Stokes) for a three-way fusion

    def __len__(self) -> int:
        return len(self.truth)


def load_samples(folder: Path, fills: str, limit: int | None = None, smooth: str | None = None) -> FusionSet:
    """The samples of `folder` that have `fills`; with `smooth` (a classical method's name) its fill of each hole
    too, made here (Navier–Stokes takes ~25 ms a sample: not worth keeping)."""
    paths = sorted(folder.glob("sample_*.npz"))[:limit]
    rows = [read_sample(p) for p in paths]
    rows = [r for r in rows if f"fill_{fills}" in r]
    if not rows:
        raise ValueError(f"no samples with '{fills}' fills in {folder}")
    smooth_fills = None
    if smooth:
        from inpaint_studio.engine.base import create_method

        method = create_method(smooth)
        smooth_fills = np.stack([method.inpaint(r["truth"], r["mask"]) for r in rows])
    return FusionSet(
        np.stack([r["truth"] for r in rows]), np.stack([r["mask"] for r in rows]),
        np.stack([r[f"fill_{fills}"] for r in rows]), np.stack([r["patchmatch"] for r in rows]), smooth_fills,
    )


def _tensors(data: FusionSet, index: np.ndarray, flip: np.ndarray | None = None,
             window: tuple[int, int, int] | None = None) -> tuple[torch.Tensor, ...]:
    """Float tensors in [0, 1] of the samples at `index`, optionally mirrored and cut to `window` (y, x, side)."""
    def t(a: np.ndarray) -> torch.Tensor:
        part = a[index]
        if window is not None:
            y, x, side = window
            part = part[:, y : y + side, x : x + side]
        x = torch.from_numpy(np.ascontiguousarray(part)).float() / 255.0
        x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
        if flip is not None:
            x = torch.where(torch.from_numpy(flip).view(-1, 1, 1, 1), x.flip(-1), x)
        return x.contiguous()

    mask = t(data.mask)
    smooth = t(data.smooth) if data.smooth is not None else None
    return t(data.learned), t(data.patchmatch), (mask > 0.5).float(), t(data.truth), smooth


def hole_l1(out: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over hole pixels and channels, in grey levels (the model table's `l1_hole`)."""
    return (out - truth).abs().mul(mask).sum() * 255.0 / (mask.sum() * out.shape[1]).clamp_min(1.0)


@torch.no_grad()
def evaluate(net: torch.nn.Module, data: FusionSet, batch: int = 16) -> dict[str, float]:
    """Hole L1 (mean over samples) and detail ratio of the fusion, the learned fill and PatchMatch."""
    scores: dict[str, list[float]] = {k: [] for k in ("l1_hole", "detail", "learned_l1_hole", "learned_detail",
                                                      "patchmatch_l1_hole", "patchmatch_detail")}
    net.eval()
    for start in range(0, len(data), batch):
        index = np.arange(start, min(start + batch, len(data)))
        learned, pm, mask, truth, smooth = _tensors(data, index)
        out = net(learned, pm, mask, smooth)
        for k, i in enumerate(index):
            m = data.mask[i]
            for name, x in (("", out[k]), ("learned_", learned[k]), ("patchmatch_", pm[k])):
                scores[f"{name}l1_hole"].append(float(hole_l1(x[None], truth[k : k + 1], mask[k : k + 1])))
                img = (x.permute(1, 2, 0).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
                scores[f"{name}detail"].append(detail_ratio(img, data.truth[i], m))
    net.train()
    return {k: float(np.mean(v)) for k, v in scores.items()}


@dataclass
class FusionRun:
    net: torch.nn.Module
    config: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def train_fusion(train: FusionSet, val: FusionSet | None, *, steps: int, batch: int = 8, lr: float = 1e-3,
                 eval_every: int = 250, seed: int = 0, crop: int = 128, config: dict[str, Any] | None = None,
                 log: Callable[[str], None] = print) -> FusionRun:
    """Adam on hole L1, cosine to zero; the returned network is the one that scored best on `val` (step 0, the
    hand blend, included: the fusion never ships worse than where it started). Training batches are random
    `crop`² windows of the samples (the network sees ~35 px around a pixel; smaller windows are cheaper)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    config = dict(config or {})
    net = create_network("texture_fusion", **config)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + np.cos(np.pi * min(s / max(steps, 1), 1.0))))
    history: list[dict[str, float]] = []
    best, best_state = float("inf"), None
    started = time.perf_counter()
    for step in range(steps + 1):
        if val is not None and (step % eval_every == 0 or step == steps):
            scores = {"step": float(step), **evaluate(net, val)}
            history.append(scores)
            log(f"step {step}: val hole L1 {scores['l1_hole']:.3f} detail {scores['detail']:.3f} "
                f"(learned {scores['learned_l1_hole']:.3f}, PatchMatch {scores['patchmatch_l1_hole']:.3f})")
            if scores["l1_hole"] < best:
                best, best_state = scores["l1_hole"], {k: v.clone() for k, v in net.state_dict().items()}
        if step == steps:
            break
        index = rng.integers(len(train), size=batch)
        side = min(crop, train.truth.shape[1], train.truth.shape[2])
        window = (int(rng.integers(train.truth.shape[1] - side + 1)), int(rng.integers(train.truth.shape[2] - side + 1)), side)
        learned, pm, mask, truth, smooth = _tensors(train, index, flip=rng.random(batch) < 0.5, window=window)
        loss = hole_l1(net(learned, pm, mask, smooth), truth, mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    if best_state is not None:
        net.load_state_dict(best_state)
    return FusionRun(net.eval(), config, history, time.perf_counter() - started)


def write_fusion_checkpoint(base: Path, run: FusionRun, to: Path, *, fills: str, samples: Sequence[str],
                            half: bool = True, texture_options: dict[str, Any] | None = None,
                            smooth: str | None = None) -> Path:
    """The base checkpoint's components plus the fusion, and `texture` in its JSON (with `smooth`, the classical
    fill a three-way fusion mixes in)."""
    if bool(smooth) != bool(run.config.get("smooth")):
        raise ValueError("a three-way fusion needs its smooth fill named, and only it")
    ckpt = load_checkpoint(base)
    meta = {k: v for k, v in ckpt.meta.items() if k not in ("format", "version", "method", "components", "dtype")}
    states: dict[str, Any] = {c: ckpt.state_dict(c) for c in ckpt.components}
    components = {c: dict(spec) for c, spec in ckpt.components.items()}
    states["texture_fusion"] = run.net.state_dict()
    components["texture_fusion"] = {"network": "texture_fusion", "config": run.config}
    variant = str(meta.get("variant") or ckpt.method)
    meta["variant"] = f"{variant}; with PatchMatch texture"
    meta["texture"] = {**TEXTURE_SPEC, "options": dict(texture_options or {})}
    if smooth:
        meta["texture"]["smooth"] = {"method": smooth, "options": {}}
        meta["variant"] = f"{variant}; with PatchMatch texture and a {smooth.replace('_', '–').title()} blend"
    from inpaint_studio.engine.base import get_spec

    if get_spec(ckpt.method).capabilities.accepts_edges:
        meta["texture"]["with_edges"] = "edge_guided"  # drawn edges: texture copied from each line's own side
    meta["texture_training"] = {
        "base": base.name, "fills": fills, "config": run.config, "samples": list(samples), "steps": int(run.history[-1]["step"])
        if run.history else 0, "seconds": round(run.seconds, 1), "validation": run.history,
    }
    meta.pop("sample_check", None)  # the fill changed: `engine.sample_check --record` measures it again
    meta["metrics"] = fusion_metrics(run.history)
    path = save_checkpoint(to, ckpt.method, states, components, meta, half=half)
    base_card = ckpt.path.with_suffix(".md")
    card = fusion_card(base_card.read_text(encoding="utf-8") if base_card.is_file() else "", ckpt.path.stem,
                       path.stem, ckpt.method, meta)
    atomic_write_text(path.with_suffix(".md"), card)
    return path


def fusion_metrics(history: Sequence[dict[str, float]]) -> dict[str, float]:
    """The kept step's validation (the lowest hole L1), for the checkpoint's `metrics` (the base's training metrics
    no longer describe the fill)."""
    if not history:
        return {}
    best = min(history, key=lambda h: h["l1_hole"])
    keys = ("l1_hole", "detail", "learned_l1_hole", "learned_detail", "patchmatch_l1_hole", "patchmatch_detail")
    return {k: round(float(best[k]), 4) for k in keys if k in best}


def fusion_card(base_card: str, base_name: str, name: str, method: str, meta: dict[str, Any]) -> str:
    """The base's card under the new name, with the texture stage described first (the base's own sections, its
    measurements included, stay: they are the learned fill's, before the stage)."""
    info = meta["texture_training"]
    config = info.get("config") or {}
    low, fine = float(config.get("low_sigma", 2.0)), float(config.get("detail_sigma", 0.7))
    smooth = (meta["texture"].get("smooth") or {}).get("method")
    params = f"{sum(p.numel() for p in create_network('texture_fusion', **config).parameters()):,}".replace(",", " ")
    three_way = ([f"A third candidate, the {smooth.replace('_', '–').title()} fill of the same hole, joins the mix",
                  "(three weights per pixel): a learned and two classical fills whose errors differ average to a",
                  "more accurate colour than any of them."] if smooth else [])
    lines = [
        f"# {name}", "",
        f"**{meta['variant']}**: the checkpoint `{base_name}` (its card follows) with a texture stage after the fill",
        "(`networks.texture_fusion`, our own design). The engine fills the hole with the learned network, then with",
        f"PatchMatch, and a small network ({params} parameters) mixes them per pixel: the learned fill's colour where",
        f"it is right, PatchMatch's (blurred {low:g} px) where that is, and PatchMatch's finest detail (the band",
        f"under {fine:g} px of blur) unchanged on top, so the hole carries the photo's own",
        "texture instead of a blur.", *three_way, "`--model " + method + ":texture=false` (the",
        "`texture` option) runs the learned fill alone.",
        *(["With edges drawn, the texture comes from the edge-guided PatchMatch (each side of a line copied only",
           "from that side) instead."] if meta["texture"].get("with_edges") else []), "",
        f"Trained with `python -m trainer fusion` on the fills of `{info['fills']}` in {info['samples'][0]}",
        f"(crops of the photo set's train split, several hole generators), validated on {info['samples'][1]}",
        f"(the val split), {info['steps']} steps, {info['seconds'] / 60:.0f} min; the step with the lowest validation",
        "hole L1 was kept (step 0 is the hand blend).", "",
        "| step | hole L1 | detail | the learned fill alone | PatchMatch alone |", "|---|---|---|---|---|",
    ]
    for h in info["validation"]:
        lines.append(f"| {h['step']:.0f} | {h['l1_hole']:.2f} | {h.get('detail', float('nan')):.2f} | "
                     f"{h.get('learned_l1_hole', float('nan')):.2f} / {h.get('learned_detail', float('nan')):.2f} | "
                     f"{h.get('patchmatch_l1_hole', float('nan')):.2f} / {h.get('patchmatch_detail', float('nan')):.2f} |")
    body = base_card.split("\n", 1)[1] if base_card.startswith("# ") else base_card
    # The model table measures the checkpoint the engine runs (this one): its section belongs to the whole, not
    # to the base's part (where it would repeat the base's old rows).
    start, end = body.find(CARD_TABLE_BEGIN), body.find(CARD_TABLE_END)
    if 0 <= start < end:
        heading = body.rfind("\n## ", 0, start)
        body = body[: heading if heading >= 0 else start] + body[end + len(CARD_TABLE_END) :]
    lines += ["", "## Measured in the model table", "", CARD_TABLE_BEGIN, "(`benchmarks/model_table.py --merge`"
              " writes this checkpoint's rows here.)", CARD_TABLE_END]
    return "\n".join(lines) + "\n\n## The learned fill (`" + base_name + "`)\n" + body.replace("\n## ", "\n### ")


def run(args: argparse.Namespace) -> int:
    from inpaint_studio.core.errors import InpaintStudioError

    torch.set_num_threads(max(1, args.threads))
    base = load_checkpoint(args.base)  # a wrong --base is one plain line before minutes of training
    if "texture_fusion" in base.components:
        raise InpaintStudioError(f"{base.name} has a texture stage already: give the learned fill's own checkpoint")
    try:
        train = load_samples(args.samples, args.fills, smooth=args.smooth)
        val = load_samples(args.val_samples, args.fills, smooth=args.smooth)
    except ValueError as exc:
        raise InpaintStudioError(str(exc)) from None
    print(f"{len(train)} training samples, {len(val)} validation samples")
    fusion = train_fusion(train, val, steps=args.steps, batch=args.batch, lr=args.lr, eval_every=args.eval_every,
                          config={"start_weight": args.start_weight, "low_sigma": args.low_sigma,
                                  "detail_sigma": args.detail_sigma, **({"smooth": True} if args.smooth else {})})
    best = min(fusion.history, key=lambda h: h["l1_hole"])
    print("kept step {step:.0f}: val hole L1 {l1_hole:.3f}, detail {detail:.3f}".format(**best))
    path = write_fusion_checkpoint(base.path, fusion, args.to, fills=args.fills,
                                   samples=[str(args.samples), str(args.val_samples)], half=not args.no_half,
                                   texture_options=({"band_split_above": args.band_split_above}
                                                    if args.band_split_above is not None else None),
                                   smooth=args.smooth)
    print(f"wrote {path}")
    print(json.dumps({k: round(v, 4) for k, v in best.items()}))
    return 0


def carry_texture_stage(textured: Path, new_base: Path) -> Path:
    """Rewrite the textured checkpoint `textured` around a new learned fill `new_base` (same method), keeping its
    fusion weights and their training record: when a better base ships (the GPU campaign), the texture stage
    goes on working without a new fusion run (which would fit it to the new fills a little better)."""
    ckpt = load_checkpoint(textured)
    if "texture_fusion" not in ckpt.components:
        raise ValueError(f"{ckpt.name} has no texture stage")
    info = dict(ckpt.meta.get("texture_training") or {})
    net = build_modules(ckpt, "cpu", only=["texture_fusion"])["texture_fusion"]
    run = FusionRun(net, dict(ckpt.components["texture_fusion"].get("config") or {}),
                    list(info.get("validation") or []), float(info.get("seconds") or 0.0))
    path = write_fusion_checkpoint(Path(new_base), run, ckpt.path.with_suffix(""), fills=str(info.get("fills", "")),
                                   samples=list(info.get("samples") or ["", ""]), half=ckpt.meta.get("dtype") == "float16",
                                   texture_options=(ckpt.meta.get("texture") or {}).get("options"),
                                   smooth=((ckpt.meta.get("texture") or {}).get("smooth") or {}).get("method"))
    update_metadata(path, lambda m: m["texture_training"].update(
        carried_from=info.get("base"), note="fusion weights trained on the fills of the earlier base"))
    return path
