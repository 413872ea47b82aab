"""Our Context Encoder and GLCIC networks reproduce every key and shape of the published files, and fake
published files (random tensors, exact published layout) import into our checkpoint format and run through
the engine methods. The Context Encoder generator file holds 71 M parameters (284 MB): importing it is slow."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from fake_checkpoints import fake_published_dict, load_manifest, write_fake_pth

from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import describe_mismatch, load_checkpoint, read_metadata
from inpaint_studio.engine.importer import detect_layout, import_checkpoint
from inpaint_studio.networks import context_encoder as ce
from inpaint_studio.networks import glcic as gl

CASES = [
    ("context_encoder", "netG_streetview.pth:state_dict/", ce.context_encoder_generator),
    ("context_encoder", "netlocalD.pth:state_dict/", ce.context_encoder_discriminator),
    ("glcic", "model_cn:/", gl.glcic_completion),
    ("glcic", "model_cd:/", gl.glcic_discriminator),
]
MPV = [0.4560, 0.4472, 0.4155]


@pytest.mark.parametrize(("manifest_name", "prefix", "build"), CASES, ids=[c[1] for c in CASES])
def test_every_published_key_and_shape_is_reproduced(manifest_name, prefix, build):
    manifest = load_manifest(manifest_name)
    with torch.device("meta"):  # shapes only: the 71 M-parameter generator costs nothing here
        net = build()
    ours = net.state_dict()
    expected = {k[len(prefix) :]: v for k, v in manifest["params"].items() if k.startswith(prefix)}
    problem = describe_mismatch(expected, ours, limit=20)
    assert problem == "", f"{prefix} differs from the published file: {problem}"
    assert list(ours) == list(expected)  # the published order too
    part = manifest["per_part"][prefix]
    assert sum(p.numel() for p in net.parameters()) == part["trainable_params"]
    assert len(ours) == part["state_dict_entries"]
    for key, dtype in (manifest.get("dtype_exceptions") or {}).items():
        if key.startswith(prefix):
            assert str(ours[key[len(prefix) :]].dtype) == f"torch.{dtype}", key


def _scene(h: int = 120, w: int = 150) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[30:70, 40:90] = 255
    mask[100:104, 5:140] = 255  # a long thin scratch: several tiles
    return img, mask


def _glcic_file(folder, name: str, seed: int = 0):
    """The port saves raw state dicts (the manifest's empty top-level key: fake_published_dict gives them bare)."""
    obj = fake_published_dict("glcic", [name], seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(obj, folder / name)
    return folder / name


def test_glcic_files_import_with_their_mean_colour_merge_and_fill_only_the_hole(tmp_path):
    folder = tmp_path / "celeba"
    cn, cd = _glcic_file(folder, "model_cn"), _glcic_file(folder, "model_cd", seed=1)
    (folder / "config.json").write_text(json.dumps({"mpv": MPV, "data_parallel": False}))
    assert detect_layout(torch.load(cn, weights_only=True)).name == "glcic_completion"
    paths = [import_checkpoint(p, dest_dir=tmp_path / "models") for p in (cn, cd)]
    assert paths[0] == paths[1] and paths[0].name == "glcic-celeba.safetensors"
    ckpt = load_checkpoint(paths[1])
    assert set(ckpt.components) == {"completion", "discriminator"}
    assert read_metadata(paths[1])["inference"]["mean_colour"] == MPV
    src = torch.load(cn, weights_only=True)
    got = ckpt.state_dict("completion")
    assert got.keys() == src.keys() and all(torch.equal(got[k], src[k]) for k in src)

    method = create_method("glcic", checkpoint=paths[1], device="cpu")
    assert method.is_available() and method.window == 160
    img, mask = _scene()
    out = method.inpaint(img, mask)
    assert out.shape == img.shape and np.array_equal(out[mask == 0], img[mask == 0])
    assert (out[mask > 0] != img[mask > 0]).any()
    assert method.mean_colour() == MPV


def test_glcic_with_a_bad_mean_colour_file_is_refused_in_one_line(tmp_path):
    cn = _glcic_file(tmp_path, "model_cn")
    (tmp_path / "config.json").write_text(json.dumps({"mpv": [120, 110, 100]}))
    with pytest.raises(CheckpointError, match=r"'mpv' must be three numbers in \[0, 1\]") as info:
        import_checkpoint(cn, dest_dir=tmp_path / "models")
    assert "\n" not in str(info.value) and not (tmp_path / "models").exists()


def test_a_glcic_file_with_a_wrong_shape_is_refused_with_its_key(tmp_path):
    obj = fake_published_dict("glcic", ["model_cn"])
    obj["conv7.weight"] = torch.zeros(256, 256, 5, 5)
    torch.save(obj, tmp_path / "model_cn")
    with pytest.raises(CheckpointError, match=r"conv7\.weight"):
        import_checkpoint(tmp_path / "model_cn", dest_dir=tmp_path / "out")


def test_context_encoder_discriminator_file_imports(tmp_path):
    src = write_fake_pth("context_encoder", tmp_path / "netlocalD.pth", file="netlocalD.pth", extra={"epoch": 3})
    assert detect_layout(torch.load(src, weights_only=True)).name == "context_encoder_discriminator"
    path = import_checkpoint(src, dest_dir=tmp_path / "models")
    ckpt = load_checkpoint(path)
    assert set(ckpt.components) == {"discriminator"} and ckpt.method == "context_encoder"
    assert not create_method("context_encoder", checkpoint=path).is_available()  # no generator yet


@pytest.mark.slow
def test_context_encoder_generator_file_imports_and_fills_only_the_hole(tmp_path):
    src = write_fake_pth("context_encoder", tmp_path / "netG_streetview.pth", extra={"epoch": 25})
    assert detect_layout(torch.load(src, weights_only=True)).name == "context_encoder_generator"
    path = import_checkpoint(src, dest_dir=tmp_path / "models")
    assert path.name == "context_encoder-streetview.safetensors"
    method = create_method("context_encoder", checkpoint=path, device="cpu")
    img, mask = _scene()
    out = method.inpaint(img, mask)
    assert out.shape == img.shape and np.array_equal(out[mask == 0], img[mask == 0])
    assert (out[mask > 0] != img[mask > 0]).any()
