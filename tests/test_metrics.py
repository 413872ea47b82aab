"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import cv2
import imagegen as gen
import numpy as np
import pytest

from inpaint_studio.core.errors import MaskError
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.metrics import (
    bce,
    detail_ratio,
    image_metrics,
    iou,
    l1,
    mse,
    patch_swd,
    periodic_ratio,
    psnr,
    ssim,
)
from inpaint_studio.core.paths import SAMPLES_DIR

# Two 2×2 RGB images. Differences per pixel (all three channels alike): 0, 2, 4, 10.
A = np.array([[[10, 10, 10], [20, 20, 20]], [[30, 30, 30], [40, 40, 40]]], np.uint8)
B = np.array([[[10, 10, 10], [22, 22, 22]], [[26, 26, 26], [50, 50, 50]]], np.uint8)
HOLE = np.array([[0, 255], [0, 255]], np.uint8)  # the pixels differing by 2 and 10


def test_mse_l1_psnr_by_hand():
    # MSE = (0 + 4 + 16 + 100) / 4 = 30; L1 = (0 + 2 + 4 + 10) / 4 = 4.
    assert mse(A, B) == 30.0
    assert l1(A, B) == 4.0
    assert psnr(A, B) == pytest.approx(10 * math.log10(255**2 / 30))
    assert psnr(A, B) == pytest.approx(33.3596, abs=1e-4)  # 10·log10(2167.5)


def test_masked_variants_use_only_hole_pixels():
    # Hole pixels differ by 2 and 10: MSE = (4 + 100) / 2 = 52, L1 = 6.
    assert mse(A, B, HOLE) == 52.0
    assert l1(A, B, HOLE) == 6.0
    assert psnr(A, B, HOLE) == pytest.approx(10 * math.log10(255**2 / 52))
    # Changing a known pixel does not move a masked metric.
    C = B.copy()
    C[0, 0] = 200
    assert mse(A, C, HOLE) == 52.0 and mse(A, C) != mse(A, B)


def test_uint8_does_not_wrap():
    a = np.zeros((1, 1, 3), np.uint8)
    b = np.full((1, 1, 3), 255, np.uint8)
    assert l1(a, b) == 255.0 and l1(b, a) == 255.0 and mse(a, b) == 255.0**2
    assert psnr(a, b) == 0.0


def test_identical_images():
    img = gen.textured(16, 16)
    assert mse(img, img) == 0.0 and l1(img, img) == 0.0
    assert psnr(img, img) == math.inf
    assert ssim(img, img) == pytest.approx(1.0)
    assert ssim(img, img, gen.box_mask(16, 16, 4, 4, 8, 8)) == pytest.approx(1.0)


def test_ssim_orders_degradations():
    target = gen.textured(48, 48, seed=1)
    rng = np.random.default_rng(0)
    slight = np.clip(target + rng.normal(0, 4, target.shape), 0, 255).astype(np.uint8)
    heavy = np.clip(target + rng.normal(0, 40, target.shape), 0, 255).astype(np.uint8)
    assert 1.0 > ssim(slight, target) > ssim(heavy, target) > 0.0


def test_masked_ssim_ignores_damage_outside_the_hole():
    target = gen.textured(48, 48, seed=2)
    hole = gen.box_mask(48, 48, 10, 10, 20, 20)
    damaged = target.copy()
    damaged[30:, 30:] = 0  # far (> 3 px window radius) from the hole
    assert ssim(damaged, target, hole) == pytest.approx(1.0)
    assert ssim(damaged, target) < 0.9


def test_grey_images_and_small_sizes():
    a = gen.textured(5, 5)[:, :, 0]
    assert ssim(a, a) == pytest.approx(1.0)  # 5 px: window shrinks to 5
    with pytest.raises(ValueError, match="at least 3×3"):
        ssim(A, B)  # 2×2


def test_empty_mask_and_shape_errors():
    with pytest.raises(MaskError, match="no hole pixels"):
        mse(A, B, np.zeros((2, 2), np.uint8))
    with pytest.raises(MaskError, match="mask is 3×2"):
        l1(A, B, np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="different shapes"):
        mse(A, B[:1])


def test_bce_by_hand():
    p = np.array([[0.9, 0.2]])
    t = np.array([[255, 0]], np.uint8)
    assert bce(p, t) == pytest.approx(-(math.log(0.9) + math.log(0.8)) / 2)


def test_bce_clips_with_eps():
    p = np.array([[0.0, 1.0]])
    t = np.array([[255, 0]], np.uint8)  # both maximally wrong
    assert bce(p, t) == pytest.approx(-math.log(1e-7), rel=1e-6)
    assert bce(np.array([[1.0, 0.0]]), t) == pytest.approx(-math.log(1 - 1e-7), rel=1e-3)


def test_iou():
    a = gen.box_mask(10, 10, 0, 0, 4, 5)  # 20 px
    b = gen.box_mask(10, 10, 0, 2, 4, 7)  # 20 px, overlap 12
    assert iou(a, b) == pytest.approx(12 / 28)
    assert iou(a, a) == 1.0
    assert iou(a, np.zeros_like(a)) == 0.0
    empty = np.zeros((4, 4), np.uint8)
    assert iou(empty, empty) == 1.0


