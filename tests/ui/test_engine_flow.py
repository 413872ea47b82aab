"""The app driving real (Telea) and fake engine methods through its worker thread, as a user would."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer

from inpaint_studio.ui.tools import Tool

from .conftest import EdgeCapture, SlowFill
from .qt_helpers import at, drag, wait_idle


def paint_hole(win):
    win.menus.set_tool(Tool.BRUSH)
    win.canvas.set_brush_size(12)
    drag(win.canvas, [at(win.canvas, 40, 30), at(win.canvas, 70, 35)])
    assert win.document.binary_mask().any()


def run_and_wait(qtbot, win, button, outcome="applied", timeout=20000):
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=timeout, check_params_cb=lambda rid, o: o == outcome):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_telea_changes_only_masked_pixels_and_accept_is_undoable(window, qtbot):
    win, doc = window, window.document
    original = doc.image.copy()
    paint_hole(win)
    win.panel.select_model("telea")
    run_and_wait(qtbot, win, win.panel.inpaint_button)
    assert len(doc.candidates) == 1 and win.canvas.result_visible
    assert np.array_equal(doc.image, original)  # nothing applied before Accept
    hole = doc.binary_mask() > 0
    qtbot.mouseClick(win.panel.accept_button, Qt.MouseButton.LeftButton)
    assert np.array_equal(doc.image[~hole], original[~hole])
    assert not np.array_equal(doc.image[hole], original[hole])
    assert doc.modified and win.windowTitle().startswith("photo.png*")
    assert not doc.mask.any()  # the mask has done its job: cleared, in the same undo step
    win.undo_stack.undo()
    assert np.array_equal(doc.image, original) and not doc.modified
    assert np.array_equal(doc.binary_mask() > 0, hole)  # one undo brings the photo and its mask back
    win.undo_stack.redo()
    assert not np.array_equal(doc.image, original) and not doc.mask.any()


def test_slow_model_keeps_ui_responsive_and_cancel_discards(window, qtbot):
    win = window
    SlowFill.delay = 3.0
    paint_hole(win)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    win.panel.select_model("test_slow")
    qtbot.mouseClick(win.panel.inpaint_button, Qt.MouseButton.LeftButton)
    qtbot.wait(600)
    assert SlowFill.calls == 1 and win.panel.cancel_button.isEnabled()
    assert len(ticks) >= 10  # the event loop kept running while the model worked
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=10000) as blocker:
        qtbot.mouseClick(win.panel.cancel_button, Qt.MouseButton.LeftButton)
    timer.stop()
    assert blocker.args[1] in ("cancelled", "discarded")
    assert win.document.candidates == [] and not win.canvas.result_visible


def test_stale_result_never_replaces_a_newer_one(window, qtbot):
    win = window
    SlowFill.delay = 1.0
    SlowFill.honour_cancel = False  # it will come back late, with a magenta fill
    paint_hole(win)
    outcomes = []
    win.jobs.jobFinished.connect(lambda rid, o: outcomes.append(o))
    win.panel.select_model("test_slow")
    qtbot.mouseClick(win.panel.inpaint_button, Qt.MouseButton.LeftButton)
    win.panel.select_model("test_fast")
    qtbot.mouseClick(win.panel.inpaint_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=15000)
    assert sorted(outcomes) == ["applied", "cancelled"]
    cands = win.document.candidates
    hole = win.document.binary_mask() > 0
    assert len(cands) == 1 and cands[0].method == "test_fast"
    assert (cands[0].image[hole] == (0, 255, 255)).all()


def test_auto_mask_fills_the_mask_layer_and_restore_gives_a_candidate(window, qtbot):
    win, doc = window, window.document
    win.panel.select_model("test_blind")
    run_and_wait(qtbot, win, win.panel.auto_mask_button)
    red = (doc.image[..., 0] == 200) & (doc.image[..., 1] == 40)
    assert np.array_equal(doc.mask > 0, red)
    win.undo_stack.undo()  # auto mask is one undoable step
    assert not doc.mask.any()
    run_and_wait(qtbot, win, win.panel.restore_button)
    assert len(doc.candidates) == 1 and (doc.candidates[0].image[red] == 128).all()


def test_edges_drawn_with_the_pen_reach_the_model_unchanged(window, qtbot):
    win, doc = window, window.document
    paint_hole(win)
    win.menus.set_tool(Tool.EDGE_PEN)
    drag(win.canvas, [at(win.canvas, 35, 20), at(win.canvas, 75, 45), at(win.canvas, 90, 45)])
    drawn = doc.edges.copy()
    assert drawn.any()
    win.panel.select_model("test_edges")
    win.panel.use_edges.setChecked(True)
    run_and_wait(qtbot, win, win.panel.inpaint_button)
    assert EdgeCapture.seen and np.array_equal(EdgeCapture.seen[-1], drawn)


def test_predicted_edges_join_the_users_inside_the_hole_and_stay_editable(window, qtbot):
    win, doc = window, window.document
    doc.edges[100, 150] = 255  # a user edge outside the hole survives the prediction
    paint_hole(win)
    hole = doc.binary_mask() > 0
    sketched = np.zeros(doc.shape, bool)
    ys, xs = np.nonzero(hole)
    sketched[ys[ys == ys.min()], xs[ys == ys.min()]] = True  # the user's contour along the hole's top row
    doc.edges[sketched] = 255
    before = doc.edges.copy()
    win.panel.select_model("test_edges")
    run_and_wait(qtbot, win, win.panel.edges_button)
    diag = np.zeros(doc.shape, bool)
    idx = np.arange(min(doc.shape))
    diag[idx, idx] = True
    assert np.array_equal(doc.edges[hole] > 0, (diag | sketched)[hole])  # the guess added, the sketch kept
    assert doc.edges[100, 150] == 255 and not doc.edges[~hole & diag].any()
    win.undo_stack.undo()
    assert np.array_equal(doc.edges, before)


def test_model_errors_are_messages_not_crashes(window, qtbot):
    win = window
    paint_hole(win)
    win.panel.select_model("test_boom")
    run_and_wait(qtbot, win, win.panel.inpaint_button, outcome="failed")
    assert "kaboom" in win.last_error and "\n" not in win.last_error
    win.documents.clear_mask()
    win.panel.select_model("test_fast")
    qtbot.mouseClick(win.panel.inpaint_button, Qt.MouseButton.LeftButton)
    assert "mask is empty" in win.last_error and all(r.job.slot != "inpaint" for r in win.jobs.running.values())


def test_missing_weights_are_listed_and_refused(window):
    panel = window.panel
    row = next(r for r in range(panel.model_list.count())
               if panel.model_list.item(r).data(Qt.ItemDataRole.UserRole) == "test_missing")
    assert "weights missing — import with Models ▸ Import…" in panel.model_list.item(row).text()
    assert "ready" not in panel.model_list.item(row).text()
    paint_hole(window)
    panel.select_model("test_missing")
    assert panel.import_button.isVisibleTo(panel)
    assert window.jobs.inpaint() is None and "weights missing" in window.last_error
    panel.select_model("telea")
    assert not panel.import_button.isVisibleTo(panel)


def test_deepfill_v1_is_in_the_picker_and_names_how_to_get_weights(window):
    panel = window.panel
    row = next(r for r in range(panel.model_list.count())
               if panel.model_list.item(r).data(Qt.ItemDataRole.UserRole) == "deepfill_v1")
    item = panel.model_list.item(row)
    assert "weights missing" in item.text()  # no weights are shipped for it
    assert "python -m trainer train deepfill_v1" in item.toolTip() and "models import" in item.toolTip()


def test_compare_candidates_side_by_side_and_before_after(window, qtbot):
    win, doc = window, window.document
    paint_hole(win)
    win.panel.set_ticked(["telea", "test_fast"])
    outcomes = []
    win.jobs.jobFinished.connect(lambda rid, o: outcomes.append(o))
    qtbot.mouseClick(win.panel.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=20000)
    assert sorted(c.method for c in doc.candidates) == ["telea", "test_fast"]
    assert win.panel.candidates.count() == 2
    win.panel.candidates.setCurrentRow(0)
    assert doc.selected == 0 and win.canvas.result_visible
    win.canvas.setFocus()
    qtbot.keyPress(win.canvas, Qt.Key.Key_Backslash)
    assert not win.canvas.result_visible  # holding \ shows the image before
    qtbot.keyRelease(win.canvas, Qt.Key.Key_Backslash)
    assert win.canvas.result_visible
    # "Start from: selected result" feeds the chosen candidate to the next run.
    win.panel.source_combo.setCurrentIndex(1)
    chosen = doc.candidates[0].image
    job = win.jobs.inpaint_job("test_fast", "inpaint")
    assert job is not None and np.array_equal(job.image, chosen)
    win.menus.accept_result()  # the image now holds telea's fill; "original photo" still starts from the photo
    paint_hole(win)  # Accept cleared the filled mask: mark the next hole
    win.panel.source_combo.setCurrentIndex(2)
    job = win.jobs.inpaint_job("test_fast", "inpaint")
    assert job is not None and np.array_equal(job.image, doc.original) and not np.array_equal(doc.image, doc.original)
    win.panel.source_combo.setCurrentIndex(0)
    job = win.jobs.inpaint_job("test_fast", "inpaint")
    assert job is not None and np.array_equal(job.image, doc.image)
    qtbot.mouseClick(win.panel.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(outcomes) == 4, timeout=20000)
    qtbot.mouseClick(win.panel.discard_button, Qt.MouseButton.LeftButton)
    assert doc.candidates == [] and not win.canvas.result_visible
    wait_idle(qtbot, win)


def test_preferences_persist_and_reach_the_worker(window, qtbot):
    from inpaint_studio.ui.preferences import PreferencesDialog
    from inpaint_studio.ui.settings import Settings

    dlg = PreferencesDialog(window.settings, window)
    dlg.device.setCurrentText("cpu")
    dlg.hd.setCurrentIndex(dlg.hd.findData("crop"))
    dlg.limit.setValue(768)
    dlg.store()
    window.apply_preferences()
    fresh = Settings()
    assert (fresh.get("device"), fresh.get("hd_strategy"), fresh.get("hd_resize_limit")) == ("cpu", "crop", 768)
    worker = window.engine.worker
    qtbot.waitUntil(lambda: worker.device == "cpu" and worker.hd_strategy == "crop", timeout=5000)
    assert worker._hd_config().resize_limit == 768


def test_import_weights_runs_the_importer_and_relists(window, qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    from inpaint_studio.core.errors import CheckpointError
    from inpaint_studio.engine import importer

    src = tmp_path / "published.pth"
    src.write_bytes(b"x")
    calls = []

    def fake_import(path, name=None):
        calls.append(path)
        if len(calls) == 2:
            raise CheckpointError("published.pth: not a known DeepFill v2, EdgeConnect or VCNet layout")
        return tmp_path / "deepfill_v2.safetensors"

    monkeypatch.setattr(importer, "import_checkpoint", fake_import)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(src), ""))
    listed = []
    window.engine.worker.modelsListed.connect(lambda infos: listed.append(infos))
    with qtbot.waitSignal(window.jobs.jobFinished, timeout=10000, check_params_cb=lambda rid, o: o == "applied"):
        window.menus.import_weights()
    assert calls == [str(src)]
    qtbot.waitUntil(lambda: bool(listed), timeout=15000)  # the picker is refreshed after an import
    with qtbot.waitSignal(window.jobs.jobFinished, timeout=10000, check_params_cb=lambda rid, o: o == "failed"):
        window.menus.import_weights()
    assert "not a known" in window.last_error


def test_edges_drawn_for_a_model_that_ignores_them_name_the_fill_that_follows_them(window, qtbot):
    from dataclasses import replace

    win, doc = window, window.document
    # The catalogue measured test_edges the best at following drawn edges.
    win.jobs.show_models([replace(i, default_for=("edges",) if i.name == "test_edges" else
                                  tuple(t for t in i.default_for if t != "edges")) for i in win.jobs.models.values()])
    paint_hole(win)
    win.menus.set_tool(Tool.EDGE_PEN)
    drag(win.canvas, [at(win.canvas, 35, 20), at(win.canvas, 75, 45), at(win.canvas, 90, 45)])
    win.panel.select_model("telea")  # ignores edges: the user's pick still runs ...
    run_and_wait(qtbot, win, win.panel.inpaint_button)
    assert doc.candidates[-1].method == "telea" and not EdgeCapture.seen
    # ... and the status says which fill would follow the sketch.
    assert "telea ignores the edges you drew; pick test_edges" in win.statusBar().currentMessage()


def test_auto_says_which_method_filled_which_part(window, qtbot):
    win = window
    paint_hole(win)
    win.panel.select_model("auto")
    run_and_wait(qtbot, win, win.panel.inpaint_button)
    assert win.document.candidates[-1].method == "auto"
    message = win.statusBar().currentMessage()
    assert message.startswith("Filled ") and " by " in message
