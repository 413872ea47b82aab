"""GLCIC's published post-processing (Iizuka et al. 2017, section 3.4): the network's fill is blended into the
surrounding colours by a fast marching fill (Telea) of the hole followed by Poisson image blending
(`cv2.seamlessClone`, normal clone): inside the hole the result keeps the fill's gradients, at the hole's
border it meets the photo's real pixels, so a colour cast of the fill fades out. Only hole pixels change."""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_studio.core.masks import is_hole

_PAD = 4  # seamlessClone ignores the outermost pixel of its mask: keep the hole away from the border
_RING = 2  # the boundary condition sits on known pixels just outside the hole


def poisson_blend(image: np.ndarray, mask: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """`filled` (uint8 RGB, a fill of `image`'s hole) with its hole pixels Poisson-blended into `image`."""
    hole = is_hole(mask)
    if not hole.any():
        return filled.copy()
    hole8 = hole.astype(np.uint8) * 255
    base = cv2.inpaint(np.ascontiguousarray(image), hole8, 3, cv2.INPAINT_TELEA)
    region = cv2.dilate(hole8, np.ones((2 * _RING + 1, 2 * _RING + 1), np.uint8))

    def pad(a: np.ndarray) -> np.ndarray:
        return cv2.copyMakeBorder(a, _PAD, _PAD, _PAD, _PAD, cv2.BORDER_REFLECT)

    clone_mask = cv2.copyMakeBorder(region, _PAD, _PAD, _PAD, _PAD, cv2.BORDER_CONSTANT, value=0)
    x, y, w, h = cv2.boundingRect(clone_mask)
    # seamlessClone centres the mask's bounding box on `centre`: this centre puts it back where it was.
    blended = cv2.seamlessClone(pad(filled), pad(base), clone_mask, (x + w // 2, y + h // 2), cv2.NORMAL_CLONE)
    out = image.copy()
    out[hole] = blended[_PAD:-_PAD, _PAD:-_PAD][hole]
    return out
