"""OpenCV-backed classical methods: options, conventions (xphoto's inverted mask, BGR/Lab) and edge cases."""

from __future__ import annotations

import time

import imagegen as gen
import numpy as np
import pytest

from inpaint_studio.core.errors import Cancelled, MaskError
from inpaint_studio.core.metrics import l1
from inpaint_studio.engine.base import create_method

CLASSICAL = ("telea", "navier_stokes", "fsr_fast", "fsr_best", "shiftmap")


@pytest.mark.parametrize("name", ["telea", "navier_stokes"])
def test_radius_option_changes_the_fill(name):
    image, mask = gen.textured(64, 64, seed=1), gen.box_mask(64, 64, 20, 20, 40, 44)
    small = create_method(name, radius=1).inpaint(image, mask)
    large = create_method(name, radius=15).inpaint(image, mask)
    assert not np.array_equal(small[mask > 0], large[mask > 0])
    assert np.array_equal(small[mask == 0], large[mask == 0])


def test_radius_must_be_positive():
    with pytest.raises(ValueError):
        create_method("telea", radius=0)


def test_fsr_is_at_least_close_to_telea_on_a_smooth_gradient():
    image, mask = gen.gradient(64, 96), gen.box_mask(64, 96, 20, 30, 44, 60)
    telea = l1(create_method("telea").inpaint(image, mask), image, mask)
    fsr = l1(create_method("fsr_fast").inpaint(image, mask), image, mask)
    assert fsr <= telea * 1.1 + 0.5


@pytest.mark.parametrize("name", CLASSICAL)
def test_uniform_colour_is_kept(name):
    """A hole in a flat orange patch comes back orange: catches a missing RGB↔BGR/Lab round trip."""
    image = np.zeros((48, 64, 3), np.uint8)
    image[:] = (230, 120, 20)
    image[:, 48:] = (20, 60, 200)  # some structure so exemplar methods have something to choose from
    mask = gen.box_mask(48, 64, 18, 14, 28, 24)
    out = create_method(name).inpaint(image, mask)
    assert np.abs(out[mask > 0].astype(int) - (230, 120, 20)).max() <= 3
    assert np.array_equal(out[mask == 0], image[mask == 0])


@pytest.mark.parametrize("name", CLASSICAL)
def test_empty_mask_returns_an_equal_copy(name):
    image = gen.textured(32, 32)
    out = create_method(name).inpaint(image, np.zeros((32, 32), np.uint8))
    assert out is not image and np.array_equal(out, image)


def test_mask_values_follow_the_one_rule_and_input_is_untouched():
    """Above 127 is hole, as everywhere (core.masks): a direct call reads a mask as the manager does."""
    image, mask = gen.textured(48, 48, seed=2), gen.box_mask(48, 48, 10, 10, 30, 30)
    before = image.copy()
    a = create_method("fsr_fast").inpaint(image, np.where(mask > 0, 128, 0).astype(np.uint8))
    b = create_method("fsr_fast").inpaint(image, mask)
    assert np.array_equal(a, b) and not np.array_equal(a, image)
    faint = create_method("fsr_fast").inpaint(image, np.where(mask > 0, 127, 0).astype(np.uint8))
    assert np.array_equal(faint, image)
    assert np.array_equal(image, before)


def test_missing_or_mismatched_mask_is_a_mask_error():
    image = gen.textured(32, 32)
    with pytest.raises(MaskError):
        create_method("telea").inpaint(image, None)
    with pytest.raises(MaskError):
        create_method("telea").inpaint(image, np.zeros((16, 32), np.uint8))


def test_progress_reported_and_cancel_checked_before_work():
    image, mask = gen.textured(32, 32), gen.box_mask(32, 32, 8, 8, 16, 16)
    seen: list[float] = []
    create_method("telea").inpaint(image, mask, progress=lambda f, _m: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0
    with pytest.raises(Cancelled):
        create_method("fsr_best").inpaint(image, mask, cancel=lambda: True)


def test_fill_in_child_process_matches_in_process():
    image, mask = gen.textured(48, 64, seed=8), gen.box_mask(48, 64, 12, 20, 30, 44)
    direct = create_method("fsr_fast").inpaint(image, mask)
    child = create_method("fsr_fast")
    child.cancellable_above = 0  # force the killable child process
    assert np.array_equal(child.inpaint(image, mask, cancel=lambda: False), direct)


def test_cancel_stops_a_long_fsr_best_run_early():
    """FSR-best on a 256² photo with a 40 % hole runs for minutes here; cancel must not wait for it."""
    image = gen.textured(256, 256, seed=9)
    mask = gen.box_mask(256, 256, 40, 40, 200, 200)
    start = time.monotonic()
    with pytest.raises(Cancelled):
        create_method("fsr_best").inpaint(image, mask, cancel=lambda: time.monotonic() - start > 0.5)
    assert time.monotonic() - start < 20
