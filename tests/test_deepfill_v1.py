"""DeepFill v1: every published key and shape of the PyTorch port's generator and critics (3,601,542 generator
parameters), the published input convention, imports of fake published files (generator and critics merge
into one checkpoint; the flat converted-TF file), and the `deepfill_v1` engine method on the imported weights
and without any."""

from __future__ import annotations

import hashlib
import json

import imagegen as gen
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fake_checkpoints import fake_published_dict, load_manifest, manifest_shapes, write_fake_pth

from inpaint_studio.core.errors import CheckpointError, ModelUnavailableError
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import find_checkpoints, load_checkpoint
from inpaint_studio.engine.importer import detect_layout, import_checkpoint
from inpaint_studio.networks.registry import create_network

GEN_FILE, DIS_FILE = "gen_XXXXXXXX.pt", "dis_XXXXXXXX.pt"


def _diff(expected: dict[str, list[int]], ours: dict[str, torch.Tensor]) -> list[str]:
    lines = [f"missing in ours: {k} {s}" for k, s in expected.items() if k not in ours]
    lines += [f"shape {k}: ours {list(ours[k].shape)} published {s}" for k, s in expected.items()
              if k in ours and list(ours[k].shape) != s]  # fmt: skip
    lines += [f"not published: {k}" for k in ours if k not in expected]
    return lines


def test_generator_reproduces_every_published_key_and_shape():
    manifest = load_manifest("deepfill_v1")
    expected = manifest_shapes(manifest, GEN_FILE)[""]
    net = create_network("deepfill_v1_generator")
    assert not _diff(expected, net.state_dict())
    assert sum(p.numel() for p in net.parameters()) == 3_601_542
    assert manifest["per_part"][f"{GEN_FILE}:/"]["trainable_params"] == 3_601_542


@pytest.mark.parametrize(("top", "size"), [("localD", 128), ("globalD", 256)])
def test_critics_reproduce_the_published_keys(top, size):
    expected = manifest_shapes(load_manifest("deepfill_v1"), DIS_FILE)[top]
    critic = create_network("deepfill_v1_critic", cnum=64, size=size)
    assert not _diff(expected, critic.state_dict())
    assert critic(torch.zeros(2, 3, size, size)).shape == (2, 1)
    with pytest.raises(ValueError, match=f"scores {size}×{size}"):
        critic(torch.zeros(1, 3, 64, 64))


def test_generator_convention_shapes_range_and_ignored_hole():
    torch.manual_seed(0)
    g = create_network("deepfill_v1_generator", cnum=8).eval()
    for h, w in [(64, 64), (60, 84)]:  # any size runs, outputs cropped back
        image, mask = g.example_inputs(h, w)
        other = torch.where(mask.bool(), torch.rand_like(image) * 2 - 1, image)
        with torch.no_grad():
            (c1, f1), (c2, f2) = g(image, mask), g(other, mask)
        torch.testing.assert_close(c1, c2)
        assert c1.shape == f1.shape == (1, 3, h, w)
        torch.testing.assert_close(f1, f2)  # the published input is img·(1−m): hole content cannot matter
        assert f1.abs().max() <= 1.0 and c1.abs().max() <= 1.0  # clipped, as published (no tanh)


def test_width_multiplier_and_attention_conventions_in_the_config():
    small = create_network("deepfill_v1_generator", cnum=8, attention_mask="maxpool", attention_norm="clamp")
    att = small.fine_generator.contextual_attention
    assert (att.mask_mode, att.norm_mode) == ("maxpool", "clamp")
    full = sum(p.numel() for p in create_network("deepfill_v1_generator").parameters())
    assert sum(p.numel() for p in small.parameters()) < full / 10
    with pytest.raises(ValueError, match="even"):
        create_network("deepfill_v1_generator", cnum=7)