def test_image_metrics_keys_and_values():
    target = gen.textured(32, 32, seed=3)
    hole = gen.box_mask(32, 32, 8, 8, 16, 16)
    pred = target.copy()
    pred[hole == 255] = 128
    m = image_metrics(pred, target, hole)
    assert set(m) == {"l1", "psnr", "ssim", "l1_hole", "psnr_hole", "ssim_hole", "detail", "swd"}
    assert m["l1_hole"] == pytest.approx(m["l1"] * 32 * 32 / 64)  # all error lies in the 64 hole px
    assert m["psnr_hole"] < m["psnr"] and m["ssim_hole"] < m["ssim"] < 1.0
    # The combined computation gives exactly what the individual functions give.
    assert m == {
        "l1": l1(pred, target), "psnr": psnr(pred, target), "ssim": ssim(pred, target),
        "l1_hole": l1(pred, target, hole), "psnr_hole": psnr(pred, target, hole),
        "ssim_hole": ssim(pred, target, hole), "detail": detail_ratio(pred, target, hole),
        "swd": patch_swd(pred, target, hole),
    }


# --- plausibility: hand-made cases -------------------------------------------------------------------------


def _photo_and_hole() -> tuple[np.ndarray, np.ndarray]:
    photo = load_rgb(SAMPLES_DIR / "chelsea.png")
    hole = np.zeros(photo.shape[:2], np.uint8)
    hole[100:200, 120:260] = 255
    return photo, hole


def _in_hole(photo: np.ndarray, hole: np.ndarray, fill: np.ndarray) -> np.ndarray:
    out = photo.copy()
    out[hole > 0] = fill[hole > 0]
    return out


def test_a_copy_of_the_truth_has_detail_one_swd_zero_periodic_one():
    photo, hole = _photo_and_hole()
    assert detail_ratio(photo, photo, hole) == 1.0
    assert patch_swd(photo, photo, hole) == 0.0
    assert periodic_ratio(photo, photo, hole) == 1.0


def test_a_blurred_copy_has_less_detail_and_a_larger_swd():
    photo, hole = _photo_and_hole()
    blurred = _in_hole(photo, hole, cv2.GaussianBlur(photo, (0, 0), 3))
    assert detail_ratio(blurred, photo, hole) < 0.3
    assert patch_swd(blurred, photo, hole) > 2.0
    assert periodic_ratio(blurred, photo, hole) < 1.0


def test_noise_has_more_detail_than_the_photo():
    photo, hole = _photo_and_hole()
    noise = np.random.default_rng(0).normal(0, 25, photo.shape)
    noisy = _in_hole(photo, hole, np.clip(photo + noise, 0, 255).astype(np.uint8))
    assert detail_ratio(noisy, photo, hole) > 2.0
    assert patch_swd(noisy, photo, hole) > patch_swd(photo, photo, hole)


def test_swd_ranks_a_flat_fill_worse_than_a_texture_copied_from_elsewhere():
    # The photo's own texture shifted by a few pixels is misaligned (high L1) but statistically alike (low SWD);
    # a flat mean colour is the opposite. This is what makes SWD a texture measure and not another L1.
    photo, hole = _photo_and_hole()
    shifted = _in_hole(photo, hole, np.roll(photo, (9, 13), axis=(0, 1)))
    flat = _in_hole(photo, hole, np.broadcast_to(photo[hole > 0].mean(0).astype(np.uint8), photo.shape))
    assert patch_swd(shifted, photo, hole) < patch_swd(flat, photo, hole) / 3
    assert abs(detail_ratio(shifted, photo, hole) - 1) < 0.2 < abs(detail_ratio(flat, photo, hole) - 1)


def test_a_checkerboard_is_caught_by_the_periodic_ratio_and_not_by_l1():
    photo, hole = _photo_and_hole()
    yy, xx = np.mgrid[: photo.shape[0], : photo.shape[1]]
    grid = (((yy + xx) % 2) * 2 - 1)[..., None] * 8  # ±8 grey levels, period 2
    checker = _in_hole(photo, hole, np.clip(photo.astype(int) + grid, 0, 255).astype(np.uint8))
    assert l1(checker, photo, hole) < 8.5
    assert periodic_ratio(checker, photo, hole) > 20
    stripes = _in_hole(photo, hole, np.clip(photo.astype(int) + ((xx % 4) < 2)[..., None] * 16, 0, 255).astype(np.uint8))
    assert periodic_ratio(stripes, photo, hole) > 20  # period 4
    # A 4-px checkerboard of a 128² fill shown at 256² repeats every 8 px, and in colour only (purple/green).
    coarse = ((yy // 4 + xx // 4) % 2)[..., None] * np.array([8, -8, 8])
    upsampled = _in_hole(photo, hole, np.clip(photo.astype(int) + coarse, 0, 255).astype(np.uint8))
    assert periodic_ratio(upsampled, photo, hole) > 5


def test_plausibility_metrics_need_hole_pixels():
    photo, _ = _photo_and_hole()
    empty = np.zeros(photo.shape[:2], np.uint8)
    for metric in (detail_ratio, patch_swd, periodic_ratio):
        with pytest.raises(MaskError):
            metric(photo, photo, empty)
