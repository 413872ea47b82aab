"""Masks: reading any image as a mask, size checks, grow/shrink/feather/invert, region boxes."""

from __future__ import annotations

import cv2
import imagegen as gen
import numpy as np
import pytest
from PIL import Image

from inpaint_studio.core.errors import MaskError
from inpaint_studio.core.masks import (
    Box,
    check_mask,
    feather_mask,
    grow_mask,
    hole_ratio,
    invert_mask,
    load_mask,
    mask_from_array,
    region_boxes,
    shrink_mask,
)


def _disk(h: int, w: int, cy: int, cx: int, r: float) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w]
    return np.where((ys - cy) ** 2 + (xs - cx) ** 2 <= r * r, 255, 0).astype(np.uint8)


# --- reading ---------------------------------------------------------------------------------------


def test_threshold_is_strictly_greater():
    grey = np.array([[0, 127, 128, 255]], np.uint8)
    assert mask_from_array(grey).tolist() == [[0, 0, 255, 255]]
    assert mask_from_array(grey, threshold=200).tolist() == [[0, 0, 0, 255]]
    assert mask_from_array(grey, threshold=0).tolist() == [[0, 255, 255, 255]]


def test_bool_float_and_uint16_arrays():
    assert mask_from_array(np.array([[True, False]])).tolist() == [[255, 0]]
    assert mask_from_array(np.array([[0.2, 0.9]])).tolist() == [[0, 255]]  # 0–1 floats
    assert mask_from_array(np.array([[1000, 60000]], np.uint16)).tolist() == [[0, 255]]


def test_rgb_uses_brightest_channel():
    rgb = np.zeros((1, 3, 3), np.uint8)
    rgb[0, 0] = (255, 0, 0)  # bright red stroke → hole
    rgb[0, 1] = (60, 60, 60)  # dark grey → known
    rgb[0, 2] = (0, 0, 200)
    assert mask_from_array(rgb).tolist() == [[255, 0, 255]]


def test_rgba_with_constant_colour_uses_alpha():
    # Black strokes on a transparent layer (what a paint program exports): colour is useless, alpha isn't.
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0, 3] = 255
    rgba[1, 1, 3] = 100
    assert mask_from_array(rgba).tolist() == [[255, 0], [0, 0]]


def test_rgba_transparent_pixels_are_never_holes():
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, 0] = (255, 255, 255, 0)  # white but fully transparent
    rgba[0, 1] = (255, 255, 255, 255)
    rgba[0, 2] = (0, 0, 0, 255)
    assert mask_from_array(rgba).tolist() == [[0, 255, 0]]


def test_unusable_array():
    with pytest.raises(MaskError, match="shape"):
        mask_from_array(np.zeros((4, 4, 5), np.uint8))


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA"])
def test_load_mask_from_any_image_file(tmp_path, mode):
    expected = gen.box_mask(20, 30, 5, 6, 12, 25)
    if mode == "L":
        im = Image.fromarray(expected)
    elif mode == "RGB":
        im = Image.fromarray(np.dstack([expected] * 3))
    elif mode == "RGBA":  # white everywhere, alpha carries the mask
        im = Image.fromarray(np.dstack([np.full_like(expected, 255)] * 3 + [expected]))
    else:
        im = Image.fromarray(np.dstack([np.zeros_like(expected), expected]), "LA")
    im.save(tmp_path / "m.png")
    mask = load_mask(tmp_path / "m.png", (20, 30, 3))
    assert mask.dtype == np.uint8 and np.array_equal(mask, expected)


def test_size_mismatch_message_states_width_by_height(tmp_path):
    Image.fromarray(gen.box_mask(200, 300, 0, 0, 10, 10)).save(tmp_path / "m.png")
    with pytest.raises(MaskError, match="mask is 300×200 but the image is 640×480"):
        load_mask(tmp_path / "m.png", (480, 640, 3))


def test_resize_is_nearest_and_binary(tmp_path):
    Image.fromarray(gen.box_mask(10, 10, 0, 0, 5, 5)).save(tmp_path / "m.png")
    mask = load_mask(tmp_path / "m.png", (40, 20), resize=True)
    assert mask.shape == (40, 20)
    assert set(np.unique(mask)) == {0, 255}
    assert np.array_equal(mask, gen.box_mask(40, 20, 0, 0, 20, 10))