def test_generator_and_critic_files_import_into_one_checkpoint_and_fill(tmp_path):
    run = tmp_path / "places2"
    gen_src = write_fake_pth("deepfill_v1", run / "gen_00430000.pt", file=GEN_FILE)
    dis_src = write_fake_pth("deepfill_v1", run / "dis_00430000.pt", file=DIS_FILE)
    assert detect_layout(torch.load(gen_src, weights_only=True)).name == "deepfill_v1_pytorch_gen"
    assert detect_layout(torch.load(dis_src, weights_only=True)).name == "deepfill_v1_pytorch_dis"

    st = import_checkpoint(gen_src)
    assert st.name == "deepfill_v1-places2.safetensors"
    assert import_checkpoint(dis_src) == st  # merged under the same name
    doc = json.loads(st.with_suffix(".json").read_text())
    assert doc["method"] == "deepfill_v1" and doc["channel_order"] == "RGB"
    assert set(doc["components"]) == {"generator", "local_critic", "global_critic"}
    assert doc["components"]["generator"]["config"] == {
        "cnum": 32, "attention_mask": "nearest", "attention_norm": "eps_sum"
    }  # fmt: skip
    assert doc["sources"]["generator"]["sha256"] == hashlib.sha256(gen_src.read_bytes()).hexdigest()
    assert doc["sources"]["local_critic"]["file"] == "dis_00430000.pt"

    # Pure key matching: the stored tensors are the published ones, key for key.
    ckpt = load_checkpoint(st)
    published = torch.load(gen_src, weights_only=True)
    ours = ckpt.state_dict("generator")
    assert ours.keys() == published.keys() and all(torch.equal(ours[k], published[k]) for k in published)
    critics = torch.load(dis_src, weights_only=True)
    assert torch.equal(ckpt.state_dict("global_critic")["linear.weight"], critics["globalD"]["linear.weight"])

    assert find_checkpoints("deepfill_v1") == [st]
    method = create_method("deepfill_v1", device="cpu")
    assert method.is_available() and str(st) in method.weights_info()
    image = gen.textured(60, 84, seed=2)  # not a multiple of 8: padded, never cropped
    mask = gen.box_mask(60, 84, 10, 20, 40, 50)
    out = method.inpaint(image, mask)
    assert out.shape == image.shape and np.array_equal(out[mask == 0], image[mask == 0])
    assert (out[mask > 0] != image[mask > 0]).any()
    assert set(method.modules) == {"generator"}  # critics stay on disk
    att = method.modules["generator"].fine_generator.contextual_attention
    assert (att.mask_mode, att.norm_mode) == ("nearest", "eps_sum")


def test_flat_converted_tf_file_imports_by_its_prefixes(tmp_path):
    parts = fake_published_dict("deepfill_v1", [GEN_FILE, DIS_FILE])
    flat = {f"netG.{k}": v for k, v in parts.items() if isinstance(v, torch.Tensor)}
    flat |= {f"{top}.{k}": v for top in ("localD", "globalD") for k, v in parts[top].items()}
    src = tmp_path / "torch_model.p"
    torch.save(flat, src)
    st = import_checkpoint(src, name="deepfill_v1-tf")
    ckpt = load_checkpoint(st)
    assert ckpt.channel_order == "BGR" and set(ckpt.components) == {"generator", "local_critic", "global_critic"}
    assert torch.equal(ckpt.state_dict("generator")["coarse_generator.conv1.conv.weight"],
                       flat["netG.coarse_generator.conv1.conv.weight"])  # fmt: skip


