"""Our checkpoint format: round trip (fp32 and fp16 storage), atomic writes, clear errors for broken files
and mismatched networks, discovery order."""

from __future__ import annotations

import json
import os

import pytest
import torch

from inpaint_studio.core import paths
from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.engine.checkpoints import (
    build_modules,
    describe_mismatch,
    find_checkpoints,
    load_checkpoint,
    read_metadata,
    save_checkpoint,
    update_metadata,
)
from inpaint_studio.networks.registry import create_network

GEN = {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 8}}}


def _small():
    torch.manual_seed(0)
    return create_network("deepfill_v2_generator", cnum=8).eval()


def _run(net):
    torch.manual_seed(1)
    image, mask = net.example_inputs(32, 32)
    with torch.no_grad():
        return net(image, mask)[1]


def test_roundtrip_rebuilds_identical_network(tmp_path):
    net = _small()
    meta = {"training": {"steps": 10}, "metrics": {"psnr": 20.5}, "source": {"file": "x"}}
    st = save_checkpoint(tmp_path / "mine", "deepfill_v2", {"generator": net}, GEN, meta)
    assert st == tmp_path / "mine.safetensors" and (tmp_path / "mine.json").is_file()
    doc = json.loads((tmp_path / "mine.json").read_text())
    assert doc["format"] == "inpaint-studio-checkpoint" and doc["version"] == 1
    assert doc["components"] == GEN and doc["channel_order"] == "RGB" and doc["metrics"] == {"psnr": 20.5}

    ckpt = load_checkpoint(tmp_path / "mine")  # stem, .json and .safetensors all work
    assert load_checkpoint(tmp_path / "mine.json").path == st
    modules = build_modules(ckpt, "cpu")
    rebuilt = modules["generator"]
    assert not rebuilt.training
    for k, v in net.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[k], v), k
    torch.testing.assert_close(_run(rebuilt), _run(net), rtol=0, atol=0)
    assert all(k.startswith("generator.") for k in ckpt.tensors())


def test_fp16_storage_is_smaller_and_loads_as_float32(tmp_path):
    net = _small()
    full = save_checkpoint(tmp_path / "f32", "deepfill_v2", {"generator": net}, GEN)
    half = save_checkpoint(tmp_path / "f16", "deepfill_v2", {"generator": net.state_dict()}, GEN, half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    ckpt = load_checkpoint(half)
    assert ckpt.meta["dtype"] == "float16"
    assert all(t.dtype == torch.float32 for t in ckpt.tensors().values())
    rebuilt = build_modules(ckpt)["generator"]
    torch.testing.assert_close(_run(rebuilt), _run(net), atol=2e-2, rtol=0)


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    net = _small()
    save_checkpoint(tmp_path / "a", "deepfill_v2", {"generator": net}, GEN, {"metrics": {"l1": 1.0}})
    before = (tmp_path / "a.json").read_bytes()
    with pytest.raises(CheckpointError, match="JSON"):
        save_checkpoint(tmp_path / "a", "deepfill_v2", {"generator": net}, GEN, {"metrics": {"l1": object()}})
    assert (tmp_path / "a.json").read_bytes() == before  # the failed save left the old checkpoint intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.safetensors"]
    with pytest.raises(CheckpointError, match="do not match"):
        save_checkpoint(tmp_path / "b", "deepfill_v2", {"gen": net}, GEN)


def test_truncated_weights_give_a_clear_error(tmp_path):
    st = save_checkpoint(tmp_path / "t", "deepfill_v2", {"generator": _small()}, GEN)
    data = st.read_bytes()
    st.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt") as info:
        load_checkpoint(st)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda j: j.unlink(), "missing"),
        (lambda j: j.write_text("{not json"), "unreadable"),
        (
            lambda j: j.write_text(json.dumps({"format": "something-else"})),
            "not an Inpaint Studio checkpoint",
        ),
        (lambda j: j.write_text(json.dumps({**json.loads(j.read_text()), "version": 99})), "version"),
        (lambda j: j.write_text(json.dumps({**json.loads(j.read_text()), "components": {}})), "components"),
    ],
)
def test_bad_metadata_gives_a_clear_error(tmp_path, damage, message):
    st = save_checkpoint(tmp_path / "m", "deepfill_v2", {"generator": _small()}, GEN)
    damage(tmp_path / "m.json")
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(st)


def test_mismatch_names_the_offending_keys(tmp_path):
    st = save_checkpoint(tmp_path / "w", "deepfill_v2", {"generator": _small()}, GEN)
    doc = json.loads((tmp_path / "w.json").read_text())
    doc["components"]["generator"]["config"] = {"cnum": 12}  # JSON says a wider net than the tensors
    (tmp_path / "w.json").write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match=r"mis-shaped: stage1\.conv1\.conv\.weight \[8, 5, 5, 5\]"):
        build_modules(load_checkpoint(st))


def test_describe_mismatch_lists_missing_unexpected_and_shapes():
    expected = {"a": (1, 2), "b": (3,), "c": (4,)}
    actual = {"a": (1, 2), "b": (5,), "z": (1,)}
    text = describe_mismatch(expected, actual)
    assert "1 missing: c" in text and "1 unexpected: z" in text and "b [5] vs expected [3]" in text
    assert describe_mismatch(expected, dict(expected)) == ""


def test_find_checkpoints_shipped_first_then_user(tmp_path, monkeypatch):
    """An import sits beside the shipped weights: the shipped ones stay the method's default."""
    shipped = tmp_path / "shipped"
    monkeypatch.setattr(paths, "SHIPPED_MODELS_DIR", shipped)
    net = _small()
    s = save_checkpoint(shipped / "ship", "deepfill_v2", {"generator": net}, GEN)
    old = save_checkpoint(paths.user_models_dir() / "old", "deepfill_v2", {"generator": net}, GEN)
    new = save_checkpoint(paths.user_models_dir() / "new", "deepfill_v2", {"generator": net}, GEN)
    os.utime(old, (1_000_000, 1_000_000))
    save_checkpoint(paths.user_models_dir() / "other", "edgeconnect", {"generator": net}, GEN)
    (paths.user_models_dir() / "junk.json").write_text("{}")
    (paths.user_models_dir() / "junk.safetensors").write_bytes(b"")
    assert find_checkpoints("deepfill_v2") == [s, new, old]
    assert find_checkpoints("nothing") == []
    assert read_metadata(s)["method"] == "deepfill_v2"


def test_update_metadata_edits_the_json_alone_and_refuses_another_method(tmp_path):
    st = save_checkpoint(tmp_path / "m", "deepfill_v2", {"generator": _small()}, GEN)
    weights = st.read_bytes()
    doc = update_metadata(st, lambda d: d.update(measured={"l1_hole": 3.0}))
    assert doc["measured"] == {"l1_hole": 3.0} and read_metadata(st)["measured"] == {"l1_hole": 3.0}
    assert read_metadata(st)["components"] == GEN and st.read_bytes() == weights
    with pytest.raises(CheckpointError, match="not vcnet"):
        update_metadata(st, lambda d: d.update(blind={}), method="vcnet")
    assert "blind" not in read_metadata(st)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]  # no temp file left
    with pytest.raises(CheckpointError, match="cannot read"):
        update_metadata(tmp_path / "absent", lambda d: None)
