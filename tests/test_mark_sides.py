"""Found thin marks that run along an edge of the photo (a lit rim) are dropped; scratches are kept."""

from __future__ import annotations

import cv2
import numpy as np

from inpaint_studio.core.mark_sides import marks_off_edges, side_difference


def _photo() -> np.ndarray:
    """Left half dark red, right half green, with a little texture."""
    rng = np.random.default_rng(0)
    img = np.zeros((120, 160, 3), np.float32)
    img[:, :80] = (150, 30, 30)
    img[:, 80:] = (60, 140, 60)
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_a_rim_along_an_edge_is_dropped_and_a_scratch_across_a_surface_kept() -> None:
    img = _photo()
    marks = np.zeros(img.shape[:2], np.uint8)
    marks[10:110, 79:82] = 255  # a bright rim drawn along the red–green edge
    marks[40:43, 10:60] = 255  # a scratch lying on the red surface
    img[10:110, 79:82] = 230
    img[40:43, 10:60] = 230
    kept = marks_off_edges(img, marks, limit=40)
    assert not kept[10:110, 79:82].any()
    assert kept[40:43, 10:60].all()
    assert kept.dtype == np.uint8 and set(np.unique(kept)) <= {0, 255}


def test_the_side_difference_reads_across_the_mark() -> None:
    img = _photo()
    marks = np.zeros(img.shape[:2], np.uint8)
    marks[20:100, 79:82] = 255
    marks[60:63, 100:150] = 255
    diff = side_difference(img, marks)
    assert np.median(diff[20:100, 79:82]) > 60  # red against green
    assert np.median(diff[60:63, 100:150]) < 15  # green on both sides
    assert not diff[marks == 0].any()


def test_no_marks_no_change() -> None:
    img = _photo()
    empty = np.zeros(img.shape[:2], np.uint8)
    assert marks_off_edges(img, empty, 40) is empty
    # a diagonal scratch on one surface is kept too (its normal is a diagonal)
    marks = np.zeros(img.shape[:2], np.uint8)
    cv2.line(marks, (5, 5), (60, 60), 255, 2)
    assert np.array_equal(marks_off_edges(img, marks, 40), marks)


def test_specks_are_not_judged_as_lines() -> None:
    img = _photo()
    img[58:62, 78:82] = 240  # a dust speck right on the edge
    marks = np.zeros(img.shape[:2], np.uint8)
    marks[58:62, 78:82] = 255
    assert not marks_off_edges(img, marks, 40).any()  # judged as a line: its sides differ
    assert np.array_equal(marks_off_edges(img, marks, 40, min_area=40), marks)  # 16 px: a speck, kept
