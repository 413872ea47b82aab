"""Training throughput per recipe: optimisation steps per second at a stated size and batch, for the small
variant and the paper's width, each printed with its ratio to a baseline measured in the same run — a plain
forward + backward + Adam step of the recipe's generator alone with an L1 loss (no discriminator, no
second network). The ratio says what the full recipe (critics, GAN terms, second stage) costs on top.

    .venv/bin/python benchmarks/bench_training.py                       # 128², batch 4, widths 0.25 and 1
    .venv/bin/python benchmarks/bench_training.py --recipes vcnet:joint --size 256 --batch 2 --steps 3

Data loading is excluded (batches are pre-built from generated images), so the figures are compute only.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from trainer.config import TrainConfig, merge
from trainer.data import to_tensors
from trainer.recipes import get_recipe
from trainer.recipes.base import Recipe
from trainer.toydata import toy_image

DEFAULT_RECIPES = ["deepfill_v2", "edgeconnect:joint", "vcnet:joint"]


def make_batch(recipe: Recipe, size: int, batch: int, seed: int = 0) -> dict[str, torch.Tensor]:
    from inpaint_studio.core import synthesis
    from inpaint_studio.core.edges import canny_edges

    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(batch):
        image = toy_image(size, size, rng)
        s = {"image": image}
        if recipe.needs().damage:
            c = synthesis.synthesize_damage(image, rng, "contamination", noise_source=toy_image(size, size, rng))
            s["input"], s["mask"] = c.image, c.mask
        else:
            s["mask"] = synthesis.deepfill_training_mask(size, size, rng)
        if recipe.needs().edges:
            s["edges"] = canny_edges(image, None, sigma=2.0)
        samples.append(s)
    return to_tensors(samples)


def timed(fn: Callable[[], object], steps: int, warmup: int) -> float:
    """Median seconds per call after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def generator_baseline(recipe: Recipe, batch: dict[str, torch.Tensor]) -> Callable[[], object]:
    """Forward + L1 backward + Adam step of the recipe's main generator only."""
    name = {"deepfill_v1": "generator", "deepfill_v2": "generator", "edgeconnect": "inpaint_generator", "vcnet": "rin"}[recipe.name]
    net = recipe.nets[name]
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    image, mask = batch["image"], batch["mask"]

    def forward() -> torch.Tensor:
        if recipe.name in ("deepfill_v1", "deepfill_v2"):
            return net(image * 2 - 1, mask)[1]
        if recipe.name == "edgeconnect":
            return net(torch.cat([image * (1 - mask) + mask, batch["edges"]], 1))
        neck = torch.zeros(image.shape[0], recipe.nets["mpn"].neck_channels, image.shape[2] // 4, image.shape[3] // 4)
        return net(image * (1 - mask), mask, neck)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        (forward() - image).abs().mean().backward()
        opt.step()

    return step


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", nargs="+", default=DEFAULT_RECIPES, help="RECIPE[:STAGE] ...")
    p.add_argument("--widths", nargs="+", type=float, default=[0.25, 1.0], help="width multipliers (1 = paper)")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=3, help="timed steps (median reported)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"training steps/s on {torch.device('cpu')} ({torch.get_num_threads()} threads), {args.size}², "
          f"batch {args.batch}, median of {args.steps} after {args.warmup} warm-up; no VGG terms")
    print(f"{'recipe':<20} {'width':>5} {'steps/s':>8} {'baseline G-only steps/s':>24} {'ratio':>6}")
    for spec in args.recipes:
        name, _, stage = spec.partition(":")
        cls = get_recipe(name)
        stage = stage or cls.default_stage()
        for width in args.widths:
            cfg = merge(TrainConfig(recipe=name, stage=stage), cls.defaults(stage), "defaults")
            cfg = merge(cfg, {"width": width, "image_size": args.size, "batch_size": args.batch}, "bench")
            torch.manual_seed(0)
            recipe = cls(cfg, torch.device("cpu"), None)
            recipe.build()
            recipe.train_mode(True)
            batch = make_batch(recipe, args.size, args.batch)
            base = timed(generator_baseline(recipe, batch), args.steps, args.warmup)
            full = timed(lambda r=recipe, b=batch: r.train_step(b), args.steps, args.warmup)
            print(f"{spec:<20} {width:>5g} {1 / full:>8.3f} {1 / base:>24.3f} {base / full:>6.2f}")


if __name__ == "__main__":
    main()
