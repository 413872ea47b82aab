"""GLCIC's published post-processing: a fill with a colour cast is pulled back to the photo's colours at the
hole's border while keeping its own detail, and nothing outside the hole changes."""

from __future__ import annotations

import numpy as np

from inpaint_studio.core.poisson_blend import poisson_blend


def _photo() -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:96, 0:128]
    image = np.stack([60 + xx, 80 + yy // 2, 120 + (xx + yy) // 4], axis=-1).astype(np.uint8)
    mask = np.zeros((96, 128), np.uint8)
    mask[20:70, 30:90] = 255
    mask[0:10, 100:128] = 255  # touching the photo's border
    return image, mask


def test_a_colour_cast_fades_and_only_the_hole_changes():
    image, mask = _photo()
    cast = image.astype(int)
    cast[mask > 0] += 40  # the right gradients, the wrong colour
    cast = cast.clip(0, 255).astype(np.uint8)
    out = poisson_blend(image, mask, cast)
    assert np.array_equal(out[mask == 0], image[mask == 0])
    before = np.abs(cast.astype(int) - image)[mask > 0].mean()
    after = np.abs(out.astype(int) - image)[mask > 0].mean()
    assert before == 40 and after < 3


def test_the_fill_s_own_detail_is_kept():
    image, mask = _photo()
    detail = image.copy()
    detail[40:50, 50:70] = 250  # a bright bar inside the hole, away from its border
    out = poisson_blend(image, mask, detail)
    inside, around = out[40:50, 50:70].astype(int).mean(), out[30:38, 50:70].astype(int).mean()
    assert inside - around > 80


def test_an_empty_mask_returns_the_fill_unchanged():
    image, _ = _photo()
    out = poisson_blend(image, np.zeros(image.shape[:2], np.uint8), image)
    assert np.array_equal(out, image) and out is not image
