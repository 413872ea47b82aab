"""Our small EdgeConnect inpainting generator may drop its instance norms (`network.norm=none`): with them a
network cannot see a photo's overall colour (a brighter photo gives the same output), without them it can; the
published layout and its keys are unchanged; the trainer records the option, the engine loads it from the
checkpoint alone, and an L1-only phase never runs (or moves) the discriminator."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from inpaint_studio.engine.base import create_method
from inpaint_studio.networks.edgeconnect import NORMS, inpaint_generator_input
from inpaint_studio.networks.registry import create_network
from trainer.config import ConfigError
from trainer.export import export_run
from trainer.loop import build_config, train
from trainer.toydata import write_toy_images

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_instance_norm_hides_a_photos_brightness_and_norm_none_does_not():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 32, 40) * 0.5
    edges = torch.zeros(1, 1, 32, 40)
    free = torch.zeros(1, 1, 32, 40)  # no hole: the input is the photo itself
    outputs = {}
    for norm in NORMS:
        torch.manual_seed(1)
        net = create_network("edgeconnect_inpaint_generator", base_channels=8, num_blocks=1, norm=norm).eval()
        with torch.no_grad():
            outputs[norm] = [net(inpaint_generator_input(x, edges, free)) for x in (image, image + 0.3)]
    def change(norm: str) -> float:  # relative to the output's own spread (an untrained net's is small)
        a, b = outputs[norm]
        return float((a - b).abs().mean() / a.std())

    assert change("instance") < 1e-4  # float rounding only
    assert change("none") > 1e-3
    plain = create_network("edgeconnect_inpaint_generator", base_channels=8, num_blocks=1, norm="none")
    published = create_network("edgeconnect_inpaint_generator", base_channels=8, num_blocks=1)
    assert not any(isinstance(m, torch.nn.InstanceNorm2d) for m in plain.modules())
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in published.modules())
    assert set(plain.state_dict()) == set(published.state_dict())  # the norms have no parameters
    with pytest.raises(ValueError, match="norm must be one of"):
        create_network("edgeconnect_inpaint_generator", base_channels=8, num_blocks=1, norm="batch")


def test_an_l1_only_norm_free_run_leaves_the_discriminator_alone_and_exports_what_the_engine_loads(tmp_path):
    write_toy_images(tmp_path / "train", 4, size=(40, 48), seed=0)
    options = {
        "data": str(tmp_path / "train"), "val_data": str(tmp_path / "train"), "image_size": 32, "batch_size": 2,
        "width": 0.125, "steps": 2, "val_images": 2, "val_every": 0, "sample_every": 0, "progress": False,
        "device": "cpu", "threads": 1, "feature_trunk": "none", "run_dir": str(tmp_path / "run"),
        "weights": {"adversarial": 0, "perceptual": 0, "style": 0},
        "network": {"num_blocks": 1, "upsample": "resize", "edge_upsample": "transpose", "norm": "none"},
    }
    result = train(build_config("edgeconnect", "inpaint", cli_options=options), log=lambda m: None)
    assert result.step == 2
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    assert ckpt["optimizers"]["inpaint_generator"]["state"]  # the generator stepped ...
    assert not ckpt["optimizers"]["inpaint_discriminator"]["state"]  # ... the discriminator never: no Adam moments

    path = export_run(tmp_path / "run", tmp_path / "models" / "ec", which="last")
    meta = json.loads(path.with_suffix(".json").read_text())
    inpaint, edge = meta["components"]["inpaint_generator"]["config"], meta["components"]["edge_generator"]["config"]
    assert inpaint["norm"] == "none" and inpaint["upsample"] == "resize"
    assert "norm" not in edge and "upsample" not in edge  # the edge generator keeps the published layout
    card = path.with_suffix(".md").read_text()
    assert "EdgeConnect with resize-convolution upsampling (nearest ×2 + conv) and no instance norm in the inpainting generator" in card
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (36, 44, 3), dtype=np.uint8)
    mask = np.zeros((36, 44), np.uint8)
    mask[8:20, 10:30] = 255
    method = create_method("edgeconnect", checkpoint=path, device="cpu")
    filled = method.inpaint(image, mask)
    assert filled.shape == image.shape and np.array_equal(filled[mask == 0], image[mask == 0])
    assert not any(isinstance(m, torch.nn.InstanceNorm2d) for m in method.modules["inpaint_generator"].modules())

    with pytest.raises(ConfigError, match="network.norm must be one of"):
        train(build_config("edgeconnect", "inpaint", cli_options={
            **options, "network": {"norm": "group"}, "run_dir": str(tmp_path / "bad")}), log=lambda m: None)


def test_pggan_names_its_variant_for_the_card():
    from trainer.config import merge
    from trainer.recipes import get_recipe

    def variant(network: dict) -> str:
        cfg = merge(build_config("pggan"), {"width": 0.125, "device": "cpu", "network": network}, "test")
        return get_recipe("pggan")(cfg, torch.device("cpu"), None).variant()

    assert variant({}) == ""  # the paper's layout
    assert variant({"upsample": "resize", "norm": "none"}) == (
        "PGGAN with resize-convolution upsampling (bilinear ×2 + conv) and no instance norm")
    assert variant({"norm": "none"}) == "PGGAN with no instance norm"


def test_a_network_setting_the_network_refuses_is_a_config_error_not_a_traceback(tmp_path):
    options = {"width": 0.125, "device": "cpu", "steps": 1, "run_dir": str(tmp_path / "run"),
               "network": {"norm": "batch"}}
    with pytest.raises(ConfigError, match="network settings: norm must be one of"):
        train(build_config("pggan", cli_options=options), log=lambda m: None)
