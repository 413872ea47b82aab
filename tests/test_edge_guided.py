"""Sketched edges split the hole, each side filled from its own side of the photo; edge adherence measured."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.core.edge_regions import sources_for, split_by_edges
from inpaint_studio.core.edges import canny_edges
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.metrics import edge_adherence
from inpaint_studio.core.paths import SAMPLES_DIR
from inpaint_studio.engine.base import create_method


def _box(shape: tuple[int, int], y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    mask[y0:y1, x0:x1] = 255
    return mask


def test_a_line_through_the_hole_makes_two_regions_and_two_sides():
    mask = _box((60, 90), 20, 20, 40, 70)
    edges = np.zeros_like(mask)
    edges[:, 45] = 255  # drawn top to bottom, also outside the hole: only the part inside counts
    split = split_by_edges(mask, edges)
    assert split.count == 2
    assert split.edge_pixels.sum() == 20 and split.edge_pixels[20:40, 45].all()
    left, right = split.labels[30, 30], split.labels[30, 60]
    assert {left, right} == {1, 2}
    # Every known pixel belongs to the side of the nearer region: the line is continued outward.
    assert (split.side[:, :44] == left).all() and (split.side[:, 47:] == right).all()
    excluded = sources_for(split, left, mask)
    assert excluded[:, 47:].all()  # the right side is neither filled nor copied from
    assert not excluded[:, :44][mask[:, :44] == 0].any()  # the left side's known pixels are the sources


def test_a_diagonal_one_pixel_line_is_a_real_barrier():
    mask = _box((50, 50), 5, 5, 45, 45)
    edges = np.zeros_like(mask)
    for i in range(50):
        edges[i, i] = 255
    assert split_by_edges(mask, edges).count == 2


def test_no_edges_one_region():
    mask = _box((40, 40), 10, 10, 30, 30)
    split = split_by_edges(mask, None)
    assert split.count == 1 and not split.edge_pixels.any()


def _two_colour_photo() -> np.ndarray:
    """Red texture on the left, blue texture on the right, meeting at x = 60."""
    rng = np.random.default_rng(0)
    image = np.zeros((80, 120, 3), np.uint8)
    image[:, :60] = (200, 40, 40)
    image[:, 60:] = (40, 40, 200)
    return np.clip(image + rng.integers(-20, 21, image.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("fill", ["patchmatch", "navier_stokes"])
def test_each_side_of_a_drawn_line_is_filled_from_its_own_side(fill):
    image = _two_colour_photo()
    mask = _box(image.shape[:2], 20, 20, 60, 110)  # mostly on the blue side
    edges = np.zeros(image.shape[:2], np.uint8)
    edges[:, 60] = 255
    out = create_method("edge_guided", fill=fill).inpaint(image, mask, edges)
    assert np.array_equal(out[mask == 0], image[mask == 0])
    left, right = out[20:60, 20:58].astype(int), out[20:60, 62:110].astype(int)
    assert (left[..., 0] > left[..., 2] + 60).mean() > 0.95  # red stays red
    assert (right[..., 2] > right[..., 0] + 60).mean() > 0.95  # blue stays blue


def test_without_edges_it_is_a_plain_fill_and_small_images_work():
    photo = load_rgb(SAMPLES_DIR / "chelsea.png")
    mask = _box(photo.shape[:2], 100, 120, 160, 200)
    out = create_method("edge_guided").inpaint(photo, mask, None)
    assert np.array_equal(out[mask == 0], photo[mask == 0]) and not np.array_equal(out, photo)
    tiny = np.full((3, 5, 3), 50, np.uint8)
    tiny_mask = _box((3, 5), 1, 1, 2, 4)
    line = _box((3, 5), 0, 2, 3, 3)
    assert create_method("edge_guided").inpaint(tiny, tiny_mask, line).shape == tiny.shape


def test_edge_adherence_by_hand():
    photo = load_rgb(SAMPLES_DIR / "chelsea.png")
    mask = _box(photo.shape[:2], 80, 100, 200, 300)
    given = canny_edges(photo)
    assert edge_adherence(photo, given, mask) == {"edge_precision": 1.0, "edge_recall": 1.0}
    flat = photo.copy()
    flat[mask > 0] = photo[mask > 0].mean(0).astype(np.uint8)
    assert edge_adherence(flat, given, mask)["edge_recall"] < 0.1  # only the hole's own border is found
    none = np.zeros_like(given)
    assert edge_adherence(flat, none, mask)["edge_recall"] == 1.0  # nothing to follow: nothing missed


def test_an_open_edge_still_separates_the_two_sides():
    """A line drawn from the hole's top border that stops halfway is continued along its direction for the split."""
    mask = _box((80, 120), 20, 20, 60, 110)
    edges = np.zeros_like(mask)
    edges[:36, 60] = 255  # from above the hole, 16 px into it (the hole is 40 px tall)
    assert split_by_edges(mask, edges, extend=0).count == 1  # the two sides meet below the line's end
    split = split_by_edges(mask, edges, extend=64)
    assert split.count == 2
    left, right = split.labels[55, 40], split.labels[55, 80]  # below the drawn end
    assert left != right and 0 not in (left, right)
    assert split.edge_pixels[36:60, 60].all()  # continued straight down to the hole's border
    assert not split.edge_pixels[20:60, :59].any() and not split.edge_pixels[20:60, 62:].any()


