"""Synthetic holes and damage: deterministic by seed, hole ratios where promised, damage masks exact."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.paths import RESOURCES_DIR
from inpaint_studio.core.synthesis import (
    DAMAGE_KINDS,
    Contamination,
    bucketed_mask,
    centre_box_mask,
    contaminate,
    deepfill_training_mask,
    free_form_mask,
    random_box_mask,
    synthesize_damage,
    vcnet_stroke_mask,
)

SAMPLES = RESOURCES_DIR / "samples"


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _ratio(mask: np.ndarray) -> float:
    return np.count_nonzero(mask) / mask.size


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return cv2.resize(load_rgb(SAMPLES / "chelsea.png"), (192, 160), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def other_photo() -> np.ndarray:
    return load_rgb(SAMPLES / "coffee.png")


# --- masks ----------------------------------------------------------------------------------------


MASK_FNS = [free_form_mask, random_box_mask, deepfill_training_mask, vcnet_stroke_mask]


@pytest.mark.parametrize("fn", MASK_FNS)
def test_masks_are_binary_and_deterministic_by_seed(fn):
    a, b, c = fn(200, 300, _rng(5)), fn(200, 300, _rng(5)), fn(200, 300, _rng(6))
    assert a.dtype == np.uint8 and a.shape == (200, 300)
    assert set(np.unique(a)) == {0, 255}
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_free_form_stroke_width_scales_with_the_image():
    def half_width(size: int) -> float:
        widths = []
        for seed in range(12):
            m = free_form_mask(size, size, _rng(seed), max_strokes=1, min_width=20, max_width=20)
            widths.append(cv2.distanceTransform(m, cv2.DIST_L2, 5).max())
        return float(np.median(widths))

    small, large = half_width(256), half_width(512)
    assert 9 <= small <= 25  # at least half of 20 px; sharp zig-zag turns overlap into wider blobs
    assert 1.7 <= large / small <= 2.3


def test_free_form_hole_ratio_does_not_depend_on_size():
    med = {s: np.median([_ratio(free_form_mask(s, s, _rng(i))) for i in range(40)]) for s in (256, 512)}
    assert 0.05 < med[256] < 0.35
    assert abs(med[512] - med[256]) < 0.06


def test_random_box_is_one_rectangle_of_about_half_the_sides():
    for size in (256, 512):
        for seed in range(10):
            m = random_box_mask(size, size, _rng(seed))
            ys, xs = np.nonzero(m)
            bh, bw = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
            assert np.count_nonzero(m) == bh * bw  # solid rectangle
            assert size // 2 - 2 * 16 * size // 256 <= min(bh, bw) and max(bh, bw) <= size // 2


def test_deepfill_training_mask_is_box_union_strokes():
    # Told apart by shape, not by re-running the code: a solid box at least the box's smallest side, and
    # thinner stroke pixels outside every square of that side (what a morphological opening keeps).
    size = 256
    side = (size // 2 - 2 * 16 * size // 256) // 2 * 2 - 1  # odd: an even kernel's anchor shifts the opening
    square = np.ones((side, side), np.uint8)
    strokes_seen = 0
    for seed in range(8):
        m = deepfill_training_mask(size, size, _rng(seed))
        assert set(np.unique(m)) <= {0, 255}
        assert cv2.erode(m, square).any(), seed  # a box of at least side × side is all hole
        strokes_seen += int(np.count_nonzero(m > cv2.morphologyEx(m, cv2.MORPH_OPEN, square)) > 0)
    assert strokes_seen >= 6


def test_centre_box_is_the_centred_quarter():
    m = centre_box_mask(256, 256)
    assert _ratio(m) == 0.25
    assert m[64:192, 64:192].all() and np.count_nonzero(m) == 128 * 128
    assert np.count_nonzero(centre_box_mask(128, 128)) == 64 * 64
    assert np.count_nonzero(centre_box_mask(100, 400)) == 100 * 100


@pytest.mark.parametrize("bucket", [(0.1, 0.2), (0.2, 0.3), (0.3, 0.4)])
def test_bucketed_masks_land_in_their_bucket(bucket):
    lo, hi = bucket
    rng = _rng(11)
    ratios = [_ratio(bucketed_mask(256, 256, bucket, rng)) for _ in range(200)]
    assert all(lo <= r < hi for r in ratios)
    assert max(ratios) - min(ratios) > 0.5 * (hi - lo)  # spread over the bucket, not pinned to an end


@pytest.mark.parametrize("kind", ["box", "deepfill", "vcnet"])
def test_bucketed_masks_of_other_kinds_terminate_in_range(kind):
    rng = _rng(2)
    for bucket in [(0.01, 0.05), (0.5, 0.6), (0.9, 1.0)]:
        for _ in range(5):
            r = _ratio(bucketed_mask(96, 128, bucket, rng, kind=kind))
            assert bucket[0] <= r < bucket[1]


def test_bucketed_mask_rejects_impossible_ranges():
    with pytest.raises(ValueError):
        bucketed_mask(10, 10, (0.3, 0.2), _rng())
    with pytest.raises(ValueError):
        bucketed_mask(3, 3, (0.12, 0.2), _rng())  # k/9 never lands in [0.12, 0.2)
    with pytest.raises(ValueError, match="unknown mask kind"):
        bucketed_mask(64, 64, (0.1, 0.2), _rng(), kind="blob")


def test_vcnet_strokes_cover_a_fifth_to_a_half():
    rng = _rng(4)
    assert all(0.2 <= _ratio(vcnet_stroke_mask(128, 128, rng)) < 0.5 for _ in range(30))


# --- damage ---------------------------------------------------------------------------------------


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where((a != b).any(-1), 255, 0).astype(np.uint8)


@pytest.mark.parametrize("kind", DAMAGE_KINDS)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_damage_mask_is_exactly_the_changed_pixels(photo, other_photo, kind, seed):
    before = photo.copy()
    result = synthesize_damage(photo, _rng(seed), kind, noise_source=other_photo)
    np.testing.assert_array_equal(photo, before)  # input untouched
    assert isinstance(result, Contamination)
    assert result.image.dtype == np.uint8 and result.image.shape == photo.shape
    np.testing.assert_array_equal(result.mask, _changed(photo, result.image))
    assert 0 < _ratio(result.mask) < 0.7


@pytest.mark.parametrize("kind", DAMAGE_KINDS)
def test_damage_is_deterministic_by_seed(photo, other_photo, kind):
    a = synthesize_damage(photo, _rng(9), kind, noise_source=other_photo)
    b = synthesize_damage(photo, _rng(9), kind, noise_source=other_photo)
    c = synthesize_damage(photo, _rng(10), kind, noise_source=other_photo)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert not np.array_equal(a.image, c.image)


def test_damage_errors(photo):
    with pytest.raises(ValueError, match="noise_source"):
        synthesize_damage(photo, _rng(), "contamination")
    with pytest.raises(ValueError, match="unknown damage kind"):
        synthesize_damage(photo, _rng(), "fire")


def test_scratches_are_thin_lines(photo):
    for seed in range(4):
        m = synthesize_damage(photo, _rng(seed), "scratch").mask
        # An opening with a 5-px disk removes anything at most ~4 px wide: scratches mostly vanish.
        opened = cv2.morphologyEx(m, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
        assert np.count_nonzero(opened) < 0.1 * np.count_nonzero(m)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def test_ink_darkens_graffiti_saturates_stains_turn_brown(photo):
    for seed in range(3):
        ink = synthesize_damage(photo, _rng(seed), "ink")
        hole = ink.mask > 0
        assert _luma(ink.image[hole]).mean() < 0.6 * _luma(photo[hole]).mean()

        graffiti = synthesize_damage(photo, _rng(seed), "graffiti")
        hole = graffiti.mask > 0
        sat_after = cv2.cvtColor(graffiti.image, cv2.COLOR_RGB2HSV)[..., 1][hole].mean()
        sat_before = cv2.cvtColor(photo, cv2.COLOR_RGB2HSV)[..., 1][hole].mean()
        assert sat_after > sat_before + 40

        stain = synthesize_damage(photo, _rng(seed), "stain")
        hole = stain.mask > 0
        drop = photo[hole].astype(np.float32).mean(0) - stain.image[hole].astype(np.float32).mean(0)
        assert drop[2] > drop[0] > 0  # blue loses most: a brown/yellow tint, and darker


def test_contamination_pastes_the_noise_photo_through_a_soft_stroke_mask():
    image = np.full((64, 80, 3), 40, np.uint8)
    noise = np.zeros((20, 30, 3), np.uint8)  # smaller than the image: enlarged, then cropped
    noise[:] = (200, 10, 90)
    result = contaminate(image, noise, _rng(1))
    alpha = result.alpha
    assert alpha is not None and alpha.dtype == np.float32
    core = alpha > 0.999
    assert np.count_nonzero(core) > 0.1 * core.size
    assert (result.image[core] == (200, 10, 90)).all()  # inside the stroke: the other photo
    np.testing.assert_array_equal(result.mask, _changed(image, result.image))
    soft = (alpha > 0.02) & (alpha < 0.98)
    assert soft.any()  # a feathered edge, not a hard cut
    assert 0.15 < _ratio(result.mask) < 0.6


def test_contamination_with_a_given_mask_changes_only_near_it(photo, other_photo):
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[40:80, 50:120] = 255
    result = contaminate(photo, other_photo, _rng(0), mask=mask)
    near = cv2.dilate(mask, np.ones((9, 9), np.uint8)) > 0
    assert not (result.mask[~near] > 0).any()
    assert np.count_nonzero(result.mask[mask > 0]) > 0.9 * np.count_nonzero(mask)
