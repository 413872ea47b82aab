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
from inpaint_studio.core.masks import is_hole

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
    hole = is_hole(mask)
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
    t = is_hole(target).astype(np.float64)
    p = np.clip(p, BCE_EPS, 1.0 - BCE_EPS)
    return float(-np.mean(t * np.log(p) + (1.0 - t) * np.log1p(-p)))


def iou(pred_mask: np.ndarray, target_mask: np.ndarray) -> float:
    """Intersection over union of the holes; 1.0 when both masks are empty."""
    pred, target = is_hole(pred_mask), is_hole(target_mask)
    if pred.shape != target.shape:
        raise ValueError(f"masks differ in shape: {pred.shape} and {target.shape}")
    union = np.count_nonzero(pred | target)
    return 1.0 if union == 0 else float(np.count_nonzero(pred & target)) / union


def image_metrics(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Whole-image and hole-only L1, PSNR and SSIM of a fill against the ground truth, and the hole's
    plausibility: `detail` (detail_ratio) and `swd` (patch_swd).

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
        "detail": detail_ratio(x, y, mask),
        "swd": patch_swd(x, y, mask),
    }


# --- plausibility: does the fill look like the photo, not only how close it is on average ------------------
# L1 / PSNR reward the mean of all plausible fills, i.e. blur. These two measure what a viewer sees instead:
# whether the hole carries the photo's level of detail, and whether its small patches look like the photo's.

DETAIL_EPS = 0.5  # grey levels of mean |Laplacian|: keeps the ratio finite on a flat truth (flat fill → 1)
SWD_PATCH = 7  # side of the patches compared by `patch_swd`
SWD_DIRECTIONS = 64  # random projections (fixed seed: every run compares the same directions)
SWD_MAX_PATCHES = 4096  # hole pixels sampled as patch centres (fixed seed), enough for a stable mean


def _luma(image: np.ndarray) -> np.ndarray:
    x = np.asarray(image, dtype=np.float64)
    if x.ndim == 2:
        return x
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


def _laplacian_abs(grey: np.ndarray) -> np.ndarray:
    """|4-neighbour Laplacian| of a grey image, edges replicated (no cv2/scipy needed here)."""
    p = np.pad(grey, 1, mode="edge")
    lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4.0 * p[1:-1, 1:-1]
    return np.abs(lap)


def detail_energy(image: np.ndarray, mask: np.ndarray) -> float:
    """Mean |Laplacian| of the luma over hole pixels, in grey levels."""
    grey = _luma(image)
    return float(_laplacian_abs(grey)[_hole(mask, grey.shape)].mean())


