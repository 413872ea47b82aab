"""The trainer's dataset: crops, masks in their hole-ratio bucket, VCNet contamination masks that are
exactly the changed pixels, undecodable files skipped, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from trainer.data import DataError, InpaintingDataset, MaskFolder, synthetic_mask_fn, to_tensors
from trainer.toydata import write_toy_images


@pytest.fixture
def photos(tmp_path):
    write_toy_images(tmp_path / "photos" / "sub", 6, size=(70, 90))
    return tmp_path / "photos"


def test_samples_are_square_crops_with_binary_masks(photos):
    ds = InpaintingDataset(photos, 48, mask_fn=synthetic_mask_fn("deepfill"), edges=True, seed=1)
    assert len(ds) == 6  # found recursively
    s = ds[0]
    assert s["image"].shape == (48, 48, 3) and s["image"].dtype == np.uint8
    assert s["mask"].shape == (48, 48) and set(np.unique(s["mask"])) <= {0, 255} and s["mask"].any()
    assert s["edges"].shape == (48, 48) and set(np.unique(s["edges"])) <= {0, 255}
    batch = to_tensors([ds[0], ds[1]])
    assert batch["image"].shape == (2, 3, 48, 48) and batch["mask"].shape == (2, 1, 48, 48)
    assert float(batch["image"].max()) <= 1.0 and set(batch["mask"].unique().tolist()) <= {0.0, 1.0}


def test_samples_depend_only_on_seed_epoch_and_index(photos):
    a = InpaintingDataset(photos, 32, mask_fn=synthetic_mask_fn("free_form"), seed=3)
    b = InpaintingDataset(photos, 32, mask_fn=synthetic_mask_fn("free_form"), seed=3)
    assert np.array_equal(a[2]["image"], b[2]["image"]) and np.array_equal(a[2]["mask"], b[2]["mask"])
    b.set_epoch(1)
    assert not np.array_equal(a[2]["mask"], b[2]["mask"])  # a new epoch draws new crops and masks
    val1 = InpaintingDataset(photos, 32, mask_fn=synthetic_mask_fn("free_form"), train=False)
    val1.set_epoch(5)
    val2 = InpaintingDataset(photos, 32, mask_fn=synthetic_mask_fn("free_form"), train=False)
    assert np.array_equal(val1[0]["mask"], val2[0]["mask"])  # validation never changes


@pytest.mark.parametrize("bucket", [(0.01, 0.1), (0.2, 0.3), (0.4, 0.5)])
def test_hole_ratios_land_in_their_bucket(photos, bucket):
    ds = InpaintingDataset(photos, 64, mask_fn=synthetic_mask_fn("bucket", list(bucket)), seed=0)
    ratios = [float((ds[i]["mask"] > 0).mean()) for i in range(len(ds))]
    assert all(bucket[0] <= r < bucket[1] for r in ratios), ratios


@pytest.mark.parametrize("kind", ["contamination", "scratch", "stain", "ink", "graffiti"])
def test_contamination_mask_is_exactly_the_changed_pixels(photos, kind):
    ds = InpaintingDataset(photos, 48, damage=[kind], seed=2)
    for i in range(3):
        s = ds[i]
        changed = (s["input"] != s["image"]).any(axis=2)
        assert changed.any()
        assert np.array_equal(s["mask"] > 0, changed)


def test_clean_negatives_leave_the_photo_as_it_is_with_an_empty_mask(photos):
    ds = InpaintingDataset(photos, 48, damage=["contamination", "clean"], seed=1, edges=True)
    samples = [ds[i] for i in range(len(ds))]
    clean = [s for s in samples if not s["mask"].any()]
    damaged = [s for s in samples if s["mask"].any()]
    assert clean and damaged  # both kinds are drawn
    for s in clean:
        assert np.array_equal(s["input"], s["image"]) and s["input"] is not s["image"]
        assert s["edges"].shape == (48, 48)
    for s in damaged:
        assert np.array_equal(s["mask"] > 0, (s["input"] != s["image"]).any(axis=2))


def test_undecodable_files_are_skipped_and_counted(photos, caplog):
    (photos / "broken.png").write_bytes(b"not a png at all")
    (photos / "truncated.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 20)
    ds = InpaintingDataset(photos, 32, mask_fn=synthetic_mask_fn("box"))
    assert len(ds) == 8
    with caplog.at_level("WARNING", logger="trainer"):
        samples = [ds[i] for i in range(len(ds))]
    assert all(s["image"].shape == (32, 32, 3) for s in samples)
    assert ds.skipped == 2
    assert sum("undecodable" in r.message for r in caplog.records) == 1  # logged once


def test_empty_or_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        InpaintingDataset(tmp_path / "nope", 32, mask_fn=synthetic_mask_fn("box"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images"):
        InpaintingDataset(tmp_path / "empty", 32, mask_fn=synthetic_mask_fn("box"))
    with pytest.raises(DataError, match="unknown damage"):
        write_toy_images(tmp_path / "one", 1)
        InpaintingDataset(tmp_path / "one", 32, damage=["smudge"])


def test_mask_folder_masks_are_resized_binary(tmp_path):
    m = np.zeros((20, 30), np.uint8)
    m[5:10, 3:12] = 255
    (tmp_path / "masks").mkdir()
    Image.fromarray(m).save(tmp_path / "masks" / "m.png")
    fn = MaskFolder(tmp_path / "masks")
    out = fn(40, 40, np.random.default_rng(0))
    assert out.shape == (40, 40) and set(np.unique(out)) == {0, 255}
    assert 0.02 < (out > 0).mean() < 0.2  # 45/600 of the area, whatever the rotation



def test_cached_photos_give_the_same_samples_and_are_decoded_once(photos, monkeypatch):
    import trainer.data as data

    calls: list[str] = []
    real = data.load_rgb
    monkeypatch.setattr(data, "load_rgb", lambda p: calls.append(p.name) or real(p))
    kw = {"mask_fn": synthetic_mask_fn("deepfill"), "damage": None, "seed": 2}
    plain = InpaintingDataset(photos, 32, cache_mb=0, **kw)
    cached = InpaintingDataset(photos, 32, cache_mb=64, **kw)
    n = len(plain)
    for epoch in (0, 1):
        plain.set_epoch(epoch)
        cached.set_epoch(epoch)
        for i in range(n):
            a, b = plain[i], cached[i]
            assert all(np.array_equal(a[k], b[k]) for k in a)
    assert len(calls) == 2 * n + n  # plain decodes every time; the cached set once per photo
    tiny = InpaintingDataset(photos, 32, cache_mb=0, **kw)
    tiny.cache_bytes = 1  # a budget too small for one photo: nothing is kept, samples still come
    assert tiny[0]["image"].shape == (32, 32, 3) and not tiny._cache


@pytest.mark.parametrize("kind", ["hairline", "paste", "coffee"])
def test_damage_families_can_be_trained_on(photos, kind):
    ds = InpaintingDataset(photos, 48, damage=[kind], seed=2)
    again = InpaintingDataset(photos, 48, damage=[kind], seed=2)
    for i in range(2):
        s = ds[i]
        assert s["input"].shape == s["image"].shape and s["mask"].dtype == np.uint8
        assert s["mask"].any() and set(np.unique(s["mask"])) <= {0, 255}
        changed = np.abs(s["input"].astype(int) - s["image"].astype(int)).max(axis=2)
        assert (changed[s["mask"] > 0] > 3).all()  # the mask holds only visibly changed pixels
        assert np.array_equal(s["input"], again[i]["input"])


@pytest.mark.parametrize("kind", ["coffee", "stain", "hairline"])
def test_translucent_negatives_keep_the_stained_input_with_an_empty_mask(photos, kind):
    plain = InpaintingDataset(photos, 48, damage=[kind], seed=3)
    quiet = InpaintingDataset(photos, 48, damage=[kind], seed=3, translucent_negatives=True)
    for i in range(2):
        a, b = plain[i], quiet[i]
        assert np.array_equal(a["input"], b["input"]) and a["mask"].any()  # the same damaged photo ...
        assert b["mask"].any() == (kind == "hairline")  # ... but a stain is no hole; a scratch still is


def test_the_mixed_mask_kind_draws_every_shape_from_thin_strokes_to_boxes():
    from trainer.data import synthetic_mask_fn

    fn = synthetic_mask_fn("mixed")
    ratios = [float((fn(64, 64, np.random.default_rng(seed)) > 0).mean()) for seed in range(40)]
    assert min(ratios) < 0.1 and max(ratios) > 0.25  # sparse thin strokes and large holes both come
    with pytest.raises(DataError, match="mixed"):
        synthetic_mask_fn("nope")
