"""The Qt-free document model: rasteriser geometry, patches, undo data, request ids, autosave files."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.ui.model import autosave
from inpaint_studio.ui.model.document import Candidate, Document
from inpaint_studio.ui.model.raster import Box, changed_box, fill_polygon, fill_rect, stamp_segment
from inpaint_studio.ui.model.requests import RequestTracker


def brute_capsule(shape, p0, p1, r):
    """Reference: a pixel is in when its centre is within r of the segment (pure Python, slow)."""
    h, w = shape
    out = np.zeros(shape, np.uint8)
    (ax, ay), (bx, by) = p0, p1
    for y in range(h):
        for x in range(w):
            cx, cy = x + 0.5, y + 0.5
            dx, dy = bx - ax, by - ay
            l2 = dx * dx + dy * dy
            t = 0.0 if l2 == 0 else max(0.0, min(1.0, ((cx - ax) * dx + (cy - ay) * dy) / l2))
            if (cx - ax - t * dx) ** 2 + (cy - ay - t * dy) ** 2 <= r * r:
                out[y, x] = 255
    return out


@pytest.mark.parametrize(("p0", "p1", "r"), [((10.3, 12.7), (10.3, 12.7), 4.0), ((3, 4), (30.2, 20.9), 5.5), ((-3, 10), (8, -2), 3)])
def test_capsule_matches_reference(p0, p1, r):
    layer = np.zeros((32, 40), np.uint8)
    box = stamp_segment(layer, p0, p1, r)
    expected = brute_capsule(layer.shape, p0, p1, r)
    assert np.array_equal(layer, expected)
    # Nothing outside the reported box may have changed.
    outside = layer.copy()
    outside[box.slices()] = 0
    assert not outside.any()


def test_soft_brush_falls_off_and_eraser_removes():
    layer = np.zeros((40, 40), np.uint8)
    stamp_segment(layer, (20, 20), (20, 20), 10, hardness=0.5)
    assert layer[20, 20] == 255 and 0 < layer[20, 27] < 255 and layer[20, 31] == 0
    stamp_segment(layer, (20, 20), (20, 20), 3, erase=True)
    assert layer[20, 20] == 0 and layer[20, 27] > 0


def test_rect_and_polygon_fill_pixel_centres():
    layer = np.zeros((20, 20), np.uint8)
    box = fill_rect(layer, (2.2, 3.0), (6.9, 8.4))
    assert box == Box(2, 3, 7, 8)  # centres x 2.5..6.5 and y 3.5..7.5 inside
    assert layer.sum() == 255 * 5 * 5
    poly = np.zeros((20, 20), np.uint8)
    fill_polygon(poly, [(0, 0), (10, 0), (10, 10), (0, 10)])
    assert poly[:10, :10].all() and not poly[10:, :].any() and not poly[:, 11:].any()


def test_stroke_patch_undo_redo_restores_exactly():
    doc = Document(np.zeros((50, 60, 3), np.uint8))
    seen = []
    doc.subscribe(lambda layer, box: seen.append((layer, box)))
    doc.mask[0, 0] = 77
    doc.begin_stroke("mask")
    doc.stroke_segment((10, 10), (30, 20), 4)
    patch = doc.end_stroke("Brush")
    after = doc.mask.copy()
    assert patch is not None and patch.box == changed_box(np.where(after == 255, 0, after), after)
    assert patch.before.shape == (patch.box.y1 - patch.box.y0, patch.box.x1 - patch.box.x0)
    assert seen and all(layer == "mask" for layer, _ in seen)
    doc.apply(patch, forward=False)
    expected_before = np.zeros((50, 60), np.uint8)
    expected_before[0, 0] = 77
    assert np.array_equal(doc.mask, expected_before)
    doc.apply(patch, forward=True)
    assert np.array_equal(doc.mask, after)


def test_empty_stroke_gives_no_patch():
    doc = Document(np.zeros((10, 10, 3), np.uint8))
    doc.begin_stroke("mask")
    doc.stroke_segment((-50, -50), (-40, -40), 3)
    assert doc.end_stroke("Brush") is None


def test_accept_is_an_undoable_image_patch_and_tracks_unsaved():
    img = np.full((20, 30, 3), 10, np.uint8)
    doc = Document(img)
    result = img.copy()
    result[5:8, 6:9] = 200
    doc.add_candidate(Candidate("x", result, 0.1, 1))
    patch = doc.accept()
    assert patch is not None and patch.box == Box(6, 5, 9, 8)
    assert np.array_equal(doc.image, result) and doc.modified and doc.candidates == []
    doc.apply(patch, forward=False)
    assert np.array_equal(doc.image, img) and not doc.modified
    doc.apply(patch, forward=True)
    doc.mark_saved()
    assert not doc.modified


def test_working_image_from_original_or_last_result():
    img = np.zeros((4, 4, 3), np.uint8)
    doc = Document(img)
    res = np.ones_like(img)
    doc.add_candidate(Candidate("a", res, 0, 1))
    assert doc.working_image(from_last_result=True) is res
    assert doc.working_image(from_last_result=False) is doc.image


def test_request_tracker_drops_stale_and_cancelled():
    t = RequestTracker()
    a, ev_a = t.new("inpaint")
    b, _ = t.new("inpaint")
    assert ev_a.is_set()  # the older request is told to stop
    assert not t.finish("inpaint", a)
    c, _ = t.new("mask")
    t.cancel(c)
    assert not t.finish("mask", c)
    assert t.finish("inpaint", b)


def test_autosave_roundtrip_and_generations(tmp_path):
    folder = tmp_path / "autosave"
    mask = np.zeros((30, 40), np.uint8)
    mask[3:9, 4:12] = 255
    edges = np.eye(30, 40, dtype=np.uint8) * 255
    autosave.write_snapshot(autosave.Snapshot("/x/y.png", mask, edges, None, (30, 40)), folder)
    mask2 = mask.copy()
    mask2[20:25, 20:25] = 255
    img = np.full((30, 40, 3), 9, np.uint8)
    autosave.write_snapshot(autosave.Snapshot("/x/y.png", mask2, edges, img, (30, 40)), folder)
    assert len(list(folder.glob("layers.*.npz"))) == 1
    snap = autosave.read_snapshot(folder)
    assert snap is not None and snap.image_path == "/x/y.png"
    assert np.array_equal(snap.mask, mask2) and np.array_equal(snap.edges, edges) and np.array_equal(snap.image, img)
    autosave.clear(folder)
    assert not autosave.has_autosave(folder) and autosave.read_snapshot(folder) is None


def test_background_writer_writes_newest(tmp_path):
    folder = tmp_path / "a"
    writer = autosave.BackgroundWriter(folder)
    for v in (1, 2, 3):
        writer.submit(autosave.Snapshot(None, np.full((5, 5), v, np.uint8), np.zeros((5, 5), np.uint8), None, (5, 5)))
    assert writer.flush(10)
    writer.close()
    snap = autosave.read_snapshot(folder)
    assert snap is not None and int(snap.mask[0, 0]) == 3


def test_model_package_has_no_qt():
    """The document model must stay testable without a display: no Qt import anywhere in ui/model."""
    import ast
    from pathlib import Path

    import inpaint_studio.ui.model as pkg

    for path in Path(pkg.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(n.startswith(("PySide6", "qtawesome", "shiboken6", "torch")) for n in names), path.name


def test_triangle_lasso_matches_point_in_polygon():
    tri = [(2.0, 3.0), (27.5, 8.2), (9.1, 24.7)]
    layer = np.zeros((30, 30), np.uint8)
    fill_polygon(layer, tri)
    yy, xx = np.mgrid[0:30, 0:30] + 0.5
    (ax, ay), (bx, by), (cx, cy) = tri

    def side(px, py, qx, qy):
        return (qx - px) * (yy - py) - (qy - py) * (xx - px)

    s1, s2, s3 = side(ax, ay, bx, by), side(bx, by, cx, cy), side(cx, cy, ax, ay)
    inside = ((s1 > 0) & (s2 > 0) & (s3 > 0)) | ((s1 < 0) & (s2 < 0) & (s3 < 0))
    assert np.array_equal(layer == 255, inside)
