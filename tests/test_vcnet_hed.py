"""`vcnet_mpn_hed`: VCNet's mask network on HED's VGG16 trunk, a drop-in for `vcnet_mpn` (same outputs),
trained with a frozen trunk seeded from the HED file, exported so the engine's `vcnet` rebuilds it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

import trainer.recipes.vcnet as vcnet_recipe
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import save_checkpoint
from inpaint_studio.networks.hed import HEDVGG16
from inpaint_studio.networks.registry import create_network
from trainer.config import ConfigError
from trainer.loop import build_config
from trainer.recipes import get_recipe


@pytest.mark.parametrize("hw", [(128, 128), (37, 53)])
def test_outputs_match_the_vcnet_mpn_contract(hw):
    torch.manual_seed(0)
    ours = create_network("vcnet_mpn_hed", neck_channels=32, decoder_channels=16).eval()
    theirs = create_network("vcnet_mpn", base_channels=16).eval()  # neck 2·16 = 32 channels
    x = ours.example_inputs(*hw)[0]
    with torch.no_grad():
        prob, neck = ours(x)
        ref = [tuple(t.shape) for t in theirs(x)]
    assert [tuple(prob.shape), tuple(neck.shape)] == ref == [tuple(s) for s in ours.output_shapes(*hw)]
    assert prob.min() >= 0 and prob.max() <= 1 and torch.isfinite(neck).all()
    # The RIN consumes that feature as it consumes vcnet_mpn's (on the input padded to the output size).
    rin = create_network("vcnet_rin", base_channels=8, neck_channels=32).eval()
    padded = F.pad(x, (0, prob.shape[-1] - x.shape[-1], 0, prob.shape[-2] - x.shape[-2]))
    with torch.no_grad():
        assert rin(padded, (prob >= 0.5).float(), neck).shape == (1, 3, *prob.shape[-2:])


def test_frozen_trunk_gets_no_gradient_and_the_decoder_does():
    torch.manual_seed(0)
    net = create_network("vcnet_mpn_hed", neck_channels=16, decoder_channels=8)
    prob, neck = net(net.example_inputs(32, 32)[0])
    (prob.mean() + neck.mean()).backward()
    trunk = dict(net.trunk.named_parameters())
    assert trunk and all(p.grad is None and not p.requires_grad for p in trunk.values())
    decoder = [p for n, p in net.named_parameters() if not n.startswith("trunk.")]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in decoder)

    unfrozen = create_network("vcnet_mpn_hed", neck_channels=16, decoder_channels=8, freeze_trunk=False)
    unfrozen(unfrozen.example_inputs(32, 32)[0])[0].mean().backward()
    assert all(p.grad is not None for p in unfrozen.trunk.parameters())


def _random_hed_file(tmp_path):
    torch.manual_seed(1)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in HEDVGG16().state_dict().items()}
    state = {k: torch.randn(s) for k, s in shapes.items()}
    path = tmp_path / "hed.safetensors"
    save_file(state, str(path))
    return path, state


def _recipe(tmp_path, hed_path, **network):
    cfg = build_config("vcnet", "mpn", cli_options={
        "width": "0.125", "image_size": "32",
        "network": {"mpn": "vcnet_mpn_hed", "hed_weights": str(hed_path), **network},
    })
    recipe = get_recipe("vcnet")(cfg, torch.device("cpu"), None)
    recipe.build()
    return recipe


def test_trunk_is_seeded_with_exactly_the_hed_weights_and_only_decoder_params_train(tmp_path):
    path, state = _random_hed_file(tmp_path)
    recipe = _recipe(tmp_path, path)
    mpn = recipe.nets["mpn"]
    own = mpn.trunk.state_dict()
    assert sorted(own) == sorted(f"conv{b}_{i}.{s}" for b, n in ((1, 2), (2, 2), (3, 3))
                                 for i in range(1, n + 1) for s in ("weight", "bias"))
    assert all(torch.equal(own[k], state[k]) for k in own)
    optimized = {id(p) for g in recipe.optims["mpn"].param_groups for p in g["params"]}
    assert optimized == {id(p) for n, p in mpn.named_parameters() if not n.startswith("trunk.")}


def test_missing_hed_weights_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(vcnet_recipe, "hed_weights_path", lambda: None)
    cfg = build_config("vcnet", "mpn", cli_options={"width": "0.125", "network": {"mpn": "vcnet_mpn_hed"}})
    with pytest.raises(ConfigError, match="run python -m trainer fetch-hed"):
        get_recipe("vcnet")(cfg, torch.device("cpu"), None).build()
    bad = build_config("vcnet", "mpn", cli_options={"network": {"mpn": "unet"}})
    with pytest.raises(ConfigError, match="network.mpn"):
        get_recipe("vcnet")(bad, torch.device("cpu"), None).build()


def test_exported_hed_mpn_loads_in_the_engine_and_repairs_only_what_it_flags(tmp_path):
    path, _ = _random_hed_file(tmp_path)
    recipe = _recipe(tmp_path, path)
    mpn = recipe.nets["mpn"].eval()
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (40, 52, 3), dtype=np.uint8)
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 127.5 - 1
    with torch.no_grad():  # centre the head so about half the pixels are flagged: a non-trivial mask
        logits, _ = mpn.logits_and_neck(x)
        mpn.head.bias -= logits.median()
    comps = recipe.export_components()
    ckpt = save_checkpoint(tmp_path / "vcnet_hed", "vcnet", {c.name: recipe.nets[c.name] for c in comps},
                           {c.name: {"network": c.network, "config": c.config} for c in comps})
    meta = json.loads(ckpt.with_suffix(".json").read_text())
    assert meta["components"]["mpn"]["network"] == "vcnet_mpn_hed"

    method = create_method("vcnet", checkpoint=str(ckpt))
    pred = method.predict_mask(img)
    assert 0.2 < (pred.mask > 0).mean() < 0.8
    out = method.inpaint(img)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out[pred.mask == 0], img[pred.mask == 0])
    assert (out[pred.mask > 0] != img[pred.mask > 0]).any()
    # The loaded trunk is the exported one (the engine never reads the HED file).
    loaded = method.modules["mpn"].trunk.state_dict()
    assert all(torch.equal(v, mpn.trunk.state_dict()[k]) for k, v in loaded.items())
