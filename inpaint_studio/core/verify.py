"""Second look at blind damage: drop found regions whose repair would likely make the photo worse.

A damage detector (the mask network, the classical one) also fires on the photo's own structure — a lit edge of
a pilaster, a roof line, a bright branch — and a fill of such a region replaces real detail with a guess. On a
photo that is clean or only stained, those false finds are all Restore does, and it makes the photo worse.

Each region of the hole is judged by what the detector said and by what filling it would do (`FEATURES`):
how large and thick it is, how sure the detector was, and, against a quick Telea fill of the hole, how much the
fill changes the pixels (damage differs from what surrounds it; a false find mostly continues it) and whether
the fill still runs through an edge there (a region lying along a real edge). A logistic model on these
(`Verifier`, its weights in the checkpoint's JSON, fitted by `python -m trainer verifier`) gives the chance
that filling the region raises the error; regions above the threshold are left as they are.

Pure numpy/OpenCV: the engine calls it with the fill it computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from inpaint_studio.core.masks import region_statistic

FEATURES = (
    "log_area",  # log(1 + pixels)
    "log_thickness",  # log(1 + the largest distance from the region's edge)
    "confidence",  # the detector's mean probability over the region
    "edge_share",  # share of the region on a Canny edge of the fill (±1 px): it lies along a real edge
    "log_fill_gradient",  # log(1 + median gradient magnitude of the fill's grey level in the region)
    "log_change",  # log(1 + median |input − fill| summed over RGB): how much the repair changes
    "thin",  # 1 when no pixel lies more than THIN px from the region's edge (scratches, strokes, specks)
)
THIN = 3.5  # px
_CANNY = (50, 150)


@dataclass(frozen=True)
class RegionFeatures:
    labels: np.ndarray  # int32 H×W, 0 = outside the hole, k = region k
    values: np.ndarray  # float64 (regions × len(FEATURES)), row k − 1 for region k


def region_features(image: np.ndarray, hole: np.ndarray, probability: np.ndarray, fill: np.ndarray) -> RegionFeatures:
    """`FEATURES` of each 8-connected region of `hole` (uint8, > 0 = hole) in `image` (RGB uint8), with the
    detector's `probability` (float H×W) and a `fill` of the hole (RGB uint8)."""
    binary = (hole > 0).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:
        return RegionFeatures(labels, np.zeros((0, len(FEATURES))))
    def per_region(values: np.ndarray, reduce: str) -> np.ndarray:
        return region_statistic(labels, count, values, 50 if reduce == "median" else reduce)

    area = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    thickness = per_region(cv2.distanceTransform(binary, cv2.DIST_L2, 3), "max")
    grey = cv2.cvtColor(fill, cv2.COLOR_RGB2GRAY)
    edges = cv2.dilate(cv2.Canny(grey, *_CANNY), np.ones((3, 3), np.uint8)) > 0
    g = grey.astype(np.float32)
    gradient = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
    change = np.abs(image.astype(np.float32) - fill.astype(np.float32)).sum(-1)
    values = np.stack([
        np.log1p(area), np.log1p(thickness), per_region(probability.astype(np.float64), "mean"),
        per_region(edges.astype(np.float64), "mean"), np.log1p(per_region(gradient, "median")),
        np.log1p(per_region(change, "median")), (thickness <= THIN).astype(np.float64),
    ], axis=1)
    return RegionFeatures(labels, values)


@dataclass(frozen=True)
class Verifier:
    """A logistic model of 'filling this region makes the photo worse' over standardised `FEATURES`."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]  # one per feature
    bias: float
    threshold: float  # regions whose chance of harm is above it are left as they are

    def __post_init__(self) -> None:
        n = len(FEATURES)
        if not (len(self.mean) == len(self.scale) == len(self.weights) == n):
            raise ValueError(f"a verifier needs {n} means, scales and weights (one per feature)")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {self.threshold}")

    def harm(self, values: np.ndarray) -> np.ndarray:
        """Chance of harm per row of `values` (regions × features)."""
        z = (values - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.bias)))

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(FEATURES), "mean": list(self.mean), "scale": list(self.scale),
                "weights": list(self.weights), "bias": self.bias, "threshold": self.threshold}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verifier:
        if list(data.get("features") or []) != list(FEATURES):
            raise ValueError("the verifier was fitted on other features: fit it again (`python -m trainer verifier`)")
        return cls(tuple(map(float, data["mean"])), tuple(map(float, data["scale"])),
                   tuple(map(float, data["weights"])), float(data["bias"]), float(data["threshold"]))


def fit_logistic(values: np.ndarray, harmful: np.ndarray, weight: np.ndarray, *, l2: float = 1e-2,
                 steps: int = 3000, rate: float = 0.5) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...], float]:
    """Weighted logistic regression by gradient descent (a few thousand rows: no library needed); returns
    (mean, scale, weights, bias) for `Verifier`."""
    mean, scale = values.mean(0), values.std(0) + 1e-6
    z = np.c_[(values - mean) / scale, np.ones(len(values))]
    w = np.asarray(weight, np.float64) / float(np.sum(weight))
    y = np.asarray(harmful, np.float64)
    b = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-z @ b))
        b -= rate * (z.T @ ((p - y) * w) + l2 * np.r_[b[:-1], 0.0])
    return tuple(mean.tolist()), tuple(scale.tolist()), tuple(b[:-1].tolist()), float(b[-1])


def kept_regions(features: RegionFeatures, verifier: Verifier) -> np.ndarray:
    """uint8 mask (255) of the regions the verifier lets through."""
    if not len(features.values):
        return np.zeros(features.labels.shape, np.uint8)
    keep = np.r_[False, verifier.harm(features.values) <= verifier.threshold]
    return np.where(keep[features.labels], np.uint8(255), np.uint8(0))


def verify_hole(image: np.ndarray, hole: np.ndarray, probability: np.ndarray, fill: np.ndarray,
                verifier: Verifier) -> np.ndarray:
    """`hole` without the regions whose repair would likely make the photo worse (uint8 255 = fill)."""
    return kept_regions(region_features(image, hole, probability, fill), verifier)

