"""A learned method picks a checkpoint that has every component it needs, and builds only those."""

from __future__ import annotations

import os

from inpaint_studio.core.paths import user_models_dir
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import save_checkpoint
from inpaint_studio.networks.registry import create_network

EDGE = {"network": "edgeconnect_edge_generator", "config": {"base_channels": 4, "num_blocks": 1}}
INPAINT = {"network": "edgeconnect_inpaint_generator", "config": {"base_channels": 4, "num_blocks": 1}}
DISC = {"network": "edgeconnect_inpaint_discriminator", "config": {"base_channels": 4}}


def _save(name: str, components: dict) -> None:
    nets = {c: create_network(spec["network"], **spec["config"]) for c, spec in components.items()}
    save_checkpoint(user_models_dir() / name, "edgeconnect", nets, components)


def test_partial_import_is_not_available():
    _save("edge-only", {"edge_generator": EDGE})
    method = create_method("edgeconnect", device="cpu")
    assert not method.is_available()


def test_complete_checkpoint_preferred_over_a_newer_partial_one_and_discriminator_not_built():
    _save("complete", {"edge_generator": EDGE, "inpaint_generator": INPAINT, "discriminator": DISC})
    _save("partial", {"edge_generator": EDGE})
    partial = user_models_dir() / "partial.safetensors"
    os.utime(partial, (partial.stat().st_atime, partial.stat().st_mtime + 100))  # newest first otherwise
    method = create_method("edgeconnect", device="cpu")
    assert method.is_available()
    assert method.checkpoint_path().name == "complete.safetensors"
    method.load()
    assert set(method.modules) == {"edge_generator", "inpaint_generator"}
