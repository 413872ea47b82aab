"""Damage families: each generates deterministically, returns the documented arrays, and can be held out."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_studio.core.damage_families import (
    FAMILIES,
    SEEN,
    UNSEEN,
    VISIBLE,
    draw_damage,
    draw_except,
    families_except,
)
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.paths import SAMPLES_DIR


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return cv2.resize(load_rgb(SAMPLES_DIR / "chelsea.png"), (192, 160), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def other() -> np.ndarray:
    return cv2.resize(load_rgb(SAMPLES_DIR / "coffee.png"), (200, 150), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_is_deterministic_and_well_formed(name: str, photo: np.ndarray, other: np.ndarray) -> None:
    a = draw_damage(photo, np.random.default_rng(3), name, other)
    b = draw_damage(photo, np.random.default_rng(3), name, other)
    c = draw_damage(photo, np.random.default_rng(4), name, other)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert not np.array_equal(a.image, c.image)
    assert a.image.dtype == np.uint8 and a.image.shape == photo.shape
    assert a.mask.dtype == np.uint8 and a.mask.shape == photo.shape[:2] and set(np.unique(a.mask)) <= {0, 255}
    assert a.mask.any() and a.family == name
    if name in UNSEEN and name != "dust":  # (the old kinds mark every changed pixel; dust's grain moves all)
        # the mask holds only pixels that visibly changed
        diff = np.abs(a.image.astype(int) - photo.astype(int)).max(-1)
        assert (diff[a.mask > 0] > VISIBLE).all()
    assert a.translucent == FAMILIES[name].translucent
    if a.translucent:
        assert a.strength is not None and a.strength.dtype == np.float32 and a.strength.shape == photo.shape[:2]
        assert a.strength.min() >= 0.0 and a.strength.max() <= 1.0
        if name in UNSEEN:
            assert a.strength[a.mask > 0].min() > 0.02
    else:
        assert a.strength is None


def test_every_damage_pixel_changed_outside_grain(photo: np.ndarray) -> None:
    # opaque families other than dust (whose grain is everywhere) change nothing outside their mask
    for name in ("hairline", "paste", "text", "watermark"):
        d = draw_damage(photo, np.random.default_rng(0), name)
        diff = np.abs(d.image.astype(int) - photo.astype(int)).max(-1)
        assert diff[d.mask == 0].max() <= VISIBLE


def test_seen_are_the_old_synthesis_kinds() -> None:
    from inpaint_studio.core.synthesis import DAMAGE_KINDS

    assert set(SEEN) == set(DAMAGE_KINDS) - {"mixed"}
    assert set(SEEN).isdisjoint(UNSEEN) and set(SEEN) | set(UNSEEN) == set(FAMILIES)
    groups = {f.group for f in FAMILIES.values()}
    assert groups == {"scratch", "contamination", "stain"}


def test_held_out_families_are_never_drawn(photo: np.ndarray) -> None:
    held = ["coffee", "water", "foxing", "hairline", "paste"]
    left = families_except(held)
    assert set(left) == set(FAMILIES) - set(held)
    drawn = {draw_except(photo, np.random.default_rng(k), held).family for k in range(60)}
    assert drawn.isdisjoint(held)
    assert len(drawn) >= 6  # and the rest do come up


def test_unknown_or_all_held_out_is_refused(photo: np.ndarray) -> None:
    with pytest.raises(ValueError, match="unknown damage family nope"):
        families_except(["nope"])
    with pytest.raises(ValueError, match="nothing left"):
        families_except(list(FAMILIES))
    with pytest.raises(ValueError, match="unknown"):
        draw_damage(photo, np.random.default_rng(0), "nope")
    with pytest.raises(ValueError, match="RGB uint8"):
        draw_damage(photo[..., 0], np.random.default_rng(0), "coffee")


def test_spill_is_a_heavy_brown_tint(photo: np.ndarray) -> None:
    """Heavy spills darken every channel, blue most, and far more than a coffee blot does."""
    from inpaint_studio.core.metrics import psnr

    spills = [draw_damage(photo, np.random.default_rng(k), "spill") for k in range(4)]
    coffees = [draw_damage(photo, np.random.default_rng(k), "coffee") for k in range(4)]
    for d in spills:
        inside = d.strength > 0.3
        kept = d.image.astype(float)[inside].mean(0) / photo.astype(float)[inside].mean(0)  # light left
        assert (kept < 1).all() and kept[2] < kept[1] < kept[0]
    assert np.mean([psnr(d.image, photo) for d in spills]) < np.mean([psnr(d.image, photo) for d in coffees]) - 3


def test_lift_blots_fade_and_stay_out_of_the_report(photo: np.ndarray) -> None:
    """The stain network's fading variety lightens and greys what it covers, and is no report family (water and
    fading stay unseen)."""
    from inpaint_studio.core.damage_families import lift_blots

    d = lift_blots(photo, np.random.default_rng(5))
    inside = d.strength > 0.3
    assert inside.any() and d.family == "lift" and "lift" not in FAMILIES
    assert d.image.astype(float)[inside].mean() > photo.astype(float)[inside].mean() + 5


def test_speck_tints_are_many_small_warm_darkening_dots_and_stay_out_of_the_report(photo: np.ndarray) -> None:
    """The stain network's speck variety: many separate small dots, each darkening blue most and red least, and
    no report family (foxing stays unseen)."""
    import cv2

    from inpaint_studio.core.damage_families import speck_tints

    for seed in range(3):
        d = speck_tints(photo, np.random.default_rng(seed))
        assert d.family == "specks" and "specks" not in FAMILIES and d.translucent
        dots = (d.strength > 0.1).astype(np.uint8)
        count, _labels, stats, _ = cv2.connectedComponentsWithStats(dots, connectivity=8)
        assert count - 1 >= 5 and np.median(stats[1:, cv2.CC_STAT_AREA]) < 0.002 * dots.size
        inside = d.strength > 0.3
        kept = d.image.astype(float)[inside].mean(0) / np.maximum(photo.astype(float)[inside].mean(0), 1)
        assert (kept < 1).all() and kept[2] < kept[1] < kept[0]


def test_worn_prints_are_the_issues_heavier_scratch_case(photo: np.ndarray) -> None:
    """`worn`: ink, white or grey scratches and blotches that take a 512² photo to ~25 dB (the issue's scratch
    target starts there), a scratch-group family no network trained on."""
    from inpaint_studio.core.metrics import psnr

    assert FAMILIES["worn"].group == "scratch" and not FAMILIES["worn"].seen
    big = cv2.resize(photo, (512, 512), interpolation=cv2.INTER_LINEAR)
    draws = [draw_damage(big, np.random.default_rng(k), "worn") for k in range(4)]
    assert 20 < np.mean([psnr(d.image, big) for d in draws]) < 30
    for d in draws:
        assert 0.01 < np.count_nonzero(d.mask) / d.mask.size < 0.2 and not d.translucent
