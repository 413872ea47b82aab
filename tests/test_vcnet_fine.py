"""`vcnet_mpn_fine`: VCNet's mask network plus a full-resolution head on damage cues — seeded from a plain MPN
it starts as exactly that MPN, its cues single out thin lines, its head alone trains when the body is frozen,
it learns to mark 1-px scratches the 1/4-resolution MPN cannot, and its export runs in the engine."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import save_checkpoint
from inpaint_studio.networks.registry import create_network
from inpaint_studio.networks.vcnet_fine import CUE_NAMES, DamageCues
from trainer.config import ConfigError
from trainer.loop import build_config
from trainer.recipes import get_recipe


def _smooth_photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth colour gradient with mild noise: no thin structure of its own."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([60 + 120 * xx / w, 80 + 100 * yy / h, 140 - 60 * xx / w], axis=-1)
    return np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)


def _to_unit(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.0


def test_seeded_from_a_plain_mpn_it_is_that_mpn_until_trained():
    torch.manual_seed(0)
    plain = create_network("vcnet_mpn", base_channels=16).eval()
    fine = create_network("vcnet_mpn_fine", base_channels=16).eval()
    missing, unexpected = fine.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and sorted(missing) == sorted(fine.head_keys())
    x = plain.example_inputs(48, 64)[0]
    with torch.no_grad():
        (p0, n0), (p1, n1) = plain(x), fine(x)
    assert torch.equal(n0, n1)
    assert torch.allclose(p0, p1, atol=1e-6)
    # Sizes that are not a multiple of 4 come out like vcnet_mpn's (rounded up).
    with torch.no_grad():
        odd = [tuple(t.shape) for t in fine(plain.example_inputs(37, 53)[0])]
    assert odd == [tuple(s) for s in fine.output_shapes(37, 53)] == [tuple(s) for s in plain.output_shapes(37, 53)]


@pytest.mark.parametrize(("level", "bright", "dark"), [(250, "tophat", "blackhat"), (5, "blackhat", "tophat")])
def test_cues_single_out_a_thin_line_of_either_polarity(level, bright, dark):
    img = _smooth_photo(96, 96)
    img[:, 47] = level  # a 1-px vertical scratch
    cues = DamageCues()(_to_unit(img))[0].numpy()
    named = dict(zip(CUE_NAMES, cues, strict=True))
    on, off = np.zeros((96, 96), bool), np.ones((96, 96), bool)
    on[8:-8, 47] = True
    off[:, 40:55] = False
    for name in ("colour", bright, f"long_{bright}"):
        assert named[name][on].mean() > 0.8, name  # z > 4 on the line (cues are z / 5)
        assert np.percentile(named[name][off], 99) < 0.6, name  # the gradient and its noise stay low
    assert named[dark][on].mean() < 0.3  # the opposite polarity does not fire


def test_frozen_body_trains_the_head_alone_and_keeps_the_bottleneck():
    torch.manual_seed(0)
    net = create_network("vcnet_mpn_fine", base_channels=16, freeze_body=True)
    x = net.example_inputs(32, 32)[0]
    prob, neck = net(x)
    assert not neck.requires_grad  # the RIN's input cannot drift while the head trains
    prob.mean().backward()
    params = dict(net.named_parameters())
    trained = {n for n, p in params.items() if p.requires_grad}
    assert trained == {n for n in params if n.startswith("refine")}
    assert all(params[n].grad is not None for n in trained)
    assert all(p.grad is None for n, p in params.items() if n not in trained)


def _scratch_batch(rng: np.random.Generator, n: int = 4, size: int = 48) -> tuple[torch.Tensor, torch.Tensor]:
    images, masks = [], []
    for i in range(n):
        img = _smooth_photo(size, size, seed=int(rng.integers(1 << 30)))
        mask = np.zeros((size, size), np.float32)
        col = int(rng.integers(8, size - 8))
        level = 245 if rng.random() < 0.5 else 10
        img[:, col] = level
        mask[:, col] = 1.0
        if i % 2:  # a horizontal one too
            row = int(rng.integers(8, size - 8))
            img[row, :] = level
            mask[row, :] = 1.0
        images.append(_to_unit(img)[0])
        masks.append(torch.from_numpy(mask)[None])
    return torch.stack(images) * 2 - 1, torch.stack(masks)


def _iou(prob: torch.Tensor, mask: torch.Tensor) -> float:
    pred, truth = prob >= 0.5, mask > 0.5
    return float((pred & truth).sum() / max(int((pred | truth).sum()), 1))


def test_its_head_learns_one_pixel_scratches_the_coarse_mpn_cannot_draw():
    """Trained the same way on the same 1-px lines, the plain MPN's 4×4-block mask stays far from the truth
    while the head marks the lines themselves."""
    from trainer.losses import tau_weighted_bce

    def train(net: torch.nn.Module, steps: int) -> float:
        opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=3e-3)
        rng = np.random.default_rng(0)
        for _ in range(steps):
            x, m = _scratch_batch(rng)
            loss = tau_weighted_bce(net(x)[0], m)
            opt.zero_grad()
            loss.backward()
            opt.step()
        x, m = _scratch_batch(np.random.default_rng(99), n=6)
        with torch.no_grad():
            return _iou(net(x)[0], m)

    torch.manual_seed(0)
    fine = create_network("vcnet_mpn_fine", base_channels=16, freeze_body=True)
    torch.manual_seed(0)
    plain = create_network("vcnet_mpn", base_channels=16)
    fine_iou, plain_iou = train(fine, 60), train(plain, 60)
    assert fine_iou > 0.6
    assert fine_iou > plain_iou + 0.3


def _recipe(**network):
    cfg = build_config("vcnet", "mpn", cli_options={
        "width": "0.25", "image_size": "32", "network": {"mpn": "vcnet_mpn_fine", **network}})
    recipe = get_recipe("vcnet")(cfg, torch.device("cpu"), None)
    recipe.build()
    return recipe


def test_recipe_seeds_the_body_from_a_plain_mpn_run_and_refuses_a_mismatch():
    torch.manual_seed(0)
    recipe = _recipe(freeze_body=True)
    plain = create_network("vcnet_mpn", base_channels=16)
    seeded = recipe.init_from_state({"mpn": plain.state_dict()})
    assert seeded[0].startswith("mpn")
    own = recipe.nets["mpn"].state_dict()
    assert all(torch.equal(own[k], v) for k, v in plain.state_dict().items())
    optimized = {id(p) for g in recipe.optims["mpn"].param_groups for p in g["params"]}
    assert optimized == {id(p) for n, p in recipe.nets["mpn"].named_parameters() if n.startswith("refine")}
    # A seed of another width is refused with a message, not half-loaded.
    with pytest.raises(ConfigError, match="another width"):
        recipe.init_from_state({"mpn": create_network("vcnet_mpn", base_channels=8).state_dict()})
    wrong = {**plain.state_dict(), "stray.weight": torch.zeros(1)}
    with pytest.raises(ConfigError, match="does not match"):
        recipe.init_from_state({"mpn": wrong})


def test_a_narrower_head_is_widened_without_changing_the_output_and_then_trains():
    torch.manual_seed(0)
    narrow = create_network("vcnet_mpn_fine", base_channels=16, refine_channels=8).eval()
    with torch.no_grad():  # a trained-looking head: its last conv no longer zero
        for p in narrow.parameters():
            p.add_(0.05 * torch.randn_like(p))
    wide = create_network("vcnet_mpn_fine", base_channels=16, refine_channels=20).eval()
    assert wide.seed_from(narrow.state_dict()) == "widened head"
    x = narrow.example_inputs(40, 48)[0]
    with torch.no_grad():
        (p0, n0), (p1, n1) = narrow(x), wide(x)
    assert torch.equal(n0, n1)
    assert torch.allclose(p0, p1, atol=1e-5)
    # The new units start silent but not dead: the loss reaches their outgoing weights.
    wide.train()
    wide(x)[0].mean().backward()
    assert wide.refine3.weight.grad[:, 8:].abs().sum() > 0
    # A seed wider than this head, or of another body width, is refused before anything is loaded.
    before = {k: v.clone() for k, v in narrow.state_dict().items()}
    with pytest.raises(ValueError, match="does not fit"):
        narrow.seed_from(wide.state_dict())
    with pytest.raises(ValueError, match="another width"):
        narrow.seed_from(create_network("vcnet_mpn_fine", base_channels=8, refine_channels=8).state_dict())
    assert all(torch.equal(before[k], v) for k, v in narrow.state_dict().items())


def test_exported_fine_mpn_loads_in_the_engine_and_repairs_only_what_it_flags(tmp_path):
    torch.manual_seed(0)
    recipe = _recipe()
    mpn = recipe.nets["mpn"].eval()
    img = _smooth_photo(40, 52)
    img[:, 20] = 250
    x = _to_unit(img) * 2 - 1
    with torch.no_grad():  # a head that fires on the top-hat cue: the line, and little else
        mpn.refine3.weight.zero_()
        mpn.refine1.weight.zero_()
        mpn.refine1.bias.zero_()
        mpn.refine1.weight[0, 3 + CUE_NAMES.index("tophat")] = 0.0
        mpn.refine1.weight[0, 3 + CUE_NAMES.index("tophat"), 1, 1] = 1.0
        mpn.refine2.weight.zero_()
        mpn.refine2.bias.zero_()
        mpn.refine2.weight[0, 0, 1, 1] = 1.0
        mpn.refine3.weight[0, 0, 1, 1] = 40.0
        logits, _ = mpn.logits_and_neck(x)
        mpn.refine3.bias -= logits[0, 0, :, 30:].max() + 1.0  # nothing away from the line
    comps = recipe.export_components()
    ckpt = save_checkpoint(tmp_path / "vcnet_fine", "vcnet", {c.name: recipe.nets[c.name] for c in comps},
                           {c.name: {"network": c.network, "config": c.config} for c in comps})
    meta = json.loads(ckpt.with_suffix(".json").read_text())
    assert meta["components"]["mpn"]["network"] == "vcnet_mpn_fine"

    method = create_method("vcnet", checkpoint=str(ckpt), detector="mpn", fill="telea")
    pred = method.predict_mask(img)
    assert pred.mask[5:-5, 20].all()
    assert not pred.mask[:, 30:].any()
    out = method.inpaint(img)
    assert np.array_equal(out[pred.mask == 0], img[pred.mask == 0])
    assert np.abs(out[5:-5, 20].astype(int) - 250).min() > 50  # the bright line is gone


def test_mask_stage_adds_dice_and_caps_tau_when_asked():
    cfg = build_config("vcnet", "mpn", cli_options={
        "width": "0.25", "image_size": "32", "mask_tau_max": "0.9", "weights": {"dice": 1.0},
        "network": {"mpn": "vcnet_mpn_fine"}})
    recipe = get_recipe("vcnet")(cfg, torch.device("cpu"), None)
    recipe.build()
    clean = torch.rand(2, 3, 32, 32)
    batch = {"image": clean, "input": clean, "mask": torch.zeros(2, 1, 32, 32)}  # clean photos: negatives
    before = {k: v.clone() for k, v in recipe.nets["mpn"].state_dict().items() if k.startswith("refine")}
    parts = recipe.train_step(batch)
    assert set(parts) == {"bce", "dice"} and parts["bce"] > 0  # uncapped, a clean photo's BCE would be 0
    after = recipe.nets["mpn"].state_dict()
    assert any(not torch.equal(after[k], v) for k, v in before.items())  # and it did teach something
    paper = build_config("vcnet", "mpn", cli_options={"width": "0.25", "image_size": "32"})
    assert paper.mask_tau_max == 1.0 and paper.weights["dice"] == 0.0