def test_an_open_diagonal_edge_is_continued_along_its_slope():
    mask = _box((80, 80), 10, 10, 70, 70)
    edges = np.zeros_like(mask)
    for i in range(30):
        edges[i, i] = 255  # from the top-left corner, ending at (29, 29) inside the hole
    split = split_by_edges(mask, edges, extend=64)
    assert split.count == 2
    assert split.edge_pixels[50, 50] and split.edge_pixels[69, 69]  # on the line's continuation


def _outlined_two_colour_photo() -> np.ndarray:
    """Orange left of a slanted boundary, blue right of it, and a thin dark outline along it (as an object's
    silhouette often has): the photo's Canny finds the outline, which two plain side fills do not reproduce."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:96, :128]
    image = np.where((xx < 40 + yy * 0.5)[..., None], np.uint8([170, 120, 60]), np.uint8([90, 140, 190]))
    image[np.abs(xx - (40 + yy * 0.5)) < 1.0] = (60, 50, 40)
    return np.clip(image + rng.integers(-6, 7, image.shape), 0, 255).astype(np.uint8)


def test_the_drawn_boundary_shows_in_the_fill():
    """Given the photo's own edges, the fill's Canny finds the boundary again: the band along the drawn line is
    copied from the photo's own outline (recall 0.29 without it: two side fills meet, the outline is lost)."""
    image = _outlined_two_colour_photo()
    mask = _box(image.shape[:2], 24, 30, 72, 110)
    edges = canny_edges(image)
    plain = create_method("edge_guided", profile=0).inpaint(image, mask, edges)
    guided = create_method("edge_guided").inpaint(image, mask, edges)
    before, after = edge_adherence(plain, edges, mask), edge_adherence(guided, edges, mask)
    assert before["edge_recall"] < 0.5
    assert after["edge_recall"] > 0.9 and after["edge_precision"] > 0.9
    assert np.array_equal(guided[mask == 0], image[mask == 0])
    # Drawn inside the hole only, as in the app: the cross-section still comes from the photo's own outline.
    drawn = np.where(mask > 0, edges, 0).astype(np.uint8)
    sketched = create_method("edge_guided").inpaint(image, mask, drawn)
    assert edge_adherence(sketched, edges, mask)["edge_recall"] > 0.9


def test_a_hole_that_is_all_line_is_filled_not_kept():
    image = _outlined_two_colour_photo()
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[40, 20:100] = 255  # one row, a white scratch in the photo
    image[40, 20:100] = 255
    edges = np.zeros_like(mask)
    edges[40, :] = 255  # drawn along the very same row
    out = create_method("edge_guided").inpaint(image, mask, edges)
    assert np.array_equal(out[mask == 0], image[mask == 0])
    assert split_by_edges(mask, edges, extend=64).count == 0
    around = (image[39, 20:100].astype(int) + image[41, 20:100]) / 2
    assert np.abs(out[40, 20:100] - around).mean() < 10  # filled from the rows around it
