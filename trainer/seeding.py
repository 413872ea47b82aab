"""Seeding a stage from earlier runs (`init_from`): which network comes from which run.

A run's checkpoint holds every network its stage built, trained or not: VCNet's mask stage carries an
untrained RIN, EdgeConnect's inpainting stage an edge generator it never updates. Merging runs by "later
sources override earlier ones" alone would let such a passenger overwrite the network another run trained
(it once shipped VCNet with the mask run's untrained RIN). So each network is taken from the last source
whose stage trained it; only a network that no source trained comes from the last source that has it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import Tensor

from trainer.config import ConfigError
from trainer.recipes import get_recipe


def trained_networks(ckpt: Mapping[str, Any]) -> tuple[str, ...]:
    """The networks a training checkpoint's own stage trained (by its recipe's `trained_in`)."""
    names = tuple(ckpt.get("models", {}))
    try:
        recipe = get_recipe(str(ckpt.get("recipe", "")))
    except ConfigError:  # an unknown recipe: treat every network as trained (the old rule)
        return names
    return recipe.trained_in(str(ckpt.get("stage", "")), names)


def seed_plan(ckpts: Sequence[tuple[Path, Mapping[str, Any]]]) -> list[tuple[Path, dict[str, dict[str, Tensor]]]]:
    """For each source (path, training checkpoint), in order, the state dicts it should seed."""
    owner: dict[str, int] = {}  # network → index of the source it comes from
    trained_owner: dict[str, int] = {}
    for i, (_, ckpt) in enumerate(ckpts):
        owner.update(dict.fromkeys(ckpt.get("models", {}), i))
        trained_owner.update(dict.fromkeys(trained_networks(ckpt), i))
    owner.update(trained_owner)
    return [(path, {n: s for n, s in ckpt.get("models", {}).items() if owner[n] == i})
            for i, (path, ckpt) in enumerate(ckpts)]
