"""DeepFill v2 networks: every published key and shape reproduced (through the filters), the published
input convention, the width knob, and the `deepfill_v2` engine method run on in-memory networks."""

from __future__ import annotations

import imagegen as gen
import numpy as np
import pytest
import torch
from fake_checkpoints import load_manifest, manifest_shapes

from inpaint_studio.core.errors import Cancelled, CheckpointError, MaskError, ModelUnavailableError
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import save_checkpoint
from inpaint_studio.engine.methods.deepfill_v2 import DeepFillV2Method
from inpaint_studio.networks import deepfill_v2 as df
from inpaint_studio.networks.registry import create_network

torch.manual_seed(0)


def _shape_diff(expected: dict[str, list[int]], ours: dict[str, torch.Tensor]) -> str:
    lines = []
    for k, shape in expected.items():
        if k not in ours:
            lines.append(f"  missing in ours: {k} {shape}")
        elif list(ours[k].shape) != shape:
            lines.append(f"  shape {k}: ours {list(ours[k].shape)} published {shape}")
    lines += [f"  not published: {k} {list(v.shape)}" for k, v in ours.items() if k not in expected]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("manifest", "layout", "filt"),
    [
        ("deepfill_v2_pytorch_finetuned", "pytorch", lambda s: s),
        ("deepfill_v2_official_converted", "tf", df.to_tf_layout),
    ],
)
def test_generator_reproduces_every_published_key_and_shape(manifest, layout, filt):
    expected = manifest_shapes(load_manifest(manifest))["G"]
    ours = filt(create_network("deepfill_v2_generator", layout=layout).state_dict())
    diff = _shape_diff(expected, ours)
    assert not diff, f"{manifest} generator differs key by key:\n{diff}"
    params = sum(p.numel() for p in create_network("deepfill_v2_generator", layout=layout).parameters())
    assert (
        params
        == load_manifest(manifest)["per_part"][next(iter(load_manifest(manifest)["per_part"]))][
            "trainable_params"
        ]
    )


@pytest.mark.parametrize("manifest", ["deepfill_v2_pytorch_finetuned", "deepfill_v2_official_converted"])
def test_discriminator_reproduces_published_keys(manifest):
    expected = manifest_shapes(load_manifest(manifest), "training_checkpoint")["D"]
    ours = df.discriminator_filter(create_network("deepfill_v2_discriminator").state_dict())
    diff = _shape_diff(expected, ours)
    assert not diff, f"{manifest} discriminator differs key by key:\n{diff}"


def test_tf_filter_is_a_pure_renaming_roundtrip():
    g = create_network("deepfill_v2_generator", layout="tf")
    sd = g.state_dict()
    back = df.from_tf_layout(df.to_tf_layout(sd))
    assert back.keys() == sd.keys()
    assert all(back[k] is sd[k] for k in sd)  # same tensors: renaming only, no arithmetic
    with pytest.raises(KeyError, match="no mapping"):
        df.from_tf_layout({"conv99.conv.weight": torch.zeros(1)})


def test_generator_ignores_hole_content_and_keeps_range():
    """Published convention: the network sees img·(1−m); whatever is under the hole cannot matter."""
    g = create_network("deepfill_v2_generator", cnum=8).eval()
    image, mask = g.example_inputs(64, 64)
    other = torch.where(mask.bool(), torch.rand_like(image) * 2 - 1, image)
    with torch.no_grad():
        a1, a2 = g(image, mask)
        b1, b2 = g(other, mask)
    torch.testing.assert_close(a2, b2)
    torch.testing.assert_close(a1, b1)
    assert a2.abs().max() <= 1.0


def test_width_knob_builds_small_variants():
    small = create_network("deepfill_v2_generator", cnum=8)
    full = create_network("deepfill_v2_generator")
    n_small = sum(p.numel() for p in small.parameters())
    n_full = sum(p.numel() for p in full.parameters())
    assert n_small < n_full / 20
    with pytest.raises(ValueError):
        create_network("deepfill_v2_generator", cnum=10)


def test_discriminator_output_is_one_score_per_patch():
    d = create_network("deepfill_v2_discriminator", cnum=8)
    (x,) = d.example_inputs(128, 96)
    assert d(x).shape == (1, 32 * 2 * 2)


def test_method_on_in_memory_network_keeps_known_pixels():
    image = gen.textured(72, 90, seed=3)
    mask = gen.box_mask(72, 90, 20, 30, 45, 60)
    g = create_network("deepfill_v2_generator", cnum=8)
    method = DeepFillV2Method.from_modules({"generator": g})
    out = method.inpaint(image, mask)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out[mask == 0], image[mask == 0])  # bit-identical outside the hole
    assert (out[mask > 0] != image[mask > 0]).any()
    assert g.training  # the caller's mode is restored after the run


