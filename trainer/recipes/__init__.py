"""Recipes by name. Each module defines one `Recipe` subclass with the paper's defaults."""

from __future__ import annotations

from trainer.config import ConfigError
from trainer.recipes.base import Recipe


def _builtin() -> dict[str, type[Recipe]]:
    from trainer.recipes.context_encoder import ContextEncoderRecipe
    from trainer.recipes.deepfill_v1 import DeepFillV1Recipe
    from trainer.recipes.deepfill_v2 import DeepFillV2Recipe
    from trainer.recipes.edgeconnect import EdgeConnectRecipe
    from trainer.recipes.glcic import GLCICRecipe
    from trainer.recipes.pggan import PGGANRecipe
    from trainer.recipes.vcnet import VCNetRecipe

    recipes = (
        ContextEncoderRecipe, DeepFillV1Recipe, DeepFillV2Recipe, EdgeConnectRecipe, GLCICRecipe, PGGANRecipe,
        VCNetRecipe,
    )
    return {r.name: r for r in recipes}


_EXTRA: dict[str, type[Recipe]] = {}


def register_recipe(cls: type[Recipe]) -> type[Recipe]:
    """Add a recipe (tests use this for stand-ins); built-in names cannot be replaced."""
    _EXTRA[cls.name] = cls
    return cls


def recipe_names() -> list[str]:
    return sorted({**_builtin(), **_EXTRA})


def get_recipe(name: str) -> type[Recipe]:
    recipes = {**_EXTRA, **_builtin()}
    try:
        return recipes[name]
    except KeyError:
        raise ConfigError(f"unknown recipe '{name}' (known: {', '.join(sorted(recipes))})") from None
