"""Test-wide settings. Qt must run offscreen: without a display pytest-qt aborts."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Every test gets empty user data/config/cache directories, away from the real user's files."""
    root = tmp_path_factory.mktemp("userdirs")
    monkeypatch.setenv("INPAINT_STUDIO_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("INPAINT_STUDIO_CONFIG_DIR", str(root / "config"))
    monkeypatch.setenv("INPAINT_STUDIO_CACHE_DIR", str(root / "cache"))  # fetched photos/HED trunk stay unseen
    yield


@pytest.fixture(autouse=True)
def _shipped_models_unseen(request, tmp_path_factory, monkeypatch):
    """Tests see an empty models/ folder (what they assert must not depend on which checkpoints ship), except
    those marked `shipped_models`: the checks of the shipped checkpoints themselves."""
    if request.node.get_closest_marker("shipped_models") is None:
        from inpaint_studio.core import paths

        monkeypatch.setattr(paths, "SHIPPED_MODELS_DIR", tmp_path_factory.mktemp("models"))
    yield


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test: two OpenMP threads on a shared, loaded 2-core machine are many times slower
    than one (training and export tests ask for it with `pytestmark = pytest.mark.usefixtures(...)`)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
