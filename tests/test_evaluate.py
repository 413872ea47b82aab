"""evaluate(): identical masks for every method, metrics that match a direct computation, reports on disk."""

from __future__ import annotations

import json
from pathlib import Path

import imagegen as gen
import numpy as np
import pytest
from PIL import Image

from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.metrics import l1
from inpaint_studio.engine.base import create_method, method_specs
from inpaint_studio.engine.evaluate import (
    EvalResult,
    evaluate,
    format_table,
    generated_mask,
    method_spec,
    prepare,
    write_report,
)


def _photos(folder: Path, n: int = 2, h: int = 40, w: int = 60) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"p{i}.png"
        Image.fromarray(gen.textured(h, w, seed=10 + i)).save(path)
        paths.append(path)
    return paths


def test_prepare_scales_short_side_and_centre_crops():
    image = gen.gradient(40, 80)  # red encodes x
    out = prepare(image, 20)
    assert out.shape == (20, 20, 3)
    # Scaled by 1/2 to 20×40, then columns 10..29 kept: the crop's red is the middle of the range.
    assert abs(int(out[:, 10, 0].mean()) - 128) < 12
    assert prepare(gen.gradient(10, 12), 32).shape == (32, 32, 3)  # small photos are enlarged


def test_generated_masks_depend_only_on_seed_image_and_bucket():
    a = generated_mask(64, (0.2, 0.3), 0, "x.png", 1)
    assert np.array_equal(a, generated_mask(64, (0.2, 0.3), 0, "x.png", 1))
    assert not np.array_equal(a, generated_mask(64, (0.2, 0.3), 1, "x.png", 1))
    assert not np.array_equal(a, generated_mask(64, (0.2, 0.3), 0, "y.png", 1))
    assert 0.2 <= (a > 0).mean() < 0.3


def test_scores_match_a_direct_computation(tmp_path):
    paths = _photos(tmp_path / "img")
    buckets = [(0.1, 0.2), "centre"]
    result = evaluate(paths, ["telea", "fsr_fast"], generate=buckets, seed=3, size=32)
    assert result.buckets == ["10-20%", "centre"]
    assert len(result.rows) == 4 and all(r["n"] == 2 for r in result.rows)
    for b, bucket in enumerate(buckets):
        expected = []
        for path in paths:
            image = prepare(load_rgb(path), 32)
            mask = generated_mask(32, bucket, 3, path.name, b)
            expected.append(l1(create_method("telea").inpaint(image, mask), image, mask))
        assert result.row("telea", result.buckets[b])["l1_hole"] == pytest.approx(np.mean(expected))


def test_unavailable_model_and_bad_image_are_listed_not_fatal(tmp_path):
    missing = [s.name for s in method_specs() if not create_method(s.name).is_available()]
    if not missing:
        pytest.skip("every registered method has weights here")
    paths = _photos(tmp_path / "img", n=1)
    broken = tmp_path / "img" / "broken.png"
    broken.write_bytes(b"nope")
    result = evaluate([*paths, broken], [missing[0], "telea"], generate=[(0.1, 0.2)], size=32)
    assert [r["model"] for r in result.rows] == ["telea"]
    assert any(s.startswith(f"{missing[0]}:") for s in result.skipped)
    assert any(s.startswith("broken.png:") for s in result.skipped)


def test_given_masks_are_bucketed_by_hole_ratio(tmp_path):
    paths = _photos(tmp_path / "img", n=3, h=32, w=32)
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.fromarray(gen.box_mask(32, 32, 0, 0, 8, 32)).save(masks / "p0.png")  # 25 %
    Image.fromarray(gen.box_mask(32, 32, 0, 0, 16, 16)).save(masks / "p1_mask.png")  # 25 %
    result = evaluate(paths, ["telea"], masks_dir=masks, size=32)
    assert result.buckets == ["20-30%"] and result.rows[0]["n"] == 2
    assert any(s.startswith("p2.png") for s in result.skipped)


def test_masks_and_generation_are_exclusive(tmp_path):
    with pytest.raises(InpaintStudioError):
        evaluate(_photos(tmp_path / "img", n=1), ["telea"], size=32)


def test_contaminated_images_score_blind_methods_only(tmp_path):
    paths = _photos(tmp_path / "img", n=2, h=48, w=48)
    result = evaluate(paths, ["telea", "classical_restore"], generate=[(0.1, 0.2)], size=48, contaminate=True)
    assert {r["model"] for r in result.restoration} == {"classical_restore"}
    for r in result.restoration:
        assert 0.0 <= r["mask_iou"] <= 1.0 and r["mask_bce"] >= 0.0
        assert r["input_psnr"] is not None and r["psnr"] is not None


