"""Canny edge maps as EdgeConnect computes them."""

from __future__ import annotations

import imagegen as gen
import numpy as np
import pytest
from skimage.color import rgb2gray
from skimage.feature import canny

from inpaint_studio.core.edges import canny_edges
from inpaint_studio.core.errors import MaskError


def _step(h: int = 48, w: int = 64, x: int = 32) -> np.ndarray:
    img = np.full((h, w, 3), 40, np.uint8)
    img[:, x:] = 200
    return img


def test_step_gives_one_vertical_edge():
    edges = canny_edges(_step())
    assert edges.shape == (48, 64) and edges.dtype == np.uint8
    assert set(np.unique(edges)) == {0, 255}
    cols = np.nonzero(edges.any(axis=0))[0]
    assert set(cols) <= {31, 32}  # at the step only
    assert edges[5:-5, 31:33].any(axis=1).all()  # and all along it


def test_flat_image_has_no_edges():
    assert not canny_edges(np.full((20, 20, 3), 90, np.uint8)).any()


def test_same_as_edgeconnect_recipe_without_mask():
    img = gen.textured(64, 64, seed=4)
    expected = canny(rgb2gray(img), sigma=2.0)
    assert np.array_equal(canny_edges(img) == 255, expected)


def test_no_edges_in_the_hole_nor_along_its_border():
    # The hole was painted white (as a user's brush shows it): its outline is a strong edge in the
    # pixels, but it is not an edge of the photo and must not appear.
    img = np.full((48, 48, 3), 100, np.uint8)
    hole = gen.box_mask(48, 48, 16, 16, 32, 32)
    img[hole == 255] = 255
    assert canny_edges(img).any()  # without the mask the fake outline is found
    assert not canny_edges(img, hole).any()


def test_edges_far_from_the_hole_are_unchanged():
    img = _step()
    hole = gen.box_mask(48, 64, 20, 44, 30, 56)  # right of the step, away from it
    with_mask = canny_edges(img, hole)
    assert not with_mask[hole == 255].any()
    assert np.array_equal(with_mask[:, :40], canny_edges(img)[:, :40])


def test_grey_input_and_sigma():
    grey = _step()[:, :, 0]
    edges = canny_edges(grey)
    assert edges[5:-5, 31:33].any(axis=1).all() and not np.delete(edges, [31, 32], axis=1).any()
    noisy = gen.textured(64, 64, seed=5)
    assert np.count_nonzero(canny_edges(noisy, sigma=1.0)) > np.count_nonzero(canny_edges(noisy, sigma=3.0))
    with pytest.raises(ValueError, match="sigma"):
        canny_edges(noisy, sigma=0)


def test_mask_size_mismatch():
    with pytest.raises(MaskError, match="mask is 10×10 but the image is 64×48"):
        canny_edges(_step(), np.zeros((10, 10), np.uint8))
