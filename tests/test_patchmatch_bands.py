"""PatchMatch on larger photos: above `band_split_above` the shading comes from Navier–Stokes and the detail from
the copied patches; reproducible per seed, nothing outside the hole touched, detail kept."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.core.metrics import detail_ratio
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.methods import patchmatch as pm_module


def _textured(h: int, w: int) -> np.ndarray:
    """A smooth colour ramp under fine random grain: shading and texture both present."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = np.stack([60 + 120 * xx / w, 80 + 100 * yy / h, 140 - 60 * xx / w], axis=2)
    grain = rng.normal(0, 18, (h, w, 1)).astype(np.float32)
    return np.clip(ramp + grain, 0, 255).astype(np.uint8)


def _hole(h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    mask[h // 3 : h // 3 + 90, w // 3 : w // 3 + 120] = 255
    return mask


@pytest.fixture(scope="module")
def large() -> tuple[np.ndarray, np.ndarray]:
    return _textured(420, 520), _hole(420, 520)


def test_the_split_runs_above_the_limit_and_not_below(monkeypatch, large):
    calls = []
    real = pm_module.band_split

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pm_module, "band_split", spy)
    image, mask = large
    create_method("patchmatch").inpaint(image, mask)
    assert calls == [1]
    small = _textured(256, 256)
    create_method("patchmatch").inpaint(small, _hole(256, 256))
    assert calls == [1]  # 256 px is under the default limit: plain PatchMatch


def test_the_split_changes_the_fill_and_zero_turns_it_off(large):
    image, mask = large
    split = create_method("patchmatch", seed=2).inpaint(image, mask)
    plain = create_method("patchmatch", seed=2, band_split_above=0).inpaint(image, mask)
    high_limit = create_method("patchmatch", seed=2, band_split_above=600).inpaint(image, mask)
    assert not np.array_equal(split, plain)
    assert np.array_equal(plain, high_limit)  # 520 px is not above 600: the old fill exactly


def test_the_split_fill_is_smoother_in_shading_than_the_copy(large):
    """The low band follows the ramp: the blurred fill is nearer the truth's blurred hole than plain PatchMatch's."""
    import cv2

    image, mask = large
    hole = mask > 0
    truth = cv2.GaussianBlur(image.astype(np.float32), (0, 0), 4)

    def shading_error(out: np.ndarray) -> float:
        return float(np.abs(cv2.GaussianBlur(out.astype(np.float32), (0, 0), 4) - truth)[hole].mean())

    split = create_method("patchmatch").inpaint(image, mask)
    plain = create_method("patchmatch", band_split_above=0).inpaint(image, mask)
    assert shading_error(split) < shading_error(plain)


def test_same_seed_same_fill_other_seed_other_fill(large):
    image, mask = large
    a = create_method("patchmatch", seed=5).inpaint(image, mask)
    b = create_method("patchmatch", seed=5).inpaint(image, mask)
    c = create_method("patchmatch", seed=6).inpaint(image, mask)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_outside_the_hole_unchanged_and_detail_kept(large):
    image, mask = large
    out = create_method("patchmatch").inpaint(image, mask)
    assert np.array_equal(out[mask == 0], image[mask == 0])
    assert detail_ratio(out, image, mask) >= 0.7
    assert detail_ratio(create_method("navier_stokes").inpaint(image, mask), image, mask) < 0.5  # the test can fail


def test_band_split_alone():
    """Low band from the first image, high band from the second; clipped to uint8."""
    flat = np.full((32, 32, 3), 100, np.uint8)
    checker = np.where((np.indices((32, 32)).sum(0) % 2)[..., None] == 1, 160, 40).astype(np.uint8).repeat(3, 2)
    out = pm_module.band_split(flat, checker, sigma=1.5)
    assert out.dtype == np.uint8 and out.shape == flat.shape
    assert abs(out[8:24, 8:24].mean() - 100) < 2  # the shading is the flat image's
    assert out[8:24, 8:24].std() > 30  # the checker's detail survives
    assert np.array_equal(pm_module.band_split(flat, flat), flat)  # nothing to add where the copy is flat


def test_a_bad_limit_is_refused():
    with pytest.raises(ValueError, match="band_split_above"):
        create_method("patchmatch", band_split_above=-1)
