"""Tint removal inverts a known stain; a clean photo and an implausible tint are left alone; the stain
detector's map is well-formed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.metrics import psnr
from inpaint_studio.core.paths import SAMPLES_DIR
from inpaint_studio.core.stains import detect_stains, stain_mask
from inpaint_studio.core.tint import fit_tint, remove_tint


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return cv2.resize(load_rgb(SAMPLES_DIR / "chelsea.png"), (256, 256), interpolation=cv2.INTER_AREA)


def _blot(h: int, w: int) -> np.ndarray:
    """A hand-made stain map: a disc with a narrow stronger rim (a tide line) and two drops."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.hypot(xx - 0.45 * w, yy - 0.55 * h) / (0.28 * w)
    body = (d < 1) * 0.4
    rim = 0.35 * np.exp(-(((d - 0.96) / 0.03) ** 2)) * (d < 1.02)
    drops = sum(0.5 * (np.hypot(xx - cx, yy - cy) < 5) for cx, cy in ((0.85 * w, 0.2 * h), (0.15 * w, 0.15 * h)))
    return cv2.GaussianBlur((body + rim + drops).astype(np.float32), (0, 0), 0.8).clip(0, 1)


def _stain(photo: np.ndarray, s: np.ndarray, gain: np.ndarray, offset: np.ndarray) -> np.ndarray:
    k = s[..., None]
    return np.clip(np.rint(photo * (1 + k * (gain - 1)) + k * offset), 0, 255).astype(np.uint8)


def test_known_gain_and_offset_field_is_inverted(photo: np.ndarray) -> None:
    s = _blot(*photo.shape[:2])
    stained = _stain(photo, s, np.array([0.75, 0.55, 0.3]), np.array([6.0, 3.0, 0.0]))
    assert psnr(stained, photo) < 30
    restored = remove_tint(stained, s)
    assert psnr(restored, photo) > psnr(stained, photo) + 8
    assert psnr(restored, photo) > 36
    inside = s > 0.1
    assert np.abs(restored[inside].astype(float) - photo[inside]).mean() < 3.0  # grey levels
    assert np.array_equal(restored[s == 0], stained[s == 0])


def test_fitted_gain_matches_the_hand_made_one(photo: np.ndarray) -> None:
    s = _blot(*photo.shape[:2])
    gain = np.array([0.8, 0.6, 0.35])
    fit = fit_tint(_stain(photo, s, gain, np.zeros(3)), s)
    largest = max(fit.coefficients, key=lambda k: int(np.count_nonzero(fit.labels == k)))
    assert fit.accepted[largest]
    # the coefficients apply to the map rescaled by `fit.scale`: the gain where the hand-made map is 1
    np.testing.assert_allclose(1 + fit.scale * fit.coefficients[largest][:, 0], gain, atol=0.08)
    half = fit_tint(_stain(photo, s, gain, np.zeros(3)), s * 0.5)  # only the map's proportions matter
    np.testing.assert_allclose(1 + half.scale * 0.5 * half.coefficients[largest][:, 0], gain, atol=0.08)


def test_clean_photo_and_empty_map_are_left_unchanged(photo: np.ndarray) -> None:
    assert np.array_equal(remove_tint(photo, np.zeros(photo.shape[:2], np.float32)), photo)
    # a map over an unstained photo: the fit finds nothing to remove, so (nearly) nothing changes
    restored = remove_tint(photo, _blot(*photo.shape[:2]))
    assert psnr(restored, photo) > 40


def test_lightening_tint_is_left_alone(photo: np.ndarray) -> None:
    # water-mark-like lifting: the guard leaves it as it is rather than risk making it worse
    s = _blot(*photo.shape[:2])
    lifted = _stain(photo, s, np.array([0.8, 0.8, 0.8]), np.array([60.0, 60.0, 60.0]))
    assert np.array_equal(remove_tint(lifted, s), lifted)


def test_bad_input_is_refused(photo: np.ndarray) -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        remove_tint(photo.astype(np.float32), np.zeros(photo.shape[:2], np.float32))
    with pytest.raises(ValueError, match="size of the image"):
        remove_tint(photo, np.zeros((3, 3), np.float32))


def test_stain_detector_map_is_soft_and_finds_a_strong_brown_blot() -> None:
    grey = np.full((128, 160, 3), 170, np.uint8)
    grey += np.random.default_rng(0).integers(0, 6, grey.shape, dtype=np.uint8)
    s = detect_stains(grey)
    assert s.dtype == np.float32 and s.shape == grey.shape[:2] and s.max() == 0
    blot = np.zeros(grey.shape[:2], np.float32)
    cv2.circle(blot, (80, 64), 12, 0.8, -1)
    stained = _stain(grey, blot, np.array([0.7, 0.5, 0.25]), np.zeros(3))
    s = detect_stains(stained)
    assert s.min() >= 0 and s.max() <= 1
    found = stain_mask(s) > 0
    assert found[blot > 0].mean() > 0.7 and found[blot == 0].mean() < 0.01



def test_restore_with_stains_option_un_tints_a_brown_blot() -> None:
    from inpaint_studio.engine.base import create_method

    yy, xx = np.mgrid[0:160, 0:200]
    photo = np.stack([150 + 0.2 * xx, 160 + 0.1 * yy, 170 - 0.1 * xx], -1)  # a soft gradient, slight noise
    photo = np.clip(photo + np.random.default_rng(1).normal(0, 2, photo.shape), 0, 255).astype(np.uint8)
    blot = np.zeros(photo.shape[:2], np.float32)
    cv2.circle(blot, (100, 80), 30, 0.6, -1)
    blot = cv2.GaussianBlur(blot, (0, 0), 0.8)
    stained = _stain(photo, blot, np.array([0.7, 0.5, 0.25]), np.zeros(3))
    plain = create_method("classical_restore").inpaint(stained, None)
    untinted = create_method("classical_restore", stains="tint").inpaint(stained, None)
    assert psnr(untinted, photo) > max(psnr(plain, photo), psnr(stained, photo)) + 3
    with pytest.raises(ValueError, match="stains must be one of off, tint"):
        create_method("classical_restore", stains="paint")


def test_trusted_keeps_only_the_stains_the_fit_corrects(photo: np.ndarray) -> None:
    from inpaint_studio.core.tint import trusted

    s = _blot(*photo.shape[:2])
    stained = _stain(photo, s, np.array([0.8, 0.6, 0.35]), np.zeros(3))
    fit = fit_tint(stained, s)
    kept = trusted(s, fit)
    largest = max(fit.coefficients, key=lambda k: int(np.count_nonzero(fit.labels == k)))
    blot = fit.labels == largest
    assert fit.accepted[largest] and np.array_equal(kept[blot], s[blot])  # the blot itself, its strength kept
    assert np.array_equal(kept[kept > 0], s[kept > 0]) and not kept[s == 0].any()
    # a green-blue "tint" that leaves red untouched is no stain: nothing trusted, nothing changed
    odd = _stain(photo, s, np.array([1.0, 0.75, 0.75]), np.zeros(3))
    assert not trusted(s, fit_tint(odd, s)).any()
    assert np.array_equal(remove_tint(odd, s), odd)
