"""Where the project's files live: shipped models, the user's data and config directories.

INPAINT_STUDIO_DATA_DIR / INPAINT_STUDIO_CONFIG_DIR override the platformdirs locations (tests use them
to stay away from the real user's files). INPAINT_STUDIO_MODELS_DIR stands in for the repository's models/
(`trainer campaign` measures its exports as if shipped, in a model-table subprocess, without touching models/)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "inpaint-studio"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_MODELS_DIR = Path(os.environ.get("INPAINT_STUDIO_MODELS_DIR") or PROJECT_ROOT / "models")
RESOURCES_DIR = PROJECT_ROOT / "resources"
SAMPLES_DIR = RESOURCES_DIR / "samples"


def user_data_dir() -> Path:
    override = os.environ.get("INPAINT_STUDIO_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_config_dir() -> Path:
    override = os.environ.get("INPAINT_STUDIO_CONFIG_DIR")
    path = Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_models_dir() -> Path:
    """Imported checkpoints (`inpaint-studio models import`) live here."""
    path = user_data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_cache_dir() -> Path:
    """Large regenerable data (the fetched photo set)."""
    override = os.environ.get("INPAINT_STUDIO_CACHE_DIR")
    path = Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path