def test_unreadable_mask_file(tmp_path):
    (tmp_path / "m.png").write_bytes(b"not a png")
    with pytest.raises(MaskError, match="m.png"):
        load_mask(tmp_path / "m.png")


def test_check_mask():
    image = np.zeros((4, 6, 3), np.uint8)
    check_mask(image, np.zeros((4, 6), np.uint8))
    with pytest.raises(MaskError, match="mask is 4×6 but the image is 6×4"):
        check_mask(image, np.zeros((6, 4), np.uint8))
    with pytest.raises(MaskError, match="uint8"):
        check_mask(image, np.zeros((4, 6), np.float32))
    with pytest.raises(MaskError, match="single-channel"):
        check_mask(image, np.zeros((4, 6, 3), np.uint8))


# --- editing ---------------------------------------------------------------------------------------


def test_grow_single_pixel_is_exactly_a_disk():
    mask = np.zeros((21, 21), np.uint8)
    mask[10, 10] = 255
    assert np.array_equal(grow_mask(mask, 3), _disk(21, 21, 10, 10, 3))
    assert np.array_equal(grow_mask(mask, 0), mask)


def _random_blobs(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(40, 160, 2))
    mask = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(1, 6))):
        mask |= _disk(h, w, int(rng.integers(0, h)), int(rng.integers(0, w)), float(rng.integers(1, 25)))
    return mask


@pytest.mark.parametrize("px", [1, 5, 16, 17, 30])  # both sides of the kernel / distance-transform switch
def test_grow_and_shrink_match_a_full_frame_disk_morphology(px):
    kernel = _disk(2 * px + 1, 2 * px + 1, px, px, px)
    for seed in range(6):
        mask = _random_blobs(seed)
        # The hole is only ever reached through its bounding box; the reference works on the whole frame.
        assert np.array_equal(grow_mask(mask, px), cv2.dilate(mask, kernel)), seed
        assert np.array_equal(shrink_mask(mask, px), cv2.erode(mask, kernel)), seed


def test_grow_large_radius_is_exactly_a_disk():
    mask = np.zeros((61, 61), np.uint8)
    mask[30, 30] = 255
    assert np.array_equal(grow_mask(mask, 25), _disk(61, 61, 30, 30, 25))
    assert shrink_mask(np.full((40, 40), 255, np.uint8), 25).all()  # nothing known: nothing to erode


def test_grow_box_changes_only_the_ring():
    mask = gen.box_mask(30, 30, 10, 10, 20, 20)
    grown = grow_mask(mask, 2)
    assert np.all(grown[mask == 255] == 255)  # nothing lost
    added = (grown == 255) & (mask == 0)
    ys, xs = np.nonzero(added)
    # Every added pixel lies within 2 px (Euclidean) of the box, and the whole 2-px band is added.
    dy = np.maximum(np.maximum(10 - ys, ys - 19), 0)
    dx = np.maximum(np.maximum(10 - xs, xs - 19), 0)
    assert np.all(dy**2 + dx**2 <= 4)
    assert np.count_nonzero(added) == 4 * 10 * 2 + 4 * 1  # four sides + one pixel per round corner


def test_shrink_is_the_inverse_on_a_box_and_keeps_border_holes():
    mask = gen.box_mask(30, 30, 10, 10, 20, 20)
    assert np.array_equal(shrink_mask(mask, 2), gen.box_mask(30, 30, 12, 12, 18, 18))
    assert np.array_equal(shrink_mask(grow_mask(mask, 3), 3), mask)
    edge = gen.box_mask(30, 30, 0, 0, 8, 30)  # hole along the top edge of the image
    assert np.array_equal(shrink_mask(edge, 2), gen.box_mask(30, 30, 0, 0, 6, 30))
    assert not shrink_mask(mask, 5).any()
    assert np.array_equal(grow_mask(mask, -2), shrink_mask(mask, 2))


def test_invert():
    mask = gen.box_mask(5, 5, 1, 1, 3, 3)
    inverted = invert_mask(mask)
    assert np.array_equal(inverted, 255 - mask)
    assert np.array_equal(invert_mask(inverted), mask)


