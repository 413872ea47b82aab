"""EdgeConnect networks (published sizes, outputs) and the `edgeconnect` engine method (padding, compositing,
edges drawn by the caller steering the fill)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.color import rgb2gray

from inpaint_studio.core.edges import canny_edges
from inpaint_studio.core.errors import Cancelled, MaskError, ModelUnavailableError
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.methods.edgeconnect import EdgeConnectMethod
from inpaint_studio.networks import edgeconnect as ec
from inpaint_studio.networks.registry import create_network


def _params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def _small(seed: int = 0) -> dict[str, torch.nn.Module]:
    torch.manual_seed(seed)
    return {
        "edge_generator": create_network("edgeconnect_edge_generator", base_channels=8, num_blocks=1),
        "inpaint_generator": create_network("edgeconnect_inpaint_generator", base_channels=8, num_blocks=1),
    }


def _scene(h: int, w: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A striped image with texture, and a rectangular hole in the middle."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.where(((xx + yy) // 16) % 2 == 0, 200, 40).astype(np.int16)
    img = np.clip(base[..., None] + rng.integers(-20, 20, (h, w, 3)), 0, 255).astype(np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[h // 3 : h // 3 + h // 4, w // 4 : w // 4 + w // 3] = 255
    return img, mask


class _Spy:
    """Records the input (pre-hook) or output (hook) of a module on each call."""

    def __init__(self, module: torch.nn.Module, output: bool = False) -> None:
        self.seen: list[torch.Tensor] = []
        if output:
            self.handle = module.register_forward_hook(lambda m, a, out: self.seen.append(out.detach().clone()))
        else:
            self.handle = module.register_forward_pre_hook(lambda m, a: self.seen.append(a[0].detach().clone()))


# --- networks ----------------------------------------------------------------------------------


def test_published_parameter_counts():
    assert _params(ec.edgeconnect_edge_generator()) == 10_761_089
    assert _params(ec.edgeconnect_inpaint_generator()) == 10_774_595
    assert _params(ec.edgeconnect_edge_discriminator()) == 2_762_752
    assert _params(ec.edgeconnect_inpaint_discriminator()) == 2_763_776


def test_edge_generator_uses_legacy_spectral_norm_and_inpaint_generator_does_not():
    edge = ec.edgeconnect_edge_generator(base_channels=8, num_blocks=2).state_dict()
    assert "encoder.1.weight_orig" in edge and "encoder.1.weight_u" in edge and "encoder.1.weight_v" in edge
    assert "encoder.1.weight" not in edge and "middle.1.conv_block.5.weight" not in edge
    assert "decoder.7.weight" in edge  # the output conv is plain
    inpaint = ec.edgeconnect_inpaint_generator(base_channels=8, num_blocks=2).state_dict()
    assert not any(k.endswith(("weight_orig", "weight_u", "weight_v")) for k in inpaint)
    assert not any("running_mean" in k for k in inpaint)  # InstanceNorm without affine or stats


def test_width_and_depth_knobs_shrink_the_networks():
    small = ec.edgeconnect_inpaint_generator(base_channels=16, num_blocks=2)
    assert _params(small) < _params(ec.edgeconnect_inpaint_generator()) / 40
    assert sum(1 for k in small.state_dict() if k.startswith("middle.") and k.endswith("conv_block.1.weight")) == 2


def test_generator_outputs_have_the_published_ranges_and_input_size():
    torch.manual_seed(0)
    nets = _small()
    x = torch.rand(2, 3, 36, 52)
    edges = nets["edge_generator"](x)
    assert edges.shape == (2, 1, 36, 52) and edges.min() >= 0 and edges.max() <= 1
    rgb = nets["inpaint_generator"](torch.rand(2, 4, 36, 52))
    assert rgb.shape == (2, 3, 36, 52) and rgb.min() >= 0 and rgb.max() <= 1


def test_discriminator_returns_patch_probabilities_and_five_feature_maps():
    d = ec.edgeconnect_edge_discriminator(base_channels=8).eval()  # eval: no power iteration between calls
    x = torch.rand(1, 2, 64, 64)
    out, feats = d(x)
    assert len(feats) == 5 and feats[0].shape == (1, 8, 32, 32)
    assert out.shape == (1, 1, 6, 6) and out.min() >= 0 and out.max() <= 1
    d.use_sigmoid = False  # hinge/WGAN training reads the raw logits
    raw, _ = d(x)
    assert torch.allclose(out, torch.sigmoid(raw)) and not torch.allclose(raw, out)


def test_network_inputs_follow_the_published_convention():
    img, mask = _scene(20, 24)
    image = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    grey = ec.to_grey(image)[0, 0].numpy()
    assert np.allclose(grey, rgb2gray(img), atol=1e-6)  # the luminance Canny sees in core.edges
    m = torch.from_numpy(mask > 0).float()[None, None]
    edges = torch.ones_like(m)
    x = ec.edge_generator_input(ec.to_grey(image), edges, m)
    hole = mask > 0
    assert (x[0, 0].numpy()[hole] == 1).all() and (x[0, 1].numpy()[hole] == 0).all()
    assert (x[0, 1].numpy()[~hole] == 1).all() and torch.equal(x[0, 2], m[0, 0])
    y = ec.inpaint_generator_input(image, edges, m)
    assert y.shape == (1, 4, 20, 24) and (y[0, :3].numpy()[:, hole] == 1).all()
    assert torch.equal(y[0, :3][:, torch.from_numpy(~hole)], image[0][:, torch.from_numpy(~hole)])


# --- engine method -----------------------------------------------------------------------------


@pytest.mark.parametrize(("h", "w"), [(256, 256), (250, 333)])
def test_inpaint_keeps_size_changes_only_the_hole(h, w):
    img, mask = _scene(h, w)
    nets = _small()
    spy = _Spy(nets["inpaint_generator"], output=True)
    out = EdgeConnectMethod.from_modules(nets).inpaint(img, mask)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out[mask == 0], img[mask == 0])
    assert (out[mask > 0] != img[mask > 0]).any()
    net_out = spy.seen[-1]
    assert net_out.shape[-2] % 4 == 0 and net_out.shape[-1] % 4 == 0  # padded, never cropped
    assert torch.isfinite(net_out).all()


def test_caller_edges_are_fed_exactly_inside_the_hole_and_steer_the_fill():
    img, mask = _scene(96, 120)
    nets = _small()
    spy = _Spy(nets["inpaint_generator"])
    method = EdgeConnectMethod.from_modules(nets)

    vertical = np.zeros(mask.shape, np.uint8)
    vertical[:, 40:42] = 255
    horizontal = np.zeros(mask.shape, np.uint8)
    horizontal[45:47, :] = 255
    fill_v = method.inpaint(img, mask, edges=vertical)
    fill_h = method.inpaint(img, mask, edges=horizontal)
    assert not np.array_equal(fill_v, fill_h)

    hole = mask > 0
    known = canny_edges(img, mask) > 0
    for caller, x in ((vertical, spy.seen[0]), (horizontal, spy.seen[1])):
        fed = x[0, 3, : mask.shape[0], : mask.shape[1]].numpy()
        assert np.array_equal(fed[hole], (caller[hole] > 0).astype(np.float32))
        assert np.array_equal(fed[~hole], known[~hole].astype(np.float32))
        # The image channels carry the published masking: white in the hole.
        assert (x[0, :3, : mask.shape[0], : mask.shape[1]].numpy()[:, hole] == 1.0).all()


def test_without_caller_edges_the_hole_gets_the_edge_networks_prediction():
    img, mask = _scene(64, 64)
    nets = _small()
    predicted = _Spy(nets["edge_generator"], output=True)
    fed = _Spy(nets["inpaint_generator"])
    EdgeConnectMethod.from_modules(nets).inpaint(img, mask)
    hole = torch.from_numpy(mask > 0)
    assert torch.equal(fed.seen[0][0, 3][hole], predicted.seen[0][0, 0][hole])
    edge_in = _Spy(nets["edge_generator"])
    EdgeConnectMethod.from_modules(nets).inpaint(img, mask)
    x = edge_in.seen[0][0]
    assert torch.equal(x[2], hole.float())  # mask channel
    assert (x[0][hole] == 1).all() and (x[1][hole] == 0).all()  # grey white, no edges in the hole


@pytest.mark.parametrize(("bias", "expected"), [(30.0, 255), (-30.0, 0)])
def test_predict_edges_thresholds_inside_the_hole_and_keeps_canny_outside(bias, expected):
    img, mask = _scene(64, 80)
    nets = _small()
    with torch.no_grad():
        last = nets["edge_generator"].decoder[-1]
        last.weight.zero_()
        last.bias.fill_(bias)
    edges = EdgeConnectMethod.from_modules(nets).predict_edges(img, mask)
    assert edges.shape == mask.shape and edges.dtype == np.uint8
    assert (edges[mask > 0] == expected).all()
    canny = canny_edges(img, mask)
    assert np.array_equal(edges[mask == 0], canny[mask == 0]) and canny[mask == 0].any()


def test_bad_inputs_give_clear_errors_and_empty_masks_change_nothing():
    img, mask = _scene(32, 32)
    method = EdgeConnectMethod.from_modules(_small())
    with pytest.raises(MaskError, match="needs a mask"):
        method.inpaint(img, None)
    with pytest.raises(MaskError):
        method.inpaint(img, mask[:-1])
    with pytest.raises(MaskError, match="edge map"):
        method.inpaint(img, mask, edges=np.zeros((5, 5), np.uint8))
    with pytest.raises(MaskError, match="uint8 32×32"):
        method.inpaint(img, mask, edges=np.zeros((32, 32), np.float32))
    empty = np.zeros_like(mask)
    out = method.inpaint(img, empty)
    assert np.array_equal(out, img) and out is not img
    with pytest.raises(Cancelled):
        method.inpaint(img, mask, cancel=lambda: True)


def test_registered_method_without_weights_is_unavailable():
    method = create_method("edgeconnect")
    assert method.capabilities.accepts_edges and method.capabilities.predicts_edges
    assert not method.is_available()
    img, mask = _scene(32, 32)
    with pytest.raises(ModelUnavailableError, match="import"):
        method.inpaint(img, mask)
