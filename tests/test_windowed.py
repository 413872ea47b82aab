"""The window runner of the fixed-size methods (Context Encoder, GLCIC): tiles cover every hole pixel once
and are no larger than asked, pixels outside the mask never change, a hole larger than the window is filled
completely, and each window is centred on its tile with the photo mirrored at the borders."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.engine.methods.windowed import Whole, fill_in_windows, plan_tiles


def _scene(h: int = 90, w: int = 140, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[5:85, 10:120] = 255  # larger than any window below
    mask[60:70, 125:138] = 255  # a second, small region near the border
    mask[0:3, 0:4] = 255  # one touching the corner
    return image, mask


def test_tiles_cover_every_hole_pixel_exactly_once_and_respect_the_size():
    _, mask = _scene()
    tiles, labels = plan_tiles(mask, 24)
    count = np.zeros(mask.shape, int)
    for t in tiles:
        assert t.y1 - t.y0 <= 24 and t.x1 - t.x0 <= 24
        count[t.y0 : t.y1, t.x0 : t.x1] += labels[t.y0 : t.y1, t.x0 : t.x1] == t.label
    assert np.array_equal(count, (mask > 0).astype(int))
    assert len({t.label for t in tiles}) == 3


def test_a_hole_larger_than_the_window_is_filled_completely_and_nothing_else_changes():
    image, mask = _scene()
    calls = []

    def paint(window: np.ndarray, hole: np.ndarray) -> np.ndarray:
        calls.append(hole.copy())
        out = window.copy()
        out[hole > 0] = (7, 8, 9)
        return out

    out = fill_in_windows(image, mask, 32, 16, paint)
    assert np.array_equal(out[mask == 0], image[mask == 0])
    assert (out[mask > 0] == (7, 8, 9)).all()
    assert all(h.shape == (32, 32) for h in calls)
    assert len(calls) == len(plan_tiles(mask, 16)[0]) > 20
    # Later tiles see the earlier fills as known pixels: the last window has less hole than the first.
    assert (calls[-1] > 0).sum() < (calls[0] > 0).sum()


def test_windows_are_centred_on_their_tile_and_mirror_the_photo_at_the_border():
    image = np.zeros((20, 30, 3), np.uint8)
    image[:, :, 0] = np.arange(30, dtype=np.uint8)[None, :] * 8  # a horizontal ramp
    mask = np.zeros((20, 30), np.uint8)
    mask[8:12, 0:4] = 255  # at the left edge of an image smaller than the window
    seen = []

    def record(window: np.ndarray, hole: np.ndarray) -> np.ndarray:
        seen.append((window.copy(), hole.copy()))
        return np.full_like(window, 99)

    out = fill_in_windows(image, mask, 48, 8, record)
    ((window, hole),) = seen
    # The tile (rows 8–11, columns 0–3; centre row 10, column 2) sits at the window centre (24, 24).
    assert (hole[22:26, 22:26] == 255).all() and (hole[12:22] == 0).all() and (hole[26:36] == 0).all()
    assert (hole[22:26, 18:22] == 255).all()  # its mirror image beyond the border stays unknown
    assert window[10, 20:24, 0].tolist() == [8, 0, 0, 8]  # the ramp mirrored left of column 0
    assert (out[mask > 0] == 99).all() and np.array_equal(out[mask == 0], image[mask == 0])


def test_a_window_fill_of_the_wrong_shape_is_refused():
    image, mask = _scene(40, 40)
    with pytest.raises(ValueError, match="uint8 32×32×3"):
        fill_in_windows(image, mask, 32, 16, lambda w, h: w[:16])
    with pytest.raises(ValueError, match="does not fit"):
        fill_in_windows(image, mask, 32, 40, lambda w, h: w)


def _ramp_scene() -> tuple[np.ndarray, np.ndarray]:
    """A smooth horizontal ramp (1.5 grey levels a px) with a hole many tiles wide."""
    image = np.zeros((64, 160, 3), np.uint8)
    image[:] = (np.arange(160) * 1.5).astype(np.uint8)[None, :, None]
    mask = np.zeros((64, 160), np.uint8)
    mask[8:56, 16:144] = 255
    return image, mask


def _window_mean(window: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """A stand-in network: the hole painted with the mean of the window's known pixels."""
    out = window.copy()
    out[hole > 0] = window[hole == 0].mean(axis=0).round().astype(np.uint8)
    return out


