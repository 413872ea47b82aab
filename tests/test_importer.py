"""Importing published .pth files: weights-only loading (a malicious pickle is refused and never runs),
layout detection, pure remapping with shape validation, our files written with provenance, and inference
through the engine with the imported weights."""

from __future__ import annotations

import hashlib
import json
import os
import pickle

import imagegen as gen
import numpy as np
import pytest
import torch
from fake_checkpoints import fake_published_dict, write_fake_pth

from inpaint_studio.core import paths
from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.engine import importer
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import find_checkpoints, load_checkpoint
from inpaint_studio.engine.importer import PublishedLayout, detect_layout, import_checkpoint, register_layout
from inpaint_studio.networks import deepfill_v2 as df


class _Exploit:
    """Unpickling this would run a shell command."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("legacy", [False, True])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, legacy):
    marker = tmp_path / "pwned"
    bad = tmp_path / "evil.pth"
    torch.save(
        {"G": {"conv1.conv.weight": torch.zeros(1)}, "x": _Exploit(str(marker))},
        bad,
        _use_new_zipfile_serialization=not legacy,
    )
    with pytest.raises(CheckpointError, match="refused") as info:
        import_checkpoint(bad)
    assert "\n" not in str(info.value)
    assert "weights_only" not in str(info.value)  # torch's advice to load it anyway is never passed on
    assert not marker.exists()
    assert list(paths.user_models_dir().iterdir()) == []  # nothing written


def test_plain_pickle_exploit_is_not_run(tmp_path):
    marker = tmp_path / "pwned2"
    bad = tmp_path / "evil2.pth"
    bad.write_bytes(pickle.dumps(_Exploit(str(marker))))
    with pytest.raises(CheckpointError, match="refused"):
        import_checkpoint(bad)
    assert not marker.exists()


def test_truncated_file_gives_a_clear_error(tmp_path):
    p = write_fake_pth("deepfill_v2_pytorch_finetuned", tmp_path / "states_pt_places2.pth")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 3])
    with pytest.raises(CheckpointError, match="truncated or corrupt") as info:
        import_checkpoint(p)
    assert "\n" not in str(info.value)
    with pytest.raises(CheckpointError, match="not found"):
        import_checkpoint(tmp_path / "nope.pth")


def test_random_bytes_are_not_a_pytorch_checkpoint(tmp_path):
    noise = tmp_path / "download.pth"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(CheckpointError) as info:
        import_checkpoint(noise)
    assert str(info.value) == "download.pth is not a PyTorch checkpoint (.pth/.pt) file"


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused_at_import(tmp_path, bad):
    state = fake_published_dict("deepfill_v2_pytorch_finetuned")
    key = next(k for k, v in state["G"].items() if v.is_floating_point())
    state["G"][key].view(-1)[0] = bad
    src = tmp_path / "states_pt_places2.pth"
    torch.save(state, src)
    with pytest.raises(CheckpointError, match=f"refused states_pt_places2.pth: weights that are NaN or infinite in "
                                              f"generator/{key}") as info:
        import_checkpoint(src)
    assert "\n" not in str(info.value)
    assert list(paths.user_models_dir().iterdir()) == []  # nothing written


def test_unknown_layout_is_named(tmp_path):
    p = tmp_path / "other.pth"
    torch.save({"model": {"foo.weight": torch.zeros(2)}}, p)
    with pytest.raises(
        CheckpointError, match=r"unrecognised checkpoint layout \(keys like model/foo.weight\)"
    ):
        import_checkpoint(p)


@pytest.mark.parametrize(
    ("manifest", "file", "layout", "order"),
    [
        ("deepfill_v2_pytorch_finetuned", "states_pt_places2.pth", "deepfill_v2_pytorch_finetuned", "RGB"),
        ("deepfill_v2_official_converted", "states_tf_places2.pth", "deepfill_v2_official_converted", "BGR"),
    ],
)
def test_import_deepfill_file_then_inpaint_through_engine(tmp_path, manifest, file, layout, order):
    src = write_fake_pth(manifest, tmp_path / file)
    st = import_checkpoint(src)
    assert st.parent == paths.user_models_dir() and st.name == f"deepfill_v2-{src.stem}.safetensors"
    doc = json.loads(st.with_suffix(".json").read_text())
    assert doc["method"] == "deepfill_v2" and doc["channel_order"] == order
    assert doc["source"] == {
        "file": file,
        "sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
        "layout": layout,
    }
    assert set(doc["components"]) == {"generator"}

    # The stored tensors are the published ones under our names (pure renaming, nothing altered).
    published = torch.load(src, weights_only=True)["G"]
    ours = load_checkpoint(st).state_dict("generator")
    renamed = df.to_tf_layout(ours) if layout.endswith("converted") else ours
    assert renamed.keys() == published.keys()
    assert all(torch.equal(renamed[k], published[k]) for k in published)

    assert find_checkpoints("deepfill_v2") == [st]
    method = create_method("deepfill_v2", device="cpu")
    assert method.is_available() and str(st) in method.weights_info()
    image = gen.textured(60, 84, seed=2)  # not a multiple of 8: padded, never cropped
    mask = gen.box_mask(60, 84, 10, 20, 40, 50)
    out = method.inpaint(image, mask)
    assert out.shape == image.shape
    assert np.array_equal(out[mask == 0], image[mask == 0])
    assert (out[mask > 0] != image[mask > 0]).any()
    method.unload()
    assert not method.loaded


def test_training_checkpoint_imports_discriminator_too(tmp_path):
    src = write_fake_pth(
        "deepfill_v2_official_converted",
        tmp_path / "train.pth",
        files=["states_tf_places2.pth", "training_checkpoint"],
        extra={"n_iter": 5},
    )
    st = import_checkpoint(src, name="mine", channel_order="rgb")
    ckpt = load_checkpoint(st)
    assert st.name == "mine.safetensors" and ckpt.channel_order == "RGB"
    assert set(ckpt.components) == {"generator", "discriminator"}
    assert ckpt.components["discriminator"]["config"]["layout"] == "tf"
    assert ckpt.state_dict("discriminator")["conv1.conv_sn.weight_u"].shape == (64, 1)


def test_shape_mismatch_names_the_key(tmp_path):
    obj = fake_published_dict("deepfill_v2_pytorch_finetuned")
    obj["G"]["stage2.conv_bn6.conv.weight"] = torch.zeros(192, 96, 3, 3)  # published: [192, 192, 3, 3]
    del obj["G"]["stage1.conv_bn3.conv.bias"]
    p = tmp_path / "bad.pth"
    torch.save(obj, p)
    with pytest.raises(CheckpointError) as info:
        import_checkpoint(p)
    msg = str(info.value)
    assert "1 missing: stage1.conv_bn3.conv.bias" in msg
    assert "stage2.conv_bn6.conv.weight [192, 96, 3, 3] vs expected [192, 192, 3, 3]" in msg
    assert list(paths.user_models_dir().iterdir()) == []


def test_non_tensor_entries_are_named(tmp_path):
    obj = fake_published_dict("deepfill_v2_pytorch_finetuned")
    obj["G"]["stage1.conv1.conv.bias"] = [0.0] * 48
    p = tmp_path / "odd.pth"
    torch.save(obj, p)
    with pytest.raises(CheckpointError, match=r"not tensors: generator/stage1\.conv1\.conv\.bias"):
        import_checkpoint(p)


def test_bare_generator_state_dict_is_detected():
    obj = fake_published_dict("deepfill_v2_pytorch_finetuned")
    assert detect_layout(obj).name == "deepfill_v2_pytorch_finetuned"
    assert detect_layout(obj["G"]).name == "deepfill_v2_pytorch_finetuned"
    tf = fake_published_dict("deepfill_v2_official_converted")["G"]
    assert detect_layout(tf).name == "deepfill_v2_official_converted"


def test_merge_layout_adds_components_to_an_existing_checkpoint(tmp_path):
    """Layouts with merge=True (EdgeConnect's separate files) build one checkpoint from several files."""
    small = {"network": "deepfill_v2_generator", "config": {"cnum": 4}}

    def part(key: str):
        return PublishedLayout(
            name=f"test_merge_{key}",
            method="test_merge",
            merge=True,
            required_keys=frozenset({f"{key}/stage1.conv1.conv.weight"}),
            convert=lambda obj: {f"part_{key}": dict(obj[key])},
            components={f"part_{key}": small},
            default_name=lambda path: f"merged-{path.parent.name}",
        )

    try:
        for key in ("a", "b"):
            register_layout(part(key))
        net = df.deepfill_v2_generator(cnum=4)
        d = tmp_path / "places2"
        d.mkdir()
        torch.save({"a": net.state_dict()}, d / "A.pth")
        torch.save({"b": net.state_dict()}, d / "B.pth")
        first = import_checkpoint(d / "A.pth")
        second = import_checkpoint(d / "B.pth")
        assert first == second and first.name == "merged-places2.safetensors"
        ckpt = load_checkpoint(second)
        assert set(ckpt.components) == {"part_a", "part_b"}
        assert ckpt.meta["sources"]["part_a"]["file"] == "A.pth"
        assert ckpt.meta["sources"]["part_b"]["file"] == "B.pth"
    finally:
        for key in ("a", "b"):
            importer._LAYOUTS.pop(f"test_merge_{key}", None)