def detail_ratio(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Detail of the fill relative to the truth in the hole:
    (mean |Laplacian(luma(pred))| + ε) / (mean |Laplacian(luma(target))| + ε) over hole pixels, ε = 0.5.

    1 = as detailed as the photo; < 1 blur (diffusion fills score ~0.2); > 1 noisier than the photo. The Laplacian
    is taken on the whole composited image, so a seam at the hole's border counts as (false) detail."""
    x, y = _pair(pred, target)
    return (detail_energy(x, mask) + DETAIL_EPS) / (detail_energy(y, mask) + DETAIL_EPS)


def _patches(image: np.ndarray, centres: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """SWD_PATCH² × C values around each centre (edges reflected), as an N × D float64 array."""
    r = SWD_PATCH // 2
    x = image if image.ndim == 3 else image[..., None]
    mode = "reflect" if min(x.shape[:2]) > r else "edge"
    padded = np.pad(x, ((r, r), (r, r), (0, 0)), mode=mode)
    ys, xs = centres
    dy, dx = np.mgrid[0:SWD_PATCH, 0:SWD_PATCH]
    rows = ys[:, None, None] + dy[None]
    cols = xs[:, None, None] + dx[None]
    return padded[rows, cols].reshape(len(ys), -1)


def patch_swd(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Sliced Wasserstein distance (grey levels) between the 7×7 patches of the fill and of the truth centred on
    hole pixels: texture statistics, no alignment needed. 0 for a copy of the truth; lower is better.

    Up to 4 096 hole pixels (the same ones for both, fixed seed) are patch centres; each patch (all channels,
    0–255) is projected on 64 fixed random unit directions, and the W1 distance of the two sorted projections
    (equal counts) is averaged over directions."""
    x, y = _pair(pred, target)
    hole = _hole(mask, x.shape)
    ys, xs = np.nonzero(hole)
    rng = np.random.default_rng(0)
    if len(ys) > SWD_MAX_PATCHES:
        keep = np.sort(rng.choice(len(ys), SWD_MAX_PATCHES, replace=False))
        ys, xs = ys[keep], xs[keep]
    a, b = _patches(x, (ys, xs)), _patches(y, (ys, xs))
    directions = np.random.default_rng(1).normal(size=(a.shape[1], SWD_DIRECTIONS))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    pa, pb = np.sort(a @ directions, axis=0), np.sort(b @ directions, axis=0)
    return float(np.mean(np.abs(pa - pb)))


PERIODS = (2, 3, 4, 5, 6, 7, 8)  # 2–4 px at a network's working size, doubled when its fill is upsampled


def periodic_energy(image: np.ndarray, mask: np.ndarray, periods: tuple[int, ...] = PERIODS) -> float:
    """Energy (grey levels²) of patterns repeating every 2–8 px in the hole: the checkerboards that transposed
    convolutions leave (2–4 px at the network's working size, 4–8 px once a 128² fill is upsampled) and that L1
    hardly sees.

    Per colour channel, the high-passed image (minus its 9×9 mean) is averaged separately over the p × p pixel
    phases (y mod p, x mod p) of the hole; the variance of those p² means is the energy of whatever repeats with
    period p (a natural photo's phases average out to nearly the same value). Summed over channels and periods;
    a period whose phases the hole cannot all hold is skipped."""
    x = np.asarray(image, dtype=np.float64)
    x = x if x.ndim == 3 else x[..., None]
    hole = _hole(mask, x.shape)
    ys, xs = np.nonzero(hole)
    total = 0.0
    for c in range(x.shape[2]):
        values = (x[..., c] - _box(x[..., c], 9))[ys, xs]
        for p in periods:
            phase = (ys % p) * p + (xs % p)
            counts = np.bincount(phase, minlength=p * p)
            if (counts == 0).any():
                continue
            means = np.bincount(phase, weights=values, minlength=p * p) / counts
            total += float(np.var(means))
    return total


PERIODIC_EPS = 0.25  # grey levels²: a flat reference does not turn a faint pattern into a large ratio


def periodic_ratio(pred: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> float:
    """(periodic_energy(fill) + ε) / (periodic_energy(reference) + ε) in the same hole, ε = 0.25 grey levels².
    ~1 or below for a photo-like or smooth fill; a visible checkerboard scores several times the photo's."""
    x, y = _pair(pred, reference)
    return (periodic_energy(x, mask) + PERIODIC_EPS) / (periodic_energy(y, mask) + PERIODIC_EPS)


def _box(grey: np.ndarray, k: int) -> np.ndarray:
    """Mean over a k×k window (edges replicated), with an integral image."""
    before, after = (k - 1) // 2, k // 2
    p = np.pad(grey, ((before, after), (before, after)), mode="edge")
    s = np.pad(p, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    h, w = grey.shape
    total = s[k : k + h, k : k + w] - s[0:h, k : k + w] - s[k : k + h, 0:w] + s[0:h, 0:w]
    return total / (k * k)


# --- edge adherence: does the fill follow the edges a person drew through the hole -----------------------------

EDGE_TOLERANCE = 2  # px: a fill edge this close to a drawn one counts as following it (Canny's localisation)


def edge_adherence(pred: np.ndarray, edges: np.ndarray, mask: np.ndarray, tolerance: int = EDGE_TOLERANCE) -> dict[str, float]:
    """Canny edges of the fill (sigma 2, as EdgeConnect's) inside the hole against the given edges (255 = edge)
    inside the hole: {"edge_precision": fill edges within `tolerance` px of a given edge / fill edges,
    "edge_recall": given edges within `tolerance` px of a fill edge / given edges}. A ratio over no edges is 1.0
    (no fill edge: nothing false; no given edge: nothing missed)."""
    from inpaint_studio.core.edges import canny_edges

    return edge_map_agreement(canny_edges(np.asarray(pred, dtype=np.uint8)), edges, mask, tolerance)


def edge_map_agreement(found: np.ndarray, edges: np.ndarray, mask: np.ndarray,
                       tolerance: int = EDGE_TOLERANCE) -> dict[str, float]:
    """An edge map (255 = edge; e.g. an edge network's prediction) against the given edges, both inside the hole:
    precision and recall within `tolerance` px, as `edge_adherence`."""
    from scipy.ndimage import binary_dilation

    hole = _hole(mask, np.asarray(found).shape)
    found = (np.asarray(found) > 127) & hole
    given = (np.asarray(edges) > 127) & hole
    disk = np.hypot(*np.mgrid[-tolerance : tolerance + 1, -tolerance : tolerance + 1]) <= tolerance + 1e-9

    def share(a: np.ndarray, b: np.ndarray) -> float:
        if not a.any():
            return 1.0
        return float(np.count_nonzero(a & binary_dilation(b, disk))) / np.count_nonzero(a)

    return {"edge_precision": share(found, given), "edge_recall": share(given, found)}