def _largest_step_inside(out: np.ndarray, mask: np.ndarray) -> int:
    values, hole = out[..., 0].astype(int), mask > 0
    dx = np.abs(np.diff(values, axis=1))[hole[:, 1:] & hole[:, :-1]]
    dy = np.abs(np.diff(values, axis=0))[hole[1:] & hole[:-1]]
    return int(max(dx.max(), dy.max()))


def test_overlapping_tiles_are_feathered_so_a_smooth_ramp_shows_no_seam():
    image, mask = _ramp_scene()
    seamed = fill_in_windows(image, mask, 48, 24, _window_mean)
    feathered = fill_in_windows(image, mask, 48, 24, _window_mean, overlap=8)
    for out in (seamed, feathered):
        assert np.array_equal(out[mask == 0], image[mask == 0])
    # Each tile's flat fill differs from its neighbour's by ~ a tile's worth of ramp: a hard seam without
    # overlap, spread over the shared band with it (the ramp itself climbs 1.5 a px).
    assert _largest_step_inside(seamed, mask) > 30
    assert _largest_step_inside(feathered, mask) <= 6


def test_grown_tiles_never_exceed_the_learned_hole_and_tiles_go_from_the_border_inward():
    image, mask = _ramp_scene()
    holes = []

    def record(window: np.ndarray, hole: np.ndarray) -> np.ndarray:
        holes.append(hole > 0)
        return _window_mean(window, hole)

    fill_in_windows(image, mask, 48, 24, record, overlap=8)
    assert len(holes) == len(plan_tiles(mask, 24 - 2 * 8)[0])
    # Each window predicts its grown tile (core 8² + 8 px on every side, inside the hole) and what is still
    # unknown; the last one filled holds only its own grown tile. Row by row that would be the hole's
    # bottom-right corner tile (16² of hole); from the border inward it is a tile deep inside (a full 24²).
    assert holes[-1].sum() == 24 * 24
    assert holes[-1][12:36, 12:36].all()
    assert holes[0].sum() > holes[-1].sum()
    with pytest.raises(ValueError, match="no core"):
        fill_in_windows(image, mask, 48, 16, record, overlap=8)


def test_a_region_that_fits_the_limit_is_filled_in_one_pass_and_a_larger_one_in_tiles():
    image, mask = _ramp_scene()
    mask[60:63, 150:156] = 255  # a second, small region
    shapes = []

    def record(window: np.ndarray, hole: np.ndarray) -> np.ndarray:
        shapes.append(hole.shape)
        assert (hole > 0).any() and (hole == 0).any()
        return _window_mean(window, hole)

    out = fill_in_windows(image, mask, 48, 24, record, overlap=4, whole=Whole(limit=160, margin=10, multiple=4))
    # The large region: its 48×128 box + 10 px on each side, rounded up to a multiple of 4 → 68×148.
    # The small one: at least the 48² window.
    assert shapes == [(68, 148), (48, 48)]
    assert np.array_equal(out[mask == 0], image[mask == 0]) and (out[mask > 0] > 0).all()
    shapes.clear()
    fill_in_windows(image, mask, 48, 24, record, overlap=4, whole=Whole(limit=120, margin=10, multiple=4))
    assert shapes[-1] == (48, 48) and len(shapes) == len(plan_tiles(mask, 16)[0]) > 10


def test_a_one_pass_window_may_reach_past_the_photo_s_border():
    image, mask = _scene(60, 70)
    mask[:] = 0
    mask[0:20, 50:70] = 255  # a corner region: its window overhangs two borders (mirrored there)
    shapes = []

    def record(window: np.ndarray, hole: np.ndarray) -> np.ndarray:
        shapes.append(hole.shape)
        return _window_mean(window, hole)

    out = fill_in_windows(image, mask, 32, 16, record, whole=Whole(limit=64, margin=12, multiple=4))
    assert shapes == [(44, 44)]
    assert np.array_equal(out[mask == 0], image[mask == 0]) and not np.array_equal(out, image)