def test_a_wrong_shape_is_named_and_nothing_is_written(tmp_path):
    obj = fake_published_dict("deepfill_v1", [GEN_FILE])
    obj["fine_generator.allconv11.conv.weight"] = torch.zeros(128, 128, 3, 3)  # published: [128, 256, 3, 3]
    src = tmp_path / "gen_bad.pt"
    torch.save(obj, src)
    with pytest.raises(CheckpointError, match=r"allconv11\.conv\.weight \[128, 128, 3, 3\] vs expected"):
        import_checkpoint(src, dest_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_without_weights_the_method_says_import_or_train():
    method = create_method("deepfill_v1", device="cpu")
    assert not method.is_available()
    info = method.weights_info()
    assert info.startswith("weights missing — import or train")
    assert "inpaint-studio models import" in info and "python -m trainer train deepfill_v1" in info
    with pytest.raises(ModelUnavailableError, match="import or train"):
        method.load()


def test_in_memory_network_fills_through_the_method():
    from inpaint_studio.engine.methods.deepfill_v1 import DeepFillV1Method

    net = create_network("deepfill_v1_generator", cnum=8)
    method = DeepFillV1Method.from_modules({"generator": net})
    image, mask = gen.textured(40, 56, seed=1), gen.box_mask(40, 56, 8, 12, 24, 30)
    out = method.inpaint(image, mask)
    assert np.array_equal(out[mask == 0], image[mask == 0]) and (out[mask > 0] != image[mask > 0]).any()
    small = DeepFillV1Method.from_modules({"generator": net}, max_pixels=1000)
    with pytest.raises(ModelUnavailableError, match="Resize or Crop HD"):
        small.inpaint(image, mask)


def _upstream_generator(sd: dict[str, torch.Tensor], image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The published generator's forward written from its description, straight on the published state dict:
    zero-padded convs (5×5 pad 2, 3×3 pad 1, atrous pad = rate) + ELU, nearest ×2 before conv13/conv15
    (allconv13/allconv15), ReLU before the attention, outputs clipped; input [img·(1−m), ones, m]."""
    from test_attention_conventions import _upstream_attention

    def conv(x, name, stride=1, rate=1, act="elu"):
        w = sd[f"{name}.conv.weight"]
        x = F.conv2d(x, w, sd[f"{name}.conv.bias"], stride, rate * (w.shape[-1] // 2), rate)
        return {"elu": F.elu, "relu": F.relu, None: lambda t: t}[act](x)

    def up(x):
        return F.interpolate(x, scale_factor=2, mode="nearest")

    def trunk(x, p, names):
        for n in names:
            x = conv(x, f"{p}.{n}", stride=2 if n.endswith("downsample") else 1)
        for i, rate in zip(range(7, 11), (2, 4, 8, 16), strict=True):
            x = conv(x, f"{p}.conv{i}_atrous", rate=rate)
        return x

    first = ["conv1", "conv2_downsample", "conv3", "conv4_downsample", "conv5", "conv6"]
    x_in = image * (1 - mask)
    ones = torch.ones_like(mask)
    c = "coarse_generator"
    x = trunk(torch.cat([x_in, ones, mask], 1), c, first)
    x = up(conv(conv(x, f"{c}.conv11"), f"{c}.conv12"))
    x = up(conv(conv(x, f"{c}.conv13"), f"{c}.conv14"))
    x1 = conv(conv(conv(x, f"{c}.conv15"), f"{c}.conv16"), f"{c}.conv17", act=None).clamp(-1, 1)
    f = "fine_generator"
    xnow = torch.cat([x1 * mask + x_in * (1 - mask), ones, mask], 1)
    hallu = trunk(xnow, f, first)
    x = xnow
    for n in ["pmconv1", "pmconv2_downsample", "pmconv3", "pmconv4_downsample", "pmconv5"]:
        x = conv(x, f"{f}.{n}", stride=2 if n.endswith("downsample") else 1)
    x = conv(x, f"{f}.pmconv6", act="relu")
    x = conv(conv(_upstream_attention(x, mask), f"{f}.pmconv9"), f"{f}.pmconv10")
    x = up(conv(conv(torch.cat([hallu, x], 1), f"{f}.allconv11"), f"{f}.allconv12"))
    x = up(conv(conv(x, f"{f}.allconv13"), f"{f}.allconv14"))
    return conv(conv(conv(x, f"{f}.allconv15"), f"{f}.allconv16"), f"{f}.allconv17", act=None).clamp(-1, 1)


def test_generator_matches_the_published_forward_on_published_weights():
    sd = fake_published_dict("deepfill_v1", [GEN_FILE], seed=3)
    sd = {k: v * 2.0 if v.dim() == 4 else v for k, v in sd.items()}  # livelier activations than 1/√fan-in
    net = create_network("deepfill_v1_generator").eval()
    net.load_state_dict(sd)
    image = torch.from_numpy(gen.textured(96, 96, seed=4)).permute(2, 0, 1)[None].float() / 127.5 - 1
    mask = torch.zeros(1, 1, 96, 96)
    mask[..., 22:55, 31:70] = 1
    mask[..., 77:79, 5:90] = 1  # a thin line off the 8-pixel sampling grid
    with torch.no_grad():
        _, ours = net(image, mask)
        ref = _upstream_generator(sd, image, mask)
    assert ref[mask.expand_as(ref) > 0].std() > 0.05  # not a saturated, constant fill
    torch.testing.assert_close(ours, ref, atol=1e-4, rtol=1e-4)