def test_feather_is_soft_outside_and_never_shrinks_the_hole():
    mask = gen.box_mask(40, 40, 15, 15, 25, 25)
    soft = feather_mask(mask, 6)
    assert soft.dtype == np.uint8
    assert np.all(soft[mask == 255] == 255)
    row = soft[20, 25:40].astype(int)  # walking right, away from the hole
    assert 0 < row[0] < 255 and np.all(np.diff(row) <= 0) and row[-1] == 0
    assert np.array_equal(feather_mask(mask, 0), mask)


@pytest.mark.parametrize("px", [2, 9])
def test_feather_matches_a_full_frame_blur(px):
    for seed in range(4):
        mask = _random_blobs(seed)
        sigma = px / 2
        k = 2 * int(np.ceil(3 * sigma)) + 1
        reference = np.maximum(cv2.GaussianBlur(mask, (k, k), sigma, borderType=cv2.BORDER_REFLECT), mask)
        assert np.array_equal(feather_mask(mask, px), reference), seed


def test_region_boxes_8_connected_sorted_and_filtered():
    mask = np.zeros((20, 20), np.uint8)
    mask[2:4, 2:4] = 255
    mask[4, 4] = 255  # touches the first box diagonally: same 8-connected region
    mask[10:15, 12:18] = 255
    mask[1, 15] = 255  # a one-pixel speck
    assert region_boxes(mask) == [Box(15, 1, 16, 2), Box(2, 2, 5, 5), Box(12, 10, 18, 15)]
    assert region_boxes(mask, min_area=2) == [Box(2, 2, 5, 5), Box(12, 10, 18, 15)]
    box = region_boxes(mask)[2]
    assert (box.width, box.height) == (6, 5)
    assert region_boxes(np.zeros((5, 5), np.uint8)) == []


def test_hole_ratio():
    assert hole_ratio(gen.box_mask(10, 10, 0, 0, 5, 4)) == pytest.approx(0.2)
    assert hole_ratio(np.zeros((3, 3), np.uint8)) == 0.0


def test_region_statistic_per_labelled_region():
    from inpaint_studio.core.masks import region_statistic

    labels = np.array([[1, 1, 0, 2], [1, 0, 0, 2], [0, 0, 3, 3]], np.int32)
    values = np.array([[1.0, 3.0, 99.0, -4.0], [8.0, 99.0, 99.0, -2.0], [99.0, 99.0, 5.0, 5.0]])
    assert region_statistic(labels, 5, values, "mean").tolist() == [4.0, -3.0, 5.0, 0.0]  # region 4: empty
    assert region_statistic(labels, 5, values, "max").tolist() == [8.0, -2.0, 5.0, 0.0]
    assert region_statistic(labels, 5, values, 50).tolist() == [3.0, -3.0, 5.0, 0.0]
    assert region_statistic(labels, 5, values, 100).tolist() == [8.0, -2.0, 5.0, 0.0]
    with pytest.raises(ValueError, match="percentile"):
        region_statistic(labels, 5, values, 120)


def test_fill_holes_fills_enclosed_pockets_up_to_a_size():
    """A ring found around a flat blot (a detector sees its edge, not its flat inside) closes over its inside;
    with a size cap, a large enclosed area (two crossing scratches and a third) stays known."""
    from inpaint_studio.core.masks import fill_holes

    mask = np.zeros((120, 160), np.uint8)
    cv2.circle(mask, (30, 30), 6, 255, 2)  # small ring: pocket ~50 px
    cv2.rectangle(mask, (60, 20), (150, 110), 255, 2)  # large frame: pocket ~7 600 px
    cv2.circle(mask, (20, 100), 8, 255, 2)
    mask[:, 0:3] = 0  # ... and a ring cut open by the border encloses nothing
    cv2.circle(mask, (0, 60), 8, 255, 2)
    capped = fill_holes(mask, max_area=400)
    assert capped[30, 30] == 255 and capped[100, 20] == 255 and capped[60, 100] == 0 and capped[60, 1] == 0
    assert fill_holes(mask)[60, 100] == 255
    assert not (mask.astype(bool) & ~capped.astype(bool)).any()  # filling never removes
    assert set(np.unique(capped)) <= {0, 255}
