"""VCNet networks (published sizes, shapes, discriminators) and the `vcnet` engine method (blind and
masked restoration, mask prediction, compositing)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaint_studio.core.errors import InpaintStudioError, MaskError, ModelUnavailableError
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.methods.vcnet import VCNetMethod
from inpaint_studio.networks import vcnet as vc
from inpaint_studio.networks.layers.pcn import PCN
from inpaint_studio.networks.registry import create_network


def _params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def _small(seed: int = 0, **rin_kw) -> dict[str, torch.nn.Module]:
    torch.manual_seed(seed)
    mpn = create_network("vcnet_mpn", base_channels=8, bottleneck_dilations=[2])
    rin = create_network("vcnet_rin", base_channels=8, neck_channels=16, middle_dilations=[2], **rin_kw)
    return {"mpn": mpn, "rin": rin}


def _force_mpn(mpn: torch.nn.Module, logit: float) -> None:
    with torch.no_grad():
        mpn.conv1.weight.zero_()
        mpn.conv1.bias.fill_(logit)


def _scene(h: int, w: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[h // 4 : h // 2, w // 3 : w // 2 + 10] = 255
    return img, mask


class _Spy:
    def __init__(self, module: torch.nn.Module) -> None:
        self.args: list[tuple[torch.Tensor, ...]] = []
        module.register_forward_pre_hook(lambda m, a: self.args.append(tuple(t.detach().clone() for t in a)))


# --- networks ----------------------------------------------------------------------------------


def test_published_parameter_counts():
    assert _params(vc.vcnet_mpn()) == 1_377_761
    assert _params(vc.vcnet_rin()) == 2_502_353
    assert _params(vc.vcnet_discriminator()) == 4_749_057
    assert _params(vc.vcnet_patch_discriminator()) == 4_749_057


def test_mpn_gives_a_probability_map_and_a_quarter_resolution_feature():
    nets = _small()
    prob, neck = nets["mpn"](torch.rand(2, 3, 40, 56) * 2 - 1)
    assert prob.shape == (2, 1, 40, 56) and prob.min() >= 0 and prob.max() <= 1
    assert neck.shape == (2, 16, 10, 14)


def test_rin_output_shape_range_and_dependence_on_the_mpn_feature():
    nets = _small()
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    hole = torch.zeros(1, 1, 32, 32)
    hole[..., 8:20, 8:20] = 1
    neck = torch.randn(1, 16, 8, 8)
    y = nets["rin"](x * (1 - hole), hole, neck)
    assert y.shape == (1, 3, 32, 32) and y.abs().max() < 1
    assert not torch.allclose(y, nets["rin"](x * (1 - hole), hole, neck * 0))


def test_unused_batchnorms_are_kept_for_the_published_keys_and_do_not_affect_forward():
    mpn = _small()["mpn"].eval()
    x = torch.rand(1, 3, 16, 16)
    before = mpn(x)[0]
    with torch.no_grad():
        mpn.rb1.n2.weight.fill_(7.0)
        mpn.cb1.n1.bias.fill_(-3.0)
    assert torch.equal(before, mpn(x)[0])
    assert "rb1.n2.running_mean" in mpn.state_dict() and "cb1.n1.num_batches_tracked" in mpn.state_dict()


def test_rin_settings_reach_every_pcn_and_the_output_reading():
    rin = vc.vcnet_rin(base_channels=8, neck_channels=16, pcn_mode="reproduction", output_range="zero_one")
    modes = {m.mode for m in rin.modules() if isinstance(m, PCN)}
    assert modes == {"reproduction"}
    y = torch.tensor([-0.5, 0.25, 0.9])
    assert torch.allclose(rin.to_unit_range(y), torch.tensor([0.0, 0.25, 0.9]))
    ours = vc.vcnet_rin(base_channels=8, neck_channels=16)
    assert torch.allclose(ours.to_unit_range(y), torch.tensor([0.25, 0.625, 0.95]))
    assert torch.allclose(ours.to_unit_range(ours.from_unit_range(torch.tensor([0.1, 0.8]))), torch.tensor([0.1, 0.8]))
    with pytest.raises(ValueError):
        vc.vcnet_rin(output_range="bogus")


def test_global_discriminator_needs_256_and_patch_discriminator_weights_by_the_mask():
    torch.manual_seed(0)
    d = vc.vcnet_discriminator(base_channels=4)
    assert d(torch.rand(2, 3, 256, 256)).shape == (2, 1)
    with pytest.raises(ValueError, match="256"):
        d(torch.rand(1, 3, 128, 128))
    small = vc.vcnet_discriminator(base_channels=4, input_size=64)  # trainer knob for small crops
    assert small(torch.rand(1, 3, 64, 64)).shape == (1, 1)

    pd = vc.vcnet_patch_discriminator(base_channels=4).eval()  # eval: no power iteration between calls
    x = torch.rand(1, 3, 64, 64)
    feats = pd.image_to_features(x)  # 1×32×2×2
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., :32, :32] = 1  # only the top-left feature cell
    expected = feats[:, :, 0, 0].sum(dim=1, keepdim=True)
    assert torch.allclose(pd(x, mask), expected, atol=1e-5)


# --- engine method -----------------------------------------------------------------------------


def test_predict_mask_returns_probabilities_and_the_thresholded_mask():
    img, _ = _scene(50, 70)
    method = VCNetMethod.from_modules(_small())
    pred = method.predict_mask(img)
    assert pred.probability.shape == (50, 70) and pred.probability.dtype == np.float32
    assert pred.probability.min() >= 0 and pred.probability.max() <= 1
    assert np.array_equal(pred.mask, np.where(pred.probability >= 0.5, 255, 0).astype(np.uint8))


@pytest.mark.parametrize(("h", "w"), [(256, 256), (250, 333)])
def test_inpaint_with_a_mask_uses_it_as_the_hole_and_keeps_the_rest(h, w):
    img, mask = _scene(h, w)
    nets = _small()
    spy = _Spy(nets["rin"])
    out = VCNetMethod.from_modules(nets).inpaint(img, mask)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out[mask == 0], img[mask == 0])
    assert (out[mask > 0] != img[mask > 0]).any()
    x, hole, _neck = spy.args[0]
    assert x.shape[-2] % 4 == 0 and x.shape[-1] % 4 == 0
    assert torch.equal(hole[0, 0, :h, :w], torch.from_numpy(mask > 0).float())
    assert (x[0, :, :h, :w][:, torch.from_numpy(mask > 0)] == 0).all()  # input is x·(1−m̂)
    assert torch.isfinite(x).all()


def test_blind_inpaint_feeds_the_soft_prediction_and_changes_only_predicted_pixels():
    img, _ = _scene(64, 64)
    nets = _small(seed=3)
    spy_mpn_out: list[torch.Tensor] = []
    nets["mpn"].register_forward_hook(lambda m, a, out: spy_mpn_out.append(out[0].detach().clone()))
    spy = _Spy(nets["rin"])
    method = VCNetMethod.from_modules(nets)
    predicted = method.predict_mask(img).mask
    out = method.inpaint(img)
    assert torch.equal(spy.args[0][1], spy_mpn_out[-1])  # RIN's hole = the MPN's probabilities
    changed = (out != img).any(axis=-1)
    assert not (changed & (predicted == 0)).any()


def test_blind_inpaint_with_nothing_predicted_returns_the_image_and_everything_predicted_repaints():
    img, _ = _scene(32, 48)
    nets = _small()
    _force_mpn(nets["mpn"], -30.0)
    method = VCNetMethod.from_modules(nets)
    assert not method.predict_mask(img).mask.any()
    assert np.array_equal(method.inpaint(img), img)
    _force_mpn(nets["mpn"], 30.0)
    assert method.predict_mask(img).mask.all()
    assert (method.inpaint(img) != img).any(axis=-1).mean() > 0.5


def test_large_photos_are_scanned_shrunk_and_repaired_under_the_hd_strategy():
    img, _ = _scene(90, 120)
    nets = _small()
    mpn_in, rin_in = _Spy(nets["mpn"]), _Spy(nets["rin"])
    method = VCNetMethod.from_modules(nets, max_side=48)
    pred = method.predict_mask(img)
    assert pred.probability.shape == (90, 120)
    assert max(mpn_in.args[-1][0].shape[-2:]) <= 48
    out = method.inpaint(img)
    assert not ((out != img).any(axis=-1) & (pred.mask == 0)).any()
    assert all(max(a[0].shape[-2:]) <= 48 for a in rin_in.args)
    _force_mpn(nets["mpn"], 30.0)
    assert (method.inpaint(img) != img).any(axis=-1).mean() > 0.5
    _force_mpn(nets["mpn"], -30.0)
    assert np.array_equal(method.inpaint(img), img)


def _scratched(h: int = 96, w: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """A smooth photo-like gradient with one long bright scratch: what the classical detector finds."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([60 + xx * 0.8, 80 + yy * 0.6, 120 + 0 * xx], -1).astype(np.uint8)
    scratch = np.zeros((h, w), np.uint8)
    scratch[h // 2, 10 : w - 10] = 255
    img[scratch > 0] = 250
    return img, scratch


def test_mpn_plus_classical_unites_the_two_masks():
    from inpaint_studio.core.damage import damage_mask, detect_damage

    img, scratch = _scratched()
    classical = damage_mask(detect_damage(img))
    assert (classical[scratch > 0] > 0).mean() > 0.9  # the scene is one the detector sees
    nets = _small()
    _force_mpn(nets["mpn"], -30.0)  # the network finds nothing
    alone = VCNetMethod.from_modules(nets).predict_mask(img)
    assert not alone.mask.any()
    united = VCNetMethod.from_modules(nets, detector="mpn+classical").predict_mask(img)
    assert np.array_equal(united.mask, classical)
    assert np.array_equal(united.probability, np.maximum(alone.probability, detect_damage(img)))
    _force_mpn(nets["mpn"], 30.0)
    assert VCNetMethod.from_modules(nets, detector="mpn+classical").predict_mask(img).mask.all()


def test_telea_fill_and_the_checkpoints_blind_choice():
    from inpaint_studio.core.damage import restore_hole

    img, scratch = _scratched()
    nets = _small()
    _force_mpn(nets["mpn"], -30.0)
    rin_calls = _Spy(nets["rin"])
    # the checkpoint's measured choice applies without options; an option overrides it
    method = VCNetMethod.from_modules(nets, meta={"blind": {"detector": "mpn+classical", "fill": "telea"}})
    assert (method.detector, method.fill) == ("mpn+classical", "telea")
    out = method.inpaint(img)
    hole = restore_hole(method.predict_mask(img).mask)
    assert np.array_equal(out, create_method("telea").inpaint(img, hole))
    assert not rin_calls.args  # the RIN never ran
    assert np.abs(out[scratch > 0].astype(int) - 250).min() > 50  # the scratch is gone
    assert VCNetMethod.from_modules(nets, meta={"blind": {"fill": "telea"}}, fill="rin").fill == "rin"
    with pytest.raises(ValueError, match="detector"):
        VCNetMethod.from_modules(nets, detector="guess")


def test_bad_inputs_and_missing_weights_give_clear_errors():
    img, mask = _scene(32, 32)
    method = VCNetMethod.from_modules(_small())
    with pytest.raises(MaskError):
        method.inpaint(img, mask[:, :-2])
    with pytest.raises(InpaintStudioError, match="RGB"):
        method.predict_mask(img[..., 0])
    unloaded = create_method("vcnet")
    assert unloaded.capabilities.blind and not unloaded.capabilities.needs_mask
    assert not unloaded.is_available()
    with pytest.raises(ModelUnavailableError):
        unloaded.predict_mask(img)


def test_mask_network_looks_at_the_checkpoints_mask_size():
    img, _ = _scene(90, 120)
    nets = _small()
    mpn_in = _Spy(nets["mpn"])
    method = VCNetMethod.from_modules(nets, meta={"inference": {"mask_size": 40}})
    assert method.mask_size == 40
    pred = method.predict_mask(img)
    assert pred.probability.shape == (90, 120) and max(mpn_in.args[-1][0].shape[-2:]) <= 40 + 4
    VCNetMethod.from_modules(nets, meta={"inference": {"mask_size": 40}}, mask_size=200).predict_mask(img)
    assert max(mpn_in.args[-1][0].shape[-2:]) == 120  # the option wins: the photo is within it, full size
    assert VCNetMethod.from_modules(nets).mask_size == 1024  # nothing recorded: max_side
    with pytest.raises(ValueError, match="mask_size"):
        VCNetMethod.from_modules(nets, mask_size=4)


def test_the_checkpoints_blind_threshold_decides_the_mask():
    img, _ = _scene(40, 56)
    nets = _small(seed=5)
    prob = VCNetMethod.from_modules(nets).predict_mask(img).probability
    t = float(np.quantile(prob, 0.7))  # a threshold that keeps about 30 % of the pixels
    method = VCNetMethod.from_modules(nets, meta={"blind": {"threshold": t}})
    assert method.threshold == t
    assert np.array_equal(method.predict_mask(img).mask, np.where(prob >= t, 255, 0).astype(np.uint8))
    assert VCNetMethod.from_modules(nets, meta={"blind": {"threshold": t}}, threshold=0.9).threshold == 0.9
    assert VCNetMethod.from_modules(nets).threshold == 0.5
    with pytest.raises(ValueError, match="threshold"):
        VCNetMethod.from_modules(nets, threshold=1.5)


def test_a_checkpoint_that_chose_telea_fills_given_masks_with_telea_too():
    img, mask = _scene(48, 64)
    nets = _small()
    rin_calls = _Spy(nets["rin"])
    method = VCNetMethod.from_modules(nets, meta={"blind": {"fill": "telea"}})
    assert np.array_equal(method.inpaint(img, mask), create_method("telea").inpaint(img, mask))
    assert not rin_calls.args
    VCNetMethod.from_modules(nets, meta={"blind": {"fill": "telea"}}, fill="rin").inpaint(img, mask)
    assert rin_calls.args  # the option still reaches the network


def test_a_blot_found_only_at_its_edge_is_taken_whole_but_a_lines_band_is_not():
    """The mask network is unsure inside a flat blot (it sees the edge): a found arc on a small compact region
    of likely damage brings the whole blot; the likely band along a found line stays out (a wider band blurred
    hairlines)."""
    import cv2

    from inpaint_studio.engine.methods.vcnet import _whole_blots

    prob = np.zeros((512, 512), np.float32)
    mask = np.zeros((512, 512), np.uint8)
    cv2.circle(prob, (50, 50), 8, 0.89, -1)  # a blot, sure only of its edge
    cv2.ellipse(mask, (50, 50), (8, 8), 0, 120, 300, 255, 2)  # an open arc: encloses nothing
    cv2.line(prob, (100, 150), (190, 150), 0.7, 7)  # a line's likely band ...
    cv2.line(mask, (100, 150), (190, 150), 255, 2)  # ... around the line found
    cv2.circle(prob, (150, 50), 8, 0.89, -1)  # a blot nothing found touches
    out = _whole_blots(mask, prob)
    assert out[50, 50] == 255
    assert (out[(prob > 0) & (np.arange(512)[None, :] < 80)] == 255).all()  # the whole first blot
    assert out[147, 150] == 0 and out[150, 150] == 255  # the band stays out, the line stays in
    assert out[50, 150] == 0  # an untouched blot is not damage found
    assert not ((mask > 0) & (out == 0)).any()