def test_method_bgr_checkpoint_flips_channels():
    """A BGR checkpoint must see BGR: with the channel order swapped, the fill is the channel-swapped
    fill of the channel-swapped image."""
    image = gen.textured(64, 64, seed=5)
    mask = gen.box_mask(64, 64, 16, 16, 40, 40)
    g = create_network("deepfill_v2_generator", cnum=8).eval()
    rgb = DeepFillV2Method.from_modules({"generator": g}, channel_order="RGB").inpaint(
        image[..., ::-1].copy(), mask
    )
    bgr = DeepFillV2Method.from_modules({"generator": g}, channel_order="BGR").inpaint(image, mask)
    assert np.array_equal(bgr, rgb[..., ::-1])


def test_method_is_registered_and_unavailable_without_weights():
    m = create_method("deepfill_v2")
    assert m.capabilities.learned and m.capabilities.needs_mask
    assert not m.is_available()
    assert "import" in m.weights_info()


def test_method_follows_the_published_convention_exactly():
    """[0,1]→[−1,1], mask 1 = hole, reflect-pad to a multiple of 8 (never crop), x2 pasted into the hole."""
    image = gen.textured(60, 84, seed=7)
    mask = gen.box_mask(60, 84, 12, 20, 40, 50)
    g = create_network("deepfill_v2_generator", cnum=8).eval()
    out = DeepFillV2Method.from_modules({"generator": g}).inpaint(image, mask)

    img_p = np.pad(image, ((0, 4), (0, 4), (0, 0)), mode="reflect")
    mask_p = np.pad(mask, ((0, 4), (0, 4)), mode="reflect")
    x = torch.from_numpy(img_p).permute(2, 0, 1)[None].float() / 255.0 * 2 - 1
    m = torch.from_numpy(mask_p > 0).float()[None, None]
    with torch.no_grad():
        _, x2 = g(x, m)
    filled = ((x2[0] + 1) / 2).clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()[:60, :84]
    expected = np.where(mask[..., None] > 0, filled, image)
    assert np.array_equal(out, expected)


def test_method_load_failure_leaves_it_unloaded(tmp_path):
    image = gen.textured(32, 32)
    mask = gen.box_mask(32, 32, 8, 8, 20, 20)
    with pytest.raises(ModelUnavailableError, match="import"):
        DeepFillV2Method().inpaint(image, mask)
    net = create_network("deepfill_v2_generator", cnum=8)
    spec = {"network": "deepfill_v2_generator", "config": {"cnum": 8}}
    other = save_checkpoint(tmp_path / "ec", "edgeconnect", {"generator": net}, {"generator": spec})
    wrong_part = save_checkpoint(tmp_path / "dp", "deepfill_v2", {"gen": net}, {"gen": spec})
    for path, message in ((other, "not 'deepfill_v2'"), (wrong_part, "lack")):
        method = DeepFillV2Method(checkpoint=path, device="cpu")
        with pytest.raises(CheckpointError, match=message):
            method.load()
        assert not method.loaded and method.modules == {}
    ok = DeepFillV2Method.from_modules({"generator": net})
    with pytest.raises(MaskError, match="mask is 31×32"):
        ok.inpaint(image, np.zeros((32, 31), np.uint8))
    assert np.array_equal(ok.inpaint(image, np.zeros((32, 32), np.uint8)), image)  # empty hole: no-op
    with pytest.raises(Cancelled):
        ok.inpaint(image, mask, cancel=lambda: True)


def test_method_refuses_sizes_whose_attention_would_not_fit():
    image = gen.textured(48, 64)
    mask = gen.box_mask(48, 64, 8, 8, 30, 30)
    g = create_network("deepfill_v2_generator", cnum=8)
    with pytest.raises(ModelUnavailableError, match="HD strategy"):
        DeepFillV2Method.from_modules({"generator": g}, max_pixels=40 * 40).inpaint(image, mask)
    assert (
        DeepFillV2Method.from_modules({"generator": g}, max_pixels=48 * 64).inpaint(image, mask).shape
        == image.shape
    )


def test_out_of_memory_becomes_a_clear_error():
    class Exploding(DeepFillV2Method):
        message = "CUDA out of memory. Tried to allocate 2.00 GiB"

        def predict(self, image, mask, edges):
            raise RuntimeError(self.message)

    image = gen.textured(32, 32)
    mask = gen.box_mask(32, 32, 8, 8, 20, 20)
    g = create_network("deepfill_v2_generator", cnum=8)
    with pytest.raises(
        ModelUnavailableError, match="ran out of cpu memory.*device=cpu or the resize/crop HD"
    ):
        Exploding.from_modules({"generator": g}).inpaint(image, mask)
    other = Exploding.from_modules({"generator": g})
    other.message = "some other failure"
    with pytest.raises(RuntimeError, match="some other failure"):  # not disguised as memory trouble
        other.inpaint(image, mask)
    assert g.training  # train mode restored even when the run failed
