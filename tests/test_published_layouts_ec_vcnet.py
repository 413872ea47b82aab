"""Our EdgeConnect and VCNet networks reproduce every key and shape of the published files, and fake
published files (random tensors, exact published layout) import into our checkpoint format and run
through the engine methods."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fake_checkpoints import fake_published_dict, load_manifest, write_fake_pth

from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import describe_mismatch, find_checkpoints, load_checkpoint
from inpaint_studio.engine.importer import detect_layout, import_checkpoint
from inpaint_studio.networks import edgeconnect as ec
from inpaint_studio.networks import vcnet as vc

EC_PARTS = {
    "EdgeModel_gen.pth:generator/": (ec.edgeconnect_edge_generator, None),
    "InpaintingModel_gen.pth:generator/": (ec.edgeconnect_inpaint_generator, None),
    "EdgeModel_dis.pth:discriminator/": (ec.edgeconnect_edge_discriminator, ec.discriminator_to_published),
    "InpaintingModel_dis.pth:discriminator/": (
        ec.edgeconnect_inpaint_discriminator,
        ec.discriminator_to_published,
    ),
}
VC_PARTS = {
    "VCNet_*.pth:mpn/": (vc.vcnet_mpn, None),
    "VCNet_*.pth:rin/": (vc.vcnet_rin, None),
    "VCNet_*.pth:D/": (vc.vcnet_discriminator, None),
    "VCNet_*.pth:patch_D/": (vc.vcnet_patch_discriminator, None),
}
CASES = [("edgeconnect", p, *v) for p, v in EC_PARTS.items()] + [("vcnet", p, *v) for p, v in VC_PARTS.items()]


def _published_part(manifest: dict, prefix: str) -> dict[str, list[int]]:
    return {k[len(prefix) :]: v for k, v in manifest["params"].items() if k.startswith(prefix)}


@pytest.mark.parametrize(("manifest_name", "prefix", "build", "to_published"), CASES, ids=[c[1] for c in CASES])
def test_every_published_key_and_shape_is_reproduced(manifest_name, prefix, build, to_published):
    manifest = load_manifest(manifest_name)
    net = build()
    state = net.state_dict()
    ours = to_published(state) if to_published else state
    expected = _published_part(manifest, prefix)
    problem = describe_mismatch(expected, ours, limit=20)
    assert problem == "", f"{prefix} differs from the published file: {problem}"
    part = manifest["per_part"][prefix]
    assert sum(p.numel() for p in net.parameters()) == part["trainable_params"]
    assert len(ours) == part["state_dict_entries"]
    for key, dtype in (manifest.get("dtype_exceptions") or {}).items():
        if key.startswith(prefix):
            assert str(ours[key[len(prefix) :]].dtype) == f"torch.{dtype}", key


def test_discriminator_alias_round_trips():
    state = ec.edgeconnect_edge_discriminator().state_dict()
    published = ec.discriminator_to_published(state)
    assert torch.equal(published["features.0.weight_orig"], published["conv1.0.weight_orig"])
    assert ec.discriminator_from_published(published).keys() == state.keys()


# --- importing fake published files -----------------------------------------------------------


@pytest.fixture(scope="module")
def ec_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("published") / "places2"
    return {
        f: write_fake_pth("edgeconnect", d / f, file=f, extra={"iteration": 1000} if "gen" in f else None, seed=i)
        for i, f in enumerate(
            ["EdgeModel_gen.pth", "InpaintingModel_gen.pth", "EdgeModel_dis.pth", "InpaintingModel_dis.pth"]
        )
    }


def _scene(h: int = 48, w: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[10:30, 15:40] = 255
    return img, mask


@pytest.mark.parametrize("order", [("EdgeModel_gen.pth", "InpaintingModel_gen.pth"),
                                   ("InpaintingModel_gen.pth", "EdgeModel_gen.pth")])
def test_edgeconnect_generators_merge_into_one_checkpoint_in_either_order(ec_files, tmp_path, order):
    paths = [import_checkpoint(ec_files[f], dest_dir=tmp_path) for f in order]
    assert paths[0] == paths[1] and paths[0].name == "edgeconnect-places2.safetensors"
    ckpt = load_checkpoint(paths[1])
    assert ckpt.method == "edgeconnect"
    assert set(ckpt.components) == {"edge_generator", "inpaint_generator"}
    src = torch.load(ec_files["EdgeModel_gen.pth"], weights_only=True)["generator"]
    got = ckpt.state_dict("edge_generator")
    assert got.keys() == src.keys() and all(torch.equal(got[k], src[k]) for k in src)
    if order[0] != "EdgeModel_gen.pth":
        return  # running the merged networks once is enough (slow on a shared CPU)
    method = create_method("edgeconnect", checkpoint=paths[1], device="cpu")
    img, mask = _scene()
    out = method.inpaint(img, mask)
    assert out.shape == img.shape and np.array_equal(out[mask == 0], img[mask == 0])
    edges = method.predict_edges(img, mask)
    assert edges.shape == mask.shape and set(np.unique(edges)) <= {0, 255}


def test_edgeconnect_discriminators_join_the_same_checkpoint(ec_files, tmp_path, monkeypatch):
    monkeypatch.setenv("INPAINT_STUDIO_DATA_DIR", str(tmp_path))
    for f in ("EdgeModel_dis.pth", "EdgeModel_gen.pth", "InpaintingModel_dis.pth", "InpaintingModel_gen.pth"):
        import_checkpoint(ec_files[f])
    found = find_checkpoints("edgeconnect")
    assert len(found) == 1
    ckpt = load_checkpoint(found[0])
    assert set(ckpt.components) == {
        "edge_generator", "inpaint_generator", "edge_discriminator", "inpaint_discriminator"
    }
    dis = ckpt.state_dict("inpaint_discriminator")
    assert not any(k.startswith("features.") for k in dis) and "conv1.0.weight_orig" in dis
    assert ckpt.meta["sources"]["edge_discriminator"]["layout"] == "edgeconnect_edge_discriminator"
    assert create_method("edgeconnect").is_available()


def test_a_generator_file_with_a_missing_key_is_refused_with_its_name(tmp_path):
    obj = fake_published_dict("edgeconnect", ["InpaintingModel_gen.pth"])
    del obj["generator"]["middle.3.conv_block.5.bias"]
    torch.save(obj, tmp_path / "InpaintingModel_gen.pth")
    with pytest.raises(CheckpointError, match=r"middle\.3\.conv_block\.5\.bias"):
        import_checkpoint(tmp_path / "InpaintingModel_gen.pth", dest_dir=tmp_path / "out")


def _fake_vcnet(path, **kw):
    optimizer = {"state": {}, "param_groups": [{"lr": 2e-4, "betas": (0.5, 0.9), "params": [0, 1]}]}
    extra = {"num_step": 300000, **{f"optimizer_{n}": optimizer for n in ("mpn", "rin", "joint", "D")}}
    return write_fake_pth("vcnet", path, extra=extra, **kw)


def test_vcnet_file_imports_without_optimizers_and_runs_blind_and_masked(tmp_path):
    src = _fake_vcnet(tmp_path / "VCNet_Places_300000step_4bs_0.0002lr_1gpu_17run.pth")
    assert detect_layout(torch.load(src, weights_only=True)).name == "vcnet_reproduction"
    path = import_checkpoint(src, dest_dir=tmp_path / "models")
    assert path.name == "vcnet-places.safetensors"
    ckpt = load_checkpoint(path)
    assert set(ckpt.components) == {"mpn", "rin", "discriminator", "patch_discriminator"}
    rin_config = ckpt.components["rin"]["config"]
    assert rin_config["pcn_mode"] == "reproduction" and rin_config["output_range"] == "zero_one"
    assert ckpt.state_dict("mpn")["rb1.n2.num_batches_tracked"].dtype == torch.int64

    method = create_method("vcnet", checkpoint=path, device="cpu")
    img, mask = _scene(52, 64)
    pred = method.predict_mask(img)
    assert pred.probability.shape == mask.shape
    blind = method.inpaint(img)
    assert not ((blind != img).any(axis=-1) & (pred.mask == 0)).any()
    masked = method.inpaint(img, mask)
    assert np.array_equal(masked[mask == 0], img[mask == 0])


def test_a_vcnet_file_with_a_wrong_shape_is_refused(tmp_path):
    obj = fake_published_dict("vcnet")
    obj["rin"]["pc11.projection.weight"] = torch.zeros(64, 128, 1, 1)  # MPN feature not concatenated
    torch.save(obj, tmp_path / "VCNet_bad.pth")
    with pytest.raises(CheckpointError, match=r"pc11\.projection\.weight"):
        import_checkpoint(tmp_path / "VCNet_bad.pth", dest_dir=tmp_path / "out")
