"""Resize-convolution upsampling (nearest ×2 + conv) as an option of our small EdgeConnect variants: no
checkerboard on a flat input where a transposed conv makes one; the published layout stays exactly as it was;
the trainer builds, exports and names the variant, and the engine loads it from the checkpoint alone."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from inpaint_studio.engine.base import create_method
from inpaint_studio.networks.edgeconnect import ResizeConv
from inpaint_studio.networks.registry import create_network
from trainer.config import ConfigError
from trainer.export import export_run
from trainer.loop import build_config, train
from trainer.toydata import write_toy_images

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _period2_energy(x: torch.Tensor) -> float:
    """How much a map differs from itself shifted by one pixel (0 for a flat map)."""
    return float((x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean())


def test_resize_conv_keeps_a_flat_map_flat_where_a_transposed_conv_makes_a_checkerboard():
    torch.manual_seed(0)
    flat = torch.ones(1, 8, 12, 12)
    resize = ResizeConv(8, 4, use_spectral_norm=False)
    transposed = torch.nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)
    with torch.no_grad():
        out_r, out_t = resize(flat), transposed(flat)
    assert out_r.shape == out_t.shape == (1, 4, 24, 24)
    inner = (..., slice(2, -2), slice(2, -2))  # away from the border padding
    assert _period2_energy(out_r[inner]) < 1e-6
    assert _period2_energy(out_t[inner]) > 1e-3


def test_the_published_layout_is_unchanged_and_resize_is_an_option():
    published = create_network("edgeconnect_inpaint_generator", base_channels=8, num_blocks=1)
    assert isinstance(published.decoder[0], torch.nn.ConvTranspose2d)
    assert published.decoder[0].weight.shape == (32, 16, 4, 4)  # the published key and shape
    resized = create_network("edgeconnect_inpaint_generator", base_channels=8, num_blocks=1, upsample="resize")
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in resized.modules())
    (x,) = resized.example_inputs(32, 40)
    assert resized(x).shape == published(x).shape == (1, 3, 32, 40)
    edge = create_network("edgeconnect_edge_generator", base_channels=8, num_blocks=1, upsample="resize")
    assert "decoder.0.conv.weight_orig" in edge.state_dict()  # spectral norm kept on the new conv
    with pytest.raises(ValueError, match="upsample must be one of"):
        create_network("edgeconnect_edge_generator", upsample="bilinear")


def test_a_tiny_resize_run_exports_a_checkpoint_the_engine_loads(tmp_path):
    write_toy_images(tmp_path / "train", 4, size=(40, 48), seed=0)
    options = {
        "data": str(tmp_path / "train"), "val_data": str(tmp_path / "train"), "image_size": 32, "batch_size": 2,
        "width": 0.125, "steps": 2, "val_images": 2, "val_every": 0, "sample_every": 0, "progress": False,
        "device": "cpu", "threads": 1, "feature_trunk": "none", "run_dir": str(tmp_path / "run"),
        "network": {"num_blocks": 1, "upsample": "resize"},
    }
    result = train(build_config("edgeconnect", "inpaint", cli_options=options), log=lambda m: None)
    assert result.step == 2
    path = export_run(tmp_path / "run", tmp_path / "models" / "ec", which="last")
    meta = json.loads(path.with_suffix(".json").read_text())
    assert all(c["config"]["upsample"] == "resize" for c in meta["components"].values())
    assert "resize-convolution upsampling" in path.with_suffix(".md").read_text()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (36, 44, 3), dtype=np.uint8)
    mask = np.zeros((36, 44), np.uint8)
    mask[8:20, 10:30] = 255
    filled = create_method("edgeconnect", checkpoint=path, device="cpu").inpaint(image, mask)
    assert filled.shape == image.shape and np.array_equal(filled[mask == 0], image[mask == 0])

    with pytest.raises(ConfigError, match="network.upsample must be one of"):
        train(build_config("edgeconnect", "inpaint", cli_options={
            **options, "network": {"upsample": "pixelshuffle"}, "run_dir": str(tmp_path / "bad")}), log=lambda m: None)
