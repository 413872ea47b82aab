"""The largest training batch that fits on the GPU (`trainer campaign`): double the batch until CUDA runs out of
memory, then back off to the last size that fitted. Each try runs two real training steps of the stage's recipe
with the loop's own speed settings (AMP, channels-last), so the probe measures what training will use."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from inpaint_studio.core.errors import InpaintStudioError
from trainer.config import TrainConfig, merge

MAX_BATCH = 256  # the probe's upper limit


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def largest_batch(try_batch: Callable[[int], None], start: int, limit: int = MAX_BATCH,
                  on_oom: Callable[[], None] | None = None) -> int:
    """The largest batch `try_batch` runs without running out of memory: double from `start` until it fails (or
    `limit`), then back off to the last size that fitted. Errors other than out-of-memory propagate."""
    size, fitted = max(1, start), 0
    while size <= limit:
        try:
            try_batch(size)
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            if on_oom is not None:
                on_oom()
            break
        fitted, size = size, size * 2
    if fitted == 0:
        raise InpaintStudioError(f"a batch of {max(1, start)} does not fit in the GPU's memory at this width and "
                                 "image size: lower --image-size or use a larger GPU")
    return fitted


def try_training_step(cfg: TrainConfig, batch_size: int, device: torch.device) -> None:
    """Two training steps of `cfg`'s recipe at `batch_size` (the second holds the optimizer state too), with the
    loop's speed settings; raises CUDA's out-of-memory error when it does not fit."""
    from trainer.data import to_tensors
    from trainer.hed import load_feature_trunk
    from trainer.loop import make_datasets, speed_settings, to_device
    from trainer.recipes import get_recipe

    probe = merge(cfg, {"batch_size": batch_size, "init_from": ""}, "batch probe")
    _, trunk = load_feature_trunk(probe.feature_trunk, probe.vgg_weights)
    recipe = get_recipe(probe.recipe)(probe, device, trunk.to(device) if trunk is not None else None)
    recipe.build()
    speed_settings(recipe, probe, device)
    recipe.train_mode(True)
    train_ds, _ = make_datasets(probe, recipe)
    base = to_tensors([train_ds[i] for i in range(min(4, len(train_ds)))])
    repeats = math.ceil(batch_size / len(next(iter(base.values()))))
    batch = {k: v.repeat(repeats, *([1] * (v.dim() - 1)))[:batch_size] for k, v in base.items()}
    batch = to_device(batch, device, probe.channels_last)
    for step in range(2):
        recipe.step = step
        recipe.train_step(batch)
        if recipe.scaler is not None:
            recipe.scaler.update()


def free_cuda() -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
