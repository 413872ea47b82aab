"""Shared layers: gated conv (gating, TF 'SAME' vs symmetric padding), upsampling, contextual attention
(copies the known-by-construction best patch, never from the hole) and spectral normalisation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaint_studio.networks.layers.attention import ContextualAttention, extract_patches
from inpaint_studio.networks.layers.gated import GatedConv2d, GatedUpsample, tf_same_pad
from inpaint_studio.networks.layers.spectral import (
    SpectralNormConv2d,
    legacy_spectral_norm,
    spectral_norm_estimate,
    u_column_to_vector,
    u_vector_to_column,
)

torch.manual_seed(0)


# --- gated conv ----------------------------------------------------------------------------------


def test_gated_conv_is_elu_features_times_sigmoid_gate():
    layer = GatedConv2d(4, 6, 3, 1)
    x = torch.randn(2, 4, 9, 11)
    raw = F.conv2d(x, layer.conv.weight, layer.conv.bias, padding=1)
    expected = F.elu(raw[:, :6]) * torch.sigmoid(raw[:, 6:])
    assert layer.conv.weight.shape == (12, 4, 3, 3)  # 2·C outputs stored
    torch.testing.assert_close(layer(x), expected)


def test_final_layer_is_a_plain_conv():
    layer = GatedConv2d(12, 3, 3, 1, activation=None, gated=False)
    x = torch.randn(1, 12, 8, 8)
    assert layer.conv.weight.shape == (3, 12, 3, 3)
    torch.testing.assert_close(layer(x), F.conv2d(x, layer.conv.weight, layer.conv.bias, padding=1))


@pytest.mark.parametrize("size", [8, 9])
def test_tf_same_stride2_pads_extra_at_bottom_right(size):
    x = torch.randn(1, 2, size, size)
    tf = GatedConv2d(2, 3, 3, 2, padding="tf_same")
    sym = GatedConv2d(2, 3, 3, 2, padding="symmetric")
    sym.load_state_dict(tf.state_dict())
    # TF 'SAME': total pad = max((ceil(n/2)-1)*2 + 3 - n, 0) → 1 for even n (all at the end), 2 for odd.
    pad = (0, 1, 0, 1) if size % 2 == 0 else (1, 1, 1, 1)
    raw = F.conv2d(F.pad(x, pad), tf.conv.weight, tf.conv.bias, stride=2)
    expected = F.elu(raw[:, :3]) * torch.sigmoid(raw[:, 3:])
    out = tf(x)
    assert out.shape[-1] == -(-size // 2)
    torch.testing.assert_close(out, expected)
    if size % 2 == 0:  # the two conventions really differ for the published stride-2 layers
        assert not torch.allclose(out, sym(x))
    else:
        torch.testing.assert_close(out, sym(x))


def test_tf_same_equals_symmetric_for_stride1_dilated():
    x = torch.randn(1, 2, 10, 13)
    a = GatedConv2d(2, 3, 3, 1, 4, padding="tf_same")
    b = GatedConv2d(2, 3, 3, 1, 4, padding="symmetric")
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(a(x), b(x))
    assert tf_same_pad(x, 5, 1).shape[-2:] == (14, 17)


def test_gated_upsample_doubles_size_and_uses_published_key():
    up = GatedUpsample(8, 4)
    assert set(up.state_dict()) == {"conv.conv.weight", "conv.conv.bias"}
    assert up(torch.randn(1, 8, 5, 7)).shape == (1, 4, 10, 14)


# --- contextual attention ------------------------------------------------------------------------


def _copy_scene(shift_x: int = 12, c: int = 8, h: int = 32, w: int = 40):
    """Random features; the hole (rows 8–20, cols 24–36) holds an exact copy of the block `shift_x`
    columns to its left, which lies in the known region. Attention must paste that block back."""
    g = torch.Generator().manual_seed(1)
    b = torch.randn(1, c, h, w, generator=g)
    y0, y1, x0, x1 = 8, 20, 24, 36
    b[..., y0:y1, x0:x1] = b[..., y0:y1, x0 - shift_x : x1 - shift_x]
    mask = torch.zeros(1, 1, h, w)
    mask[..., y0:y1, x0:x1] = 1
    return b, mask, (y0, y1, x0, x1)


def test_attention_copies_the_matching_known_patch():
    b, mask, (y0, y1, x0, x1) = _copy_scene()
    att = ContextualAttention(fuse=True)
    out = att(b, b, mask)
    assert out.shape == b.shape
    # Interior of the hole (a margin of one 4×4 paste patch from its border): exact copy of the source.
    inner = (..., slice(y0 + 4, y1 - 4), slice(x0 + 4, x1 - 4))
    src = (..., slice(y0 + 4, y1 - 4), slice(x0 + 4 - 12, x1 - 4 - 12))
    torch.testing.assert_close(out[inner], b[src], atol=1e-3, rtol=1e-3)


def test_attention_never_copies_from_the_hole():
    """Same scene, but the source block is also marked as hole: it is no longer a valid background patch,
    so the output cannot reproduce it."""
    b, mask, (y0, y1, x0, x1) = _copy_scene()
    mask[..., y0:y1, x0 - 12 : x1 - 12] = 1
    out = ContextualAttention(fuse=True)(b, b, mask)
    inner = (..., slice(y0 + 4, y1 - 4), slice(x0 + 4, x1 - 4))
    src = (..., slice(y0 + 4, y1 - 4), slice(x0 + 4 - 12, x1 - 4 - 12))
    assert (out[inner] - b[src]).abs().mean() > 0.3


def test_attention_handles_odd_sizes_and_fuse_buffer_persistence():
    x = torch.randn(2, 4, 15, 21)
    m = torch.zeros(2, 1, 15, 21)
    m[..., 4:9, 6:12] = 1
    assert ContextualAttention()(x, x, m).shape == x.shape
    assert "fuse_weight" in ContextualAttention(persistent_fuse_weight=True).state_dict()
    assert "fuse_weight" not in ContextualAttention(persistent_fuse_weight=False).state_dict()
    torch.testing.assert_close(ContextualAttention().fuse_weight, torch.eye(3).view(1, 1, 3, 3))


def test_fuse_equals_the_convolution_formulation():
    """The shifted-add fuse is the diagonal convolution of the score matrix (row-major, then column-major)."""
    h, w = 3, 4
    n = h * w
    y = torch.randn(1, n, h, w)
    k = torch.eye(3).view(1, 1, 3, 3)
    ref = F.conv2d(y.view(1, 1, n, n), k, padding=1)
    ref = ref.view(1, h, w, h, w).permute(0, 2, 1, 4, 3).reshape(1, 1, n, n)
    ref = F.conv2d(ref, k, padding=1).view(1, w, h, w, h).permute(0, 2, 1, 4, 3).reshape(1, n, h, w)
    torch.testing.assert_close(ContextualAttention()._fuse(y.clone(), h, w), ref)
    att = ContextualAttention()
    att.fuse_weight.copy_(torch.randn(1, 1, 3, 3))  # any loaded kernel, not only the identity
    k = att.fuse_weight
    ref = F.conv2d(y.view(1, 1, n, n), k, padding=1)
    ref = ref.view(1, h, w, h, w).permute(0, 2, 1, 4, 3).reshape(1, 1, n, n)
    ref = F.conv2d(ref, k, padding=1).view(1, w, h, w, h).permute(0, 2, 1, 4, 3).reshape(1, n, h, w)
    torch.testing.assert_close(att._fuse(y.clone(), h, w), ref)


def test_attention_backpropagates():
    x = torch.randn(1, 4, 16, 16, requires_grad=True)
    m = torch.zeros(1, 1, 16, 16)
    m[..., 4:10, 4:10] = 1
    ContextualAttention()(x, x, m).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_extract_patches_order_and_same_padding():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    p = extract_patches(x, 3, 1)
    assert p.shape == (1, 16, 1, 3, 3)
    torch.testing.assert_close(p[0, 5, 0], x[0, 0, 0:3, 0:3])  # patch centred at (1, 1)


# --- spectral norm -------------------------------------------------------------------------------


def test_spectral_norm_conv_layout_and_sigma():
    conv = SpectralNormConv2d(4, 8, 5, 2, 2)
    assert set(conv.state_dict()) == {"weight", "bias", "weight_u"}
    assert conv.weight_u.shape == (8, 1)
    conv.train()
    x = torch.randn(1, 4, 16, 16)
    for _ in range(30):  # power iterations converge across training steps
        conv(x)
    sigma = spectral_norm_estimate(conv.normalized_weight())
    assert sigma == pytest.approx(1.0, abs=0.02)
    assert spectral_norm_estimate(conv.weight) != pytest.approx(1.0, abs=0.1)  # the raw weight is untouched


def test_spectral_norm_eval_does_not_change_state():
    conv = SpectralNormConv2d(3, 5, 3, 1, 1).eval()
    u = conv.weight_u.clone()
    conv(torch.randn(1, 3, 8, 8))
    torch.testing.assert_close(conv.weight_u, u)


def test_legacy_spectral_norm_keys_and_u_reshape():
    conv = legacy_spectral_norm(torch.nn.Conv2d(3, 6, 3))
    sd = conv.state_dict()
    assert {"weight_orig", "weight_u", "weight_v", "bias"} <= set(sd) and "weight" not in sd
    assert sd["weight_u"].shape == (6,) and sd["weight_v"].shape == (27,)
    col = u_vector_to_column(sd["weight_u"])
    assert col.shape == (6, 1)
    torch.testing.assert_close(u_column_to_vector(col), sd["weight_u"])
