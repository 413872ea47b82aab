"""High-resolution strategy: only hole pixels change, crops merge until disjoint, AUTO follows its rule."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inpaint_studio.core.errors import Cancelled
from inpaint_studio.core.hd import (
    HDConfig,
    HDStrategy,
    apply_hd_strategy,
    choose_strategy,
    crop_to,
    pad_to_multiple,
    plan_crops,
)

RED = np.array([255, 0, 0], np.uint8)


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _paint_red(calls: list | None = None):
    def fill(image, mask, edges, progress=None):
        if calls is not None:
            calls.append((image.shape, mask.copy(), None if edges is None else edges.copy()))
        out = np.empty_like(image)
        out[:] = RED
        return out

    return fill


def _mask(h: int, w: int, *rects: tuple[int, int, int, int]) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    for x0, y0, x1, y1 in rects:
        m[y0:y1, x0:x1] = 255
    return m


@pytest.mark.parametrize("strategy", list(HDStrategy))
@pytest.mark.parametrize("shape", [(200, 300), (700, 1500)])
def test_only_hole_pixels_change_and_all_of_them_do(strategy, shape):
    h, w = shape
    image = _photo(h, w)
    before = image.copy()
    mask = _mask(h, w, (10, 20, 60, 40), (w - 90, h - 70, w - 40, h - 10))
    mask[h // 2, :] = 255  # a 1-px line: thin holes must survive any downscale
    config = HDConfig(strategy=strategy, resize_limit=512, crop_margin=32, crop_trigger=512)
    out = apply_hd_strategy(image, mask, _paint_red(), config=config)
    np.testing.assert_array_equal(image, before)  # the caller's image is untouched
    hole = mask > 0
    np.testing.assert_array_equal(out[~hole], image[~hole])
    if strategy is HDStrategy.ORIGINAL or max(shape) <= 512:
        assert (out[hole] == RED).all()
    else:
        # A fill at a shrunk size is completed there (known pixels kept) before it is enlarged: the hole's
        # inside is the fill, its edge a blend of fill and photo; the thin line changed too.
        inside = cv2.erode(mask, np.ones((9, 9), np.uint8)) > 0
        assert (out[inside] == RED).all()
        assert (out[h // 2] != image[h // 2]).any(-1).mean() > 0.9


def test_fill_of_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match="fill returned"):
        apply_hd_strategy(_photo(50, 60), _mask(50, 60, (5, 5, 9, 9)), lambda i, m, e, p: i[:10])


# --- crop planning ------------------------------------------------------------------------------------


def test_holes_whose_margins_overlap_become_one_crop():
    mask = _mask(400, 400, (100, 100, 110, 110), (140, 100, 150, 110))  # 30 px apart, margin 20
    boxes = plan_crops(mask, 20)
    assert [tuple(b) for b in boxes] == [(80, 80, 170, 130)]


def test_far_apart_holes_stay_separate():
    mask = _mask(400, 400, (10, 10, 20, 20), (300, 300, 320, 310))
    boxes = plan_crops(mask, 20)
    assert [tuple(b) for b in boxes] == [(0, 0, 40, 40), (280, 280, 340, 330)]


def test_a_chain_of_three_merges_into_one():
    # A overlaps B and B overlaps C, but A and C are far apart.
    mask = _mask(600, 600, (50, 50, 60, 60), (100, 50, 110, 60), (150, 50, 160, 60))
    boxes = plan_crops(mask, 25)
    assert [tuple(b) for b in boxes] == [(25, 25, 185, 85)]


def test_a_merged_box_that_grows_onto_another_crop_absorbs_it():
    # A and B overlap diagonally; their bounding box reaches D, which neither touched on its own.
    mask = _mask(400, 400, (100, 100, 110, 110), (170, 170, 180, 180), (200, 60, 210, 70))
    boxes = plan_crops(mask, 40)
    assert [tuple(b) for b in boxes] == [(60, 20, 250, 220)]


def test_touching_crops_merge_and_crops_clip_to_the_image():
    mask = _mask(100, 100, (0, 0, 5, 5), (25, 0, 30, 5))  # margin 10: x1 = 15 and x0 = 15 touch
    assert [tuple(b) for b in plan_crops(mask, 10)] == [(0, 0, 40, 15)]


def test_crop_strategy_fills_each_crop_with_its_own_holes_and_edges():
    h, w = 800, 1200
    image = _photo(h, w)
    mask = _mask(h, w, (100, 100, 140, 130), (900, 600, 950, 640))
    edges = np.zeros((h, w), np.uint8)
    edges[::7, :] = 255
    calls: list = []
    config = HDConfig(strategy=HDStrategy.CROP, crop_margin=50)
    apply_hd_strategy(image, mask, _paint_red(calls), edges=edges, config=config)
    boxes = plan_crops(mask, 50)
    assert len(calls) == 2
    for (shape, m, e), b in zip(calls, boxes, strict=True):
        sl = (slice(b.y0, b.y1), slice(b.x0, b.x1))
        assert shape == (b.y1 - b.y0, b.x1 - b.x0, 3)
        np.testing.assert_array_equal(m, mask[sl])
        np.testing.assert_array_equal(e, edges[sl])


def test_a_crop_above_the_limit_is_resized_and_only_its_holes_pasted():
    h, w = 1000, 1000
    image = _photo(h, w)
    mask = _mask(h, w, (100, 100, 900, 900))
    calls: list = []
    config = HDConfig(strategy=HDStrategy.CROP, resize_limit=256, crop_margin=20)
    out = apply_hd_strategy(image, mask, _paint_red(calls), config=config)
    assert max(calls[0][0][:2]) == 256
    np.testing.assert_array_equal(out[mask == 0], image[mask == 0])


# --- resize -------------------------------------------------------------------------------------------


def test_resize_fills_at_the_limit_and_pastes_back_only_hole_pixels():
    h, w = 900, 1600
    image = _photo(h, w)
    mask = _mask(h, w, (400, 300, 480, 360))
    calls: list = []

    def grey_fill(img, m, e, p=None):
        calls.append(img.shape)
        return np.full_like(img, 128)

    config = HDConfig(strategy=HDStrategy.RESIZE, resize_limit=400)
    out = apply_hd_strategy(image, mask, grey_fill, config=config)
    assert calls == [(225, 400, 3)]
    changed = (out != image).any(-1)
    assert not changed[mask == 0].any()
    assert (out[cv2.erode(mask, np.ones((25, 25), np.uint8)) > 0] == 128).all()  # 4× enlarged: 2 small px of blend


# --- auto ---------------------------------------------------------------------------------------------


def test_auto_keeps_small_images_original():
    mask = _mask(800, 1000, (0, 0, 1000, 800))
    assert choose_strategy(mask, HDConfig(resize_limit=1024)) is HDStrategy.ORIGINAL


def test_auto_crops_a_large_image_with_a_small_hole():
    mask = _mask(3000, 4000, (2000, 1000, 2100, 1100))
    assert choose_strategy(mask, HDConfig()) is HDStrategy.CROP


def test_auto_resizes_when_crops_would_cover_most_of_the_image():
    mask = _mask(3000, 4000, (100, 100, 3900, 2900))
    assert choose_strategy(mask, HDConfig()) is HDStrategy.RESIZE


def test_auto_switches_to_resize_at_the_crop_coverage_limit():
    h, w = 2000, 2000  # one crop of side s + 2 * 128 covers (s + 256)² / 4e6 of the image
    config = HDConfig(crop_max_fraction=0.25)
    below = _mask(h, w, (500, 500, 1200, 1200))  # crop 956² = 0.228 of the area
    above = _mask(h, w, (500, 500, 1300, 1300))  # crop 1056² = 0.279
    assert choose_strategy(below, config) is HDStrategy.CROP
    assert choose_strategy(above, config) is HDStrategy.RESIZE


def test_auto_resizes_between_the_limit_and_the_crop_trigger():
    mask = _mask(1500, 1500, (700, 700, 710, 710))
    config = HDConfig(resize_limit=1024, crop_trigger=2000)
    assert choose_strategy(mask, config) is HDStrategy.RESIZE


def test_auto_crop_runs_the_fill_on_crop_sized_inputs():
    h, w = 2000, 3000
    calls: list = []
    mask = _mask(h, w, (1000, 1000, 1040, 1040))
    apply_hd_strategy(_photo(h, w), mask, _paint_red(calls), config=HDConfig(crop_margin=64))
    assert [c[0] for c in calls] == [(168, 168, 3)]


def test_strategy_may_be_given_as_a_string():
    assert choose_strategy(_mask(10, 10, (0, 0, 2, 2)), HDConfig(strategy="crop")) is HDStrategy.CROP


# --- progress and cancel ------------------------------------------------------------------------------


def test_cancel_stops_between_crops():
    mask = _mask(1000, 1000, (10, 10, 20, 20), (500, 500, 510, 510), (900, 900, 910, 910))
    calls: list = []
    cancel = lambda: len(calls) >= 1  # noqa: E731 - the user presses Cancel during the first crop
    with pytest.raises(Cancelled):
        apply_hd_strategy(_photo(1000, 1000), mask, _paint_red(calls), config=HDConfig(strategy="crop", crop_margin=16), cancel=cancel)
    assert len(calls) == 1


def test_progress_is_reported_per_crop():
    mask = _mask(1000, 1000, (10, 10, 20, 20), (500, 500, 510, 510), (900, 900, 910, 910))
    seen: list = []
    apply_hd_strategy(
        _photo(1000, 1000),
        mask,
        _paint_red(),
        config=HDConfig(strategy="crop", crop_margin=16),
        progress=lambda f, msg: seen.append((round(f, 3), msg)),
    )
    assert [m for _, m in seen] == ["crop 1/3", "crop 2/3", "crop 3/3", "done"]
    assert [f for f, _ in seen] == sorted(f for f, _ in seen) and seen[-1][0] == 1.0


def test_each_crops_fill_reports_within_its_share_of_the_progress():
    mask = _mask(1000, 1000, (10, 10, 20, 20), (900, 900, 910, 910))
    seen: list = []

    def fill(image, hole, edges, progress):
        progress(0.5, "half")
        return np.zeros_like(image)

    apply_hd_strategy(_photo(1000, 1000), mask, fill, config=HDConfig(strategy="crop", crop_margin=16),
                      progress=lambda f, msg: seen.append((round(f, 3), msg)))
    assert seen == [(0.0, "crop 1/2"), (0.25, "half"), (0.5, "crop 2/2"), (0.75, "half"), (1.0, "done")]


# --- padding ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 3), (1, 1), (1, 9, 3), (2, 3), (16, 8, 3)])
@pytest.mark.parametrize("multiple", [1, 4, 8])
def test_pad_round_trip(shape, multiple):
    arr = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    padded, hw = pad_to_multiple(arr, multiple)
    assert hw == shape[:2]
    assert padded.shape[0] % multiple == 0 and padded.shape[1] % multiple == 0
    assert padded.shape[2:] == arr.shape[2:] and padded.dtype == arr.dtype
    assert padded.shape[0] - shape[0] < multiple and padded.shape[1] - shape[1] < multiple
    np.testing.assert_array_equal(crop_to(padded, hw), arr)


def test_padding_reflects_on_bottom_and_right():
    arr = np.arange(5 * 6, dtype=np.uint8).reshape(5, 6)
    padded, _ = pad_to_multiple(arr, 8)
    np.testing.assert_array_equal(padded[5, :6], arr[3])  # reflection without repeating the edge row
    np.testing.assert_array_equal(padded[:5, 6], arr[:, 4])


# --- properties ---------------------------------------------------------------------------------------


def _telea(image, mask, edges, progress=None):
    return cv2.inpaint(image, mask, 3, cv2.INPAINT_TELEA)


def test_crop_gives_the_same_fill_as_original_for_a_local_fill():
    # Telea only looks a few pixels around the hole, so a 32-px margin is all the context it needs.
    image = cv2.GaussianBlur(_photo(600, 900, seed=3), (0, 0), 4)
    mask = _mask(600, 900, (100, 100, 130, 120), (500, 400, 540, 430), (800, 50, 820, 90))
    original = apply_hd_strategy(image, mask, _telea, config=HDConfig(strategy="original", resize_limit=2000))
    crop = apply_hd_strategy(image, mask, _telea, config=HDConfig(strategy="crop", resize_limit=2000, crop_margin=32))
    np.testing.assert_array_equal(crop, original)


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(1, 120),
    w=st.integers(1, 120),
    strategy=st.sampled_from(list(HDStrategy)),
    limit=st.integers(8, 64),
    margin=st.integers(0, 20),
    seed=st.integers(0, 2**16),
)
def test_any_mask_any_strategy_changes_exactly_the_hole(h, w, strategy, limit, margin, seed):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.where(rng.random((h, w)) < rng.uniform(0, 0.2), 255, 0).astype(np.uint8)
    config = HDConfig(strategy=strategy, resize_limit=limit, crop_margin=margin, crop_trigger=limit)
    out = apply_hd_strategy(image, mask, _paint_red(), config=config)
    np.testing.assert_array_equal(out[mask == 0], image[mask == 0])
    if strategy is HDStrategy.ORIGINAL or max(h, w) <= limit:  # nothing was filled at a shrunk size
        assert (out[mask > 0] == RED).all()


@pytest.mark.parametrize(("shape", "expected"), [((1, 1), (16, 16)), ((3, 5), (16, 16)), ((9, 40), (16, 40)),
                                                 ((17, 16), (20, 16))])
def test_padding_reaches_a_minimum_side_then_the_multiple(shape, expected):
    arr = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
    padded, hw = pad_to_multiple(arr, 4, minimum=16)
    assert padded.shape == expected and hw == shape
    assert np.array_equal(crop_to(padded, hw), arr)
