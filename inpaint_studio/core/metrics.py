"""Image-quality and mask metrics used by `evaluate`, the trainer and the benchmarks.

Conventions (so numbers compare across the project):
- Images are uint8 (RGB H×W×3 or grey H×W); L1 and MSE are in 0–255 grey levels, averaged over every
  pixel and channel; PSNR is in dB with peak 255.
- Identical images: MSE = L1 = 0, PSNR = +inf (returned as float('inf'), never an error), SSIM = 1.
- `mask` (uint8, 255 = hole) restricts a metric to hole pixels (all their channels). A mask with no hole
  pixel raises MaskError: a mean over nothing has no value.
- SSIM is scikit-image's (7×7 uniform window, data_range 255, channels averaged); unmasked it is
  scikit-image's mean SSIM, masked it is the mean of the SSIM map over hole pixels. Images smaller than
  7 px use the largest odd window that fits (min 3).
- `bce` clips probabilities to [1e-7, 1 − 1e-7]; `iou` of two empty masks is 1.0 (they agree exactly).
"""

from __future__ import annotations

import math

import numpy as np
from skimage.metrics import structural_similarity

from inpaint_studio.core.errors import MaskError

PEAK = 255.0
BCE_EPS = 1e-7


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare images of different shapes {a.shape} and {b.shape}")
    if a.ndim not in (2, 3) or a.size == 0:
        raise ValueError(f"expected an H×W or H×W×C image, got shape {a.shape}")
    return a.astype(np.float64), b.astype(np.float64)


def _hole(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.shape != tuple(shape[:2]):
        raise MaskError(f"mask is {mask.shape[1]}×{mask.shape[0]} but the image is {shape[1]}×{shape[0]}")
    hole = mask > 127
    if not hole.any():
        raise MaskError("the mask has no hole pixels, so a hole-only metric has nothing to measure")
    return hole


def _select(diff: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The per-pixel-channel values to average: all of them, or those of hole pixels."""
    if mask is None:
        return diff
    return diff[_hole(mask, diff.shape)]


def mse(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    x, y = _pair(a, b)
    return float(np.mean(_select((x - y) ** 2, mask)))


def l1(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    x, y = _pair(a, b)
    return float(np.mean(_select(np.abs(x - y), mask)))


def _psnr_of(error: float) -> float:
    return math.inf if error == 0 else float(10.0 * math.log10(PEAK * PEAK / error))


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """10·log10(255² / MSE) in dB; +inf for identical images."""
    return _psnr_of(mse(a, b, mask))


def _ssim_map(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
    """scikit-image's mean SSIM and the H×W SSIM map (channels averaged)."""
    x, y = _pair(a, b)
    side = min(x.shape[0], x.shape[1])
    win = min(7, side if side % 2 else side - 1)
    if win < 3:
        raise ValueError(f"SSIM needs images at least 3×3, got {x.shape[1]}×{x.shape[0]}")
    channel_axis = 2 if x.ndim == 3 else None
    mean, full = structural_similarity(
        x, y, win_size=win, data_range=PEAK, channel_axis=channel_axis, full=True
    )
    return float(mean), (full.mean(axis=2) if full.ndim == 3 else full)


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    mean, full = _ssim_map(a, b)
    return mean if mask is None else float(np.mean(full[_hole(mask, full.shape)]))


def bce(probability: np.ndarray, target_mask: np.ndarray) -> float:
    """Mean binary cross-entropy (nats) of a predicted hole probability against a 0/255 target mask."""
    p = np.asarray(probability, dtype=np.float64)
    target = np.asarray(target_mask)
    if p.shape != target.shape:
        raise ValueError(f"probability {p.shape} and target mask {target.shape} differ in shape")
    t = (target > 127).astype(np.float64)
    p = np.clip(p, BCE_EPS, 1.0 - BCE_EPS)
    return float(-np.mean(t * np.log(p) + (1.0 - t) * np.log1p(-p)))


def iou(pred_mask: np.ndarray, target_mask: np.ndarray) -> float:
    """Intersection over union of the holes; 1.0 when both masks are empty."""
    pred, target = np.asarray(pred_mask) > 127, np.asarray(target_mask) > 127
    if pred.shape != target.shape:
        raise ValueError(f"masks differ in shape: {pred.shape} and {target.shape}")
    union = np.count_nonzero(pred | target)
    return 1.0 if union == 0 else float(np.count_nonzero(pred & target)) / union


def image_metrics(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Whole-image and hole-only L1, PSNR and SSIM of a fill against the ground truth.

    Same values as the individual functions; the SSIM map is computed once for both SSIM keys."""
    x, y = _pair(pred, target)
    hole = _hole(mask, x.shape)
    diff = np.abs(x - y)
    mean_ssim, ssim_map = _ssim_map(x, y)

    return {
        "l1": float(diff.mean()),
        "psnr": _psnr_of(float(np.mean(diff**2))),
        "ssim": mean_ssim,
        "l1_hole": float(diff[hole].mean()),
        "psnr_hole": _psnr_of(float(np.mean(diff[hole] ** 2))),
        "ssim_hole": float(np.mean(ssim_map[hole])),
    }
