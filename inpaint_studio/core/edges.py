"""Edge maps as EdgeConnect computes them: Canny on the grey luminance, only where the image is known."""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2gray
from skimage.feature import canny

from inpaint_studio.core.errors import MaskError


def canny_edges(image: np.ndarray, mask: np.ndarray | None = None, sigma: float = 2.0) -> np.ndarray:
    """uint8 H×W edge map (255 = edge) of an RGB (or grey) uint8 image.

    Luminance by scikit-image's rgb2gray (ITU-R 709 weights) and `skimage.feature.canny` with its
    default hysteresis thresholds, as EdgeConnect does. With a hole `mask` (255 = hole) Canny runs on the
    known region only (`mask=(hole == 0)`, so the hole's border yields no false edges) and the hole is
    zeroed: edges inside it are what the edge model must predict.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 3:
        grey = rgb2gray(image)
    elif image.ndim == 2:
        grey = image.astype(np.float64) / 255.0
    else:
        raise ValueError(f"expected an RGB H×W×3 or grey H×W image, got shape {image.shape}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    known = None
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != grey.shape:
            raise MaskError(
                f"mask is {mask.shape[1]}×{mask.shape[0]} but the image is {grey.shape[1]}×{grey.shape[0]}"
            )
        known = mask <= 127
    edges = canny(grey, sigma=sigma, mask=known)
    if known is not None:
        edges &= known
    return np.where(edges, np.uint8(255), np.uint8(0))
