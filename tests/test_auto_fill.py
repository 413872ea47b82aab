"""`auto`: each hole region classified by shape and filled by the method the table chose for that shape."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.paths import SAMPLES_DIR
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.methods import auto_fill
from inpaint_studio.engine.methods.auto_fill import classify, describe_routes, plan_routes

ROUTES = {"thin": "telea", "box": "navier_stokes", "blob": "patchmatch"}


def _blank(h: int = 200, w: int = 300) -> np.ndarray:
    return np.zeros((h, w), np.uint8)


def test_shapes_are_told_apart():
    line = _blank()
    cv2.line(line, (10, 10), (280, 180), 255, 5)
    disc = _blank()
    cv2.circle(disc, (100, 100), 30, 255, -1)
    box = _blank()
    box[40:120, 60:180] = 255
    small_square = _blank()
    small_square[10:30, 10:30] = 255  # too small to be a "large box": a blob
    for mask, shape in ((line, "thin"), (disc, "blob"), (box, "box"), (small_square, "blob")):
        ys, xs = np.nonzero(mask)
        assert classify(mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] > 0) == shape


def test_a_stroke_up_to_nine_pixels_wide_is_thin_and_wider_is_not():
    for thickness, shape in ((1, "thin"), (8, "thin"), (11, "blob")):  # cv2 draws 1, 9 and 13 px
        mask = _blank()
        cv2.line(mask, (20, 100), (280, 100), 255, thickness)
        assert [r.shape for r in plan_routes(mask, ROUTES)] == [shape]


def _mixed_mask() -> np.ndarray:
    mask = _blank(300, 451)
    cv2.line(mask, (10, 280), (200, 250), 255, 3)
    cv2.line(mask, (440, 10), (300, 120), 255, 2)
    cv2.circle(mask, (120, 120), 35, 255, -1)
    mask[150:240, 260:380] = 255
    return mask


def test_the_plan_names_each_region_and_its_method():
    routes = plan_routes(_mixed_mask(), ROUTES)
    assert sorted((r.shape, r.method) for r in routes) == [
        ("blob", "patchmatch"), ("box", "navier_stokes"), ("thin", "telea"), ("thin", "telea")
    ]
    assert describe_routes(routes) == "2 thin strokes by telea; 1 box by navier_stokes; 1 area by patchmatch"
    assert describe_routes([]) == "nothing to fill"


def test_each_region_is_filled_by_its_shapes_method(monkeypatch):
    monkeypatch.setattr(auto_fill, "route_methods", lambda *a, **k: dict(ROUTES))
    photo = load_rgb(SAMPLES_DIR / "chelsea.png")
    mask = _mixed_mask()
    out = create_method("auto").inpaint(photo, mask)
    assert np.array_equal(out[mask == 0], photo[mask == 0])
    routes = plan_routes(mask, ROUTES)
    thin = np.zeros_like(mask)
    for r in routes:
        if r.shape == "thin":
            thin[r.box.slices()] = mask[r.box.slices()]
    # Thin strokes come first, with every hole still unfilled: exactly Telea's fill of the whole mask there.
    telea = create_method("telea").inpaint(photo, mask)
    assert np.array_equal(out[thin > 0], telea[thin > 0])
    # The box is Navier-Stokes's, given the thin strokes already filled and the blob still a hole.
    box = np.zeros_like(mask)
    box[150:240, 260:380] = 255
    after_thin = np.where(thin[..., None] > 0, telea, photo)
    pending = np.where(thin > 0, 0, mask).astype(np.uint8)
    ns = create_method("navier_stokes").inpaint(after_thin, pending)
    assert np.array_equal(out[box > 0], ns[box > 0])


def test_auto_never_routes_to_itself(tmp_path):
    from test_defaults import _table  # a table where `auto` measures best everywhere

    table = _table(tmp_path / "t.json", {"auto": (10.0, 0.1), "telea": (20.0, 0.01), "navier_stokes": (19.0, 0.01)})
    routes = auto_fill.route_methods(table, available=["auto", "telea", "navier_stokes"])
    assert "auto" not in routes.values()
    assert routes["blob"] == "navier_stokes"


@pytest.mark.parametrize("name", ["auto", "patchmatch"])
def test_listed_with_the_other_methods(name):
    from inpaint_studio.engine.base import method_names

    assert name in method_names()
