"""Contextual attention exactly as published: the hole cells of the matching grid come from a nearest-sampled
mask and patches are normalised by sqrt(Σ(w² + 1e-4)) in the published PyTorch code (DeepFill v1 and v2
ports). Our layer, run with those conventions, matches numbers computed from that formula (written out below
from its description); our own checkpoints keep max-pooling, recorded in their network config."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from fake_checkpoints import write_fake_pth

from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import read_metadata, save_checkpoint
from inpaint_studio.engine.importer import import_checkpoint
from inpaint_studio.networks.deepfill_v2 import attention_mask_like
from inpaint_studio.networks.layers.attention import ContextualAttention
from inpaint_studio.networks.registry import create_network


def _upstream_attention(x: torch.Tensor, full_mask: torch.Tensor, rate: int = 2, scale: float = 10.0) -> torch.Tensor:
    """The published PyTorch formula for f = b = x (1/4-resolution features), batch 1: mask resized by
    nearest to 1/(4·rate) of the image; a 3×3 background patch is usable when its mask cells average 0;
    cosine scores with norms sqrt(Σ(w² + 1e-4)); identity fuse (row-major, then column-major); masked
    softmax ×10; 4×4 raw patches pasted by a stride-2 transposed conv, /4."""
    _, c, h, w = x.shape
    m = F.interpolate(full_mask, scale_factor=1.0 / (4 * rate), mode="nearest", recompute_scale_factor=False)
    xs = F.interpolate(x, scale_factor=1.0 / rate, mode="nearest", recompute_scale_factor=False)
    hs, ws = xs.shape[-2:]
    n = hs * ws
    mm = (F.unfold(m, 3, padding=1).mean(dim=1) == 0).float().view(1, n, 1, 1)
    wts = F.unfold(xs, 3, padding=1)[0].t().reshape(n, c, 3, 3)
    wts = wts / torch.sqrt((wts**2 + 1e-4).sum(dim=(1, 2, 3), keepdim=True))
    y = F.conv2d(xs, wts, padding=1)  # 1×L×hs×ws
    eye = torch.eye(3).view(1, 1, 3, 3)
    y = F.conv2d(y.view(1, 1, n, n), eye, padding=1)
    y = y.view(1, hs, ws, hs, ws).permute(0, 2, 1, 4, 3).reshape(1, 1, n, n)
    y = F.conv2d(y, eye, padding=1).view(1, ws, hs, ws, hs).permute(0, 2, 1, 4, 3).reshape(1, n, hs, ws)
    y = F.softmax(y * mm * scale, dim=1) * mm
    raw = F.unfold(x, 2 * rate, stride=rate, padding=1)[0].t().reshape(n, c, 2 * rate, 2 * rate)
    return F.conv_transpose2d(y, raw, stride=rate, padding=1) / 4.0


def _test_mask(size: int = 256) -> torch.Tensor:
    """A box and thin strokes that do not line up with the 8-pixel grid: nearest sampling and max-pooling
    disagree on many cells."""
    mask = torch.zeros(1, 1, size, size)
    mask[..., 70:131, 93:170] = 1
    for i in range(0, 150):
        mask[..., 20 + i : 23 + i, 30 + i // 2 : 32 + i // 2] = 1  # a 2-3 px diagonal scratch
    mask[..., 200:203, 10:240] = 1  # a thin horizontal line between sample rows
    return mask


def test_published_conventions_match_the_upstream_formula():
    torch.manual_seed(0)
    full = _test_mask()
    x = torch.relu(torch.randn(1, 8, 64, 64))  # the attention branch's ReLU features at 1/4 resolution
    layer = ContextualAttention(mask_mode="nearest", norm_mode="eps_sum")
    ours = layer(x, x, attention_mask_like(full, x, "nearest"))
    ref = _upstream_attention(x, full)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-4)

    # Max-pooling (our trained checkpoints' convention) marks different cells and fills differently.
    cells_nearest = F.interpolate(full, scale_factor=1 / 8, mode="nearest", recompute_scale_factor=False)
    cells_maxpool = F.max_pool2d(full, 8)
    differ = int((cells_nearest != cells_maxpool).sum())
    assert differ > 40, differ  # of 32×32 = 1 024 cells
    theirs = ContextualAttention(mask_mode="maxpool", norm_mode="eps_sum")(x, x, attention_mask_like(full, x, "maxpool"))
    assert (theirs - ref).abs().max() > 0.1


def test_layer_defaults_are_the_published_conventions_and_bad_modes_are_refused():
    layer = ContextualAttention()
    assert (layer.mask_mode, layer.norm_mode) == ("nearest", "eps_sum")
    with pytest.raises(ValueError, match="mask_mode"):
        ContextualAttention(mask_mode="bilinear")
    with pytest.raises(ValueError, match="norm_mode"):
        ContextualAttention(norm_mode="l1")


def test_generator_config_selects_the_convention():
    g = create_network("deepfill_v2_generator", cnum=8, attention_mask="maxpool", attention_norm="clamp")
    att = g.stage2.contextual_attention
    assert (att.mask_mode, att.norm_mode) == ("maxpool", "clamp")
    g.eval()
    image, mask = g.example_inputs(64, 64)
    mask[..., 5:7, :] = 1  # a thin line the nearest samples miss
    with torch.no_grad():
        _, out_max = g(image, mask)
        att.mask_mode = "nearest"
        _, out_near = g(image, mask)
    assert not torch.equal(out_max, out_near)


@pytest.mark.parametrize(
    ("manifest", "file"),
    [
        ("deepfill_v2_pytorch_finetuned", "states_pt_places2.pth"),
        ("deepfill_v2_official_converted", "states_tf_places2.pth"),
    ],
)
def test_imported_published_weights_record_and_run_the_published_convention(tmp_path, manifest, file):
    st = import_checkpoint(write_fake_pth(manifest, tmp_path / file), dest_dir=tmp_path / "out")
    config = read_metadata(st)["components"]["generator"]["config"]
    assert (config["attention_mask"], config["attention_norm"]) == ("nearest", "eps_sum")
    method = create_method("deepfill_v2", checkpoint=st, device="cpu")
    method.load()
    att = method.modules["generator"].stage2.contextual_attention
    assert (att.mask_mode, att.norm_mode) == ("nearest", "eps_sum")


def _legacy(tmp_path, name: str, source: dict) -> str:
    """A checkpoint written before the option existed: no attention keys in its network config."""
    g = create_network("deepfill_v2_generator", cnum=8)
    spec = {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 8}}}
    st = save_checkpoint(tmp_path / name, "deepfill_v2", {"generator": g}, spec, {"source": source})
    assert "attention_mask" not in json.loads(st.with_suffix(".json").read_text())["components"]["generator"]["config"]
    return st


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"file": "best.pt", "trained_by": "inpaint-studio trainer"}, ("maxpool", "clamp")),
        ({"file": "states_pt_places2.pth", "layout": "deepfill_v2_pytorch_finetuned"}, ("nearest", "eps_sum")),
    ],
)
def test_checkpoints_without_a_recorded_convention_keep_the_one_they_were_made_with(tmp_path, source, expected):
    method = create_method("deepfill_v2", checkpoint=_legacy(tmp_path, "old", source), device="cpu")
    method.load()
    att = method.modules["generator"].stage2.contextual_attention
    assert (att.mask_mode, att.norm_mode) == expected


def test_shipped_deepfill_v2_records_what_it_was_trained_with():
    from inpaint_studio.core.paths import PROJECT_ROOT

    path = PROJECT_ROOT / "models" / "deepfill_v2-small.json"  # the repository's file (tests hide models/)
    config = json.loads(path.read_text())["components"]["generator"]["config"]
    assert (config["attention_mask"], config["attention_norm"]) == ("maxpool", "clamp")