def test_report_files_are_complete_and_json_has_no_infinity(tmp_path):
    result = EvalResult(
        settings={"images": ["a"], "preprocessing": "p", "masks": "generated", "seed": 0},
        buckets=["centre"],
        rows=[{"model": "m", "bucket": "centre", "n": 1, "l1_hole": 0.0, "psnr_hole": float("inf"),
               "ssim_hole": 1.0, "l1": 0.0, "psnr": float("inf"), "ssim": 1.0}],
    )
    json_path, md_path = write_report(result, tmp_path / "out")
    data = json.loads(json_path.read_text())
    assert data["rows"][0]["psnr"] is None
    assert format_table(result) in md_path.read_text()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["evaluation.json", "evaluation.md"]


def _tiny_deepfill(path: Path, seed: int) -> Path:
    import torch

    from inpaint_studio.engine.checkpoints import save_checkpoint
    from inpaint_studio.networks.registry import create_network

    torch.manual_seed(seed)
    net = create_network("deepfill_v2_generator", cnum=4).eval()
    components = {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 4}}}
    return save_checkpoint(path, "deepfill_v2", {"generator": net}, components)


def test_a_checkpoint_file_is_scored_under_its_own_label(tmp_path):
    paths = _photos(tmp_path / "img", n=1, h=32, w=32)
    a, b = _tiny_deepfill(tmp_path / "a", 0), _tiny_deepfill(tmp_path / "b", 1)
    result = evaluate(paths, [f"deepfill_v2={a}", f"deepfill_v2={b.with_suffix('.json')}"],
                      generate=[(0.2, 0.3)], size=32, device="cpu")
    assert not result.skipped
    ra, rb = result.row("deepfill_v2[a]", "20-30%"), result.row("deepfill_v2[b]", "20-30%")
    # two different random networks: each row is its own file's fill, computed directly here
    image = prepare(load_rgb(paths[0]), 32)
    mask = generated_mask(32, (0.2, 0.3), 0, paths[0].name, 0)
    for path, row in ((a, ra), (b, rb)):
        method = create_method("deepfill_v2", checkpoint=path, device="cpu")
        method.load()
        assert row["l1_hole"] == pytest.approx(l1(method.inpaint(image, mask), image, mask), abs=1e-6)
    assert ra["l1_hole"] != rb["l1_hole"]


def test_a_checkpoint_spec_without_a_path_is_refused(tmp_path):
    with pytest.raises(InpaintStudioError, match="NAME=PATH"):
        evaluate(_photos(tmp_path / "img", n=1), ["deepfill_v2="], generate=[(0.2, 0.3)], size=32)


def test_method_options_in_a_spec_are_parsed_from_the_right():
    assert method_spec("vcnet:detector=mpn") == ("vcnet:detector=mpn", "vcnet", {"detector": "mpn"})
    label, name, options = method_spec("vcnet=/runs/a:b/v.json:detector=mpn:threshold=0.7")  # a colon in the path
    assert (label, name) == ("vcnet[v]:detector=mpn:threshold=0.7", "vcnet")
    assert options == {"checkpoint": Path("/runs/a:b/v.json"), "detector": "mpn", "threshold": 0.7}
    assert method_spec("telea:radius=5:fast=false")[2] == {"radius": 5, "fast": False}
    with pytest.raises(InpaintStudioError, match="NAME=PATH"):
        method_spec("vcnet:checkpoint=x.json")


def test_an_option_in_a_spec_reaches_the_method_and_gets_its_own_rows(tmp_path):
    paths = _photos(tmp_path / "img", n=2, h=48, w=48)
    result = evaluate(paths, ["classical_restore", "classical_restore:threshold=0.99"], generate=[(0.1, 0.2)],
                      size=48, contaminate=True)
    rows = {(r["model"], r["kind"]): r for r in result.restoration}
    # The squeezed classical probability never reaches 0.99: that setting marks nothing, so it repairs
    # nothing (the restored photo is the damaged input), while the default threshold finds damage.
    strict = [r for (m, _), r in rows.items() if m == "classical_restore:threshold=0.99"]
    assert strict and all(r["mask_iou"] == 0.0 and r["psnr"] == pytest.approx(r["input_psnr"]) for r in strict)
    assert any(r["mask_iou"] > 0.0 for (m, _), r in rows.items() if m == "classical_restore")
    # An option the method does not take is reported under its label, not silently dropped.
    bad = evaluate(paths, ["classical_restore:bogus=1"], generate=[(0.1, 0.2)], size=48, contaminate=True)
    assert not bad.restoration and "rejected its options" in " ".join(bad.skipped)
