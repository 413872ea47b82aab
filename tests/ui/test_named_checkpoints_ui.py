"""The model picker lists each checkpoint under its method (where it came from, how it measured); picking one
runs the method with that checkpoint's weights, ticking two compares them, and one click measures one."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QPoint, Qt

from inpaint_studio.core import paths
from inpaint_studio.engine.checkpoints import read_metadata, save_checkpoint, update_metadata
from inpaint_studio.engine.manager import ModelManager
from inpaint_studio.networks.registry import create_network
from inpaint_studio.ui.model_panel import CHECKPOINT_ROLE

from .conftest import make_photo
from .test_engine_flow import paint_hole, run_and_wait

GEN = {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 4}}}


@pytest.fixture
def two_checkpoints():
    """A shipped deepfill_v2 checkpoint and two of the user's, one of them measured; made before the window lists
    the models."""
    made = {}
    for folder, name, seed in ((paths.SHIPPED_MODELS_DIR, "df-shipped", 2), (paths.user_models_dir(), "places2", 0),
                               (paths.user_models_dir(), "celeba", 1)):
        torch.manual_seed(seed)
        net = create_network("deepfill_v2_generator", cnum=4).eval()
        made[name] = save_checkpoint(folder / name, "deepfill_v2", {"generator": net}, GEN,
                                     {"source": {"file": f"{name}.pth", "layout": "deepfill_v2_pytorch_finetuned"}})
    update_metadata(made["places2"], lambda d: d.update(measured={
        "photos": "bundled samples", "count": 4, "size": 256, "buckets": ["20-30%"],
        "l1_hole": 20.0, "psnr_hole": 19.0, "ssim_hole": 0.5,
        "telea_l1_hole": 25.0, "telea_psnr_hole": 18.0, "telea_ssim_hole": 0.45}))
    return made


def _rows(panel):
    out = {}
    for row in range(panel.model_list.count()):
        item = panel.model_list.item(row)
        entry = item.data(CHECKPOINT_ROLE)
        if entry is not None:
            out[entry.name] = item
    return out


def test_picker_lists_checkpoints_under_their_method_and_runs_the_picked_one(two_checkpoints, window, qtbot):
    win, panel = window, window.panel
    rows = _rows(panel)
    assert set(rows) == {"df-shipped", "places2", "celeba"}
    names = [panel.model_list.item(r).text().split(" — ")[0].strip() for r in range(panel.model_list.count())]
    assert names.index("deepfill_v2") + 1 == names.index("df-shipped")  # right under its method, default first
    assert rows["df-shipped"].text().strip() == "df-shipped — comes with the app, default · not measured yet"
    assert rows["celeba"].text().strip() == "celeba — imported · not measured yet"
    assert "clearly more accurate than Telea on bundled samples" in rows["places2"].text()
    assert "l1 hole 20" in rows["places2"].toolTip() and "imported from places2.pth" in rows["places2"].toolTip()
    assert rows["celeba"].flags() & Qt.ItemFlag.ItemIsUserCheckable  # picked for Inpaint, or ticked for Compare

    panel.select_checkpoint("places2")
    assert panel.current_model == "deepfill_v2" and panel.options()["checkpoint"] == two_checkpoints["places2"]
    status = panel.model_status.text()
    assert "imported from places2.pth" in status and "Clearly more accurate than Telea" in status
    assert "l1 hole" not in status  # the numbers are one click away
    panel._link("#numbers")
    assert "l1 hole 20" in panel.model_status.text()

    paint_hole(win)
    results = {}
    for name in ("celeba", "places2"):
        assert panel.select_checkpoint(name)
        run_and_wait(qtbot, win, panel.inpaint_button, timeout=60000)
        results[name] = win.document.candidates[-1].image.copy()
    image, mask = win.document.image, win.document.binary_mask()
    for name, got in results.items():
        manager = ModelManager(device="cpu")
        manager.activate("deepfill_v2", load=True, checkpoint=two_checkpoints[name])
        assert np.array_equal(got, manager.run(image, mask)), name
    assert not np.array_equal(results["celeba"], results["places2"])


@pytest.fixture
def two_val_photos():
    """The measurement photos: two in the fetched photo set's validation folder (the test's own cache dir)."""
    val = paths.user_cache_dir() / "photos" / "val"
    val.mkdir(parents=True)
    for i in range(2):
        Image.fromarray(np.roll(make_photo(), 40 * i, axis=1)).save(val / f"val{i}.png")
    return val


def _tick_by_click(qtbot, panel, item):
    """Tick a row the way a user does: a click on its check box."""
    panel.model_list.scrollToItem(item)
    rect = panel.model_list.visualItemRect(item)
    qtbot.mouseClick(panel.model_list.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(rect.left() + 10, rect.center().y()))
    assert item.checkState() == Qt.CheckState.Checked


def test_measure_from_the_app_records_the_numbers_and_the_row_says_how_it_did(two_checkpoints, two_val_photos,
                                                                              window, qtbot, monkeypatch):
    win, panel = window, window.panel
    panel.select_model("telea")
    assert not panel.measure_button.isVisible()  # nothing to measure: no weights
    panel.select_model("deepfill_v2")
    assert panel.measure_button.isVisible()  # its default checkpoint (df-shipped) is not measured yet
    panel.select_checkpoint("places2")
    assert not panel.measure_button.isVisible()  # measured already
    panel.select_checkpoint("celeba")
    assert panel.measure_button.isVisible() and "Not measured yet" in panel.model_status.text()
    assert "celeba" in panel.measure_button.toolTip()

    shown = []
    real = panel.set_progress
    monkeypatch.setattr(panel, "set_progress", lambda f, m: (real(f, m), shown.append(panel.progress.format())))
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=120000, check_params_cb=lambda rid, o: o == "applied"):
        qtbot.mouseClick(panel.measure_button, Qt.MouseButton.LeftButton)
        assert panel.progress.format() == "Measuring deepfill_v2 · celeba…"
        assert not panel.measure_button.isEnabled()  # not offered twice
    assert "Measuring deepfill_v2 · celeba: on 2 validation photos…" in shown  # plain words while it runs

    block = read_metadata(two_checkpoints["celeba"])["measured"]
    assert block["photos"] == "validation photos" and block["count"] == 2
    assert block["l1_hole"] > 0 and block["telea_l1_hole"] > 0
    assert "celeba" in win.statusBar().currentMessage() and "Telea on validation photos" in win.statusBar().currentMessage()
    # The catalogue is re-read: the row's words change, the row stays picked, the button goes.
    qtbot.waitUntil(lambda: "Telea on validation photos" in _rows(panel)["celeba"].text(), timeout=20000)
    assert "not measured yet" not in _rows(panel)["celeba"].text()
    assert panel.current_checkpoint.name == "celeba"
    assert "Telea on validation photos" in panel.model_status.text()
    assert not panel.measure_button.isVisible() and panel.measure_button.isEnabled()
    assert read_metadata(two_checkpoints["df-shipped"]).get("measured") is None  # only the one asked for


def test_a_measurement_can_be_cancelled_and_records_nothing(two_checkpoints, two_val_photos, window, qtbot):
    win, panel = window, window.panel
    panel.select_checkpoint("celeba")
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=60000, check_params_cb=lambda rid, o: o == "cancelled"):
        qtbot.mouseClick(panel.measure_button, Qt.MouseButton.LeftButton)
        assert panel.cancel_button.isEnabled()
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert panel.progress.format() == "cancelled"
    assert "measured" not in read_metadata(two_checkpoints["celeba"])
    assert panel.measure_button.isEnabled() and "not measured yet" in _rows(panel)["celeba"].text()


def test_candidates_the_split_view_and_the_blind_reveal_name_the_checkpoint(two_checkpoints, window, qtbot):
    win, panel = window, window.panel
    paint_hole(win)
    panel.select_checkpoint("places2")
    run_and_wait(qtbot, win, panel.inpaint_button, timeout=60000)
    assert panel.candidates.item(0).text().startswith("deepfill_v2 · places2 ")
    assert panel.candidates.item(0).toolTip().startswith("deepfill_v2 · places2 ")
    panel.select_model("deepfill_v2")  # the method's own row: its default weights, no checkpoint named
    run_and_wait(qtbot, win, panel.inpaint_button, timeout=60000)
    assert [c.model for c in win.document.candidates] == ["deepfill_v2 · places2", "deepfill_v2"]

    qtbot.keyClick(win.canvas, Qt.Key.Key_Backslash, Qt.KeyboardModifier.ControlModifier)  # split view
    assert win.canvas.split_labels == ("before", "after: deepfill_v2")
    panel.candidates.setCurrentRow(0)
    assert win.canvas.split_labels == ("before", "after: deepfill_v2 · places2")
    qtbot.keyClick(win.canvas, Qt.Key.Key_Backslash, Qt.KeyboardModifier.ControlModifier)
    qtbot.mouseClick(panel.discard_button, Qt.MouseButton.LeftButton)

    # Blind A/B of two checkpoints of one method: letters while it runs, their names once one is kept.
    panel.set_ticked(["deepfill_v2 · places2", "deepfill_v2 · celeba"])
    outcomes = []
    win.jobs.jobFinished.connect(lambda rid, o: outcomes.append(o))
    qtbot.keyClick(win.canvas, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: outcomes == ["applied", "applied"], timeout=60000)
    assert [panel.candidates.item(r).text() for r in range(panel.candidates.count())] == ["A", "B"]
    win.menus.split_action.setChecked(True)
    assert win.canvas.split_labels == ("before", "after: A")  # the divider gives nothing away either
    win.menus.split_action.setChecked(False)
    panel.candidates.setCurrentRow(1)
    kept = win.document.candidates[1].model
    other = ({"deepfill_v2 · places2", "deepfill_v2 · celeba"} - {kept}).pop()
    qtbot.mouseClick(panel.accept_button, Qt.MouseButton.LeftButton)
    message = win.statusBar().currentMessage()
    assert f"You kept B: {kept} (the other was {other})" in message


def test_compare_two_checkpoints_of_one_method_gives_one_candidate_each(two_checkpoints, window, qtbot):
    win, panel = window, window.panel
    paint_hole(win)
    rows = _rows(panel)
    for name in ("places2", "celeba"):
        _tick_by_click(qtbot, panel, rows[name])
    assert sorted(p.name for p in panel.ticked_picks()) == ["deepfill_v2 · celeba", "deepfill_v2 · places2"]
    outcomes = []
    win.jobs.jobFinished.connect(lambda rid, o: outcomes.append(o))
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=60000)
    assert outcomes == ["applied", "applied"]
    got = {c.model: c.image for c in win.document.candidates}
    assert set(got) == {"deepfill_v2 · places2", "deepfill_v2 · celeba"}
    image, mask = win.document.image, win.document.binary_mask()
    for name in ("places2", "celeba"):
        manager = ModelManager(device="cpu")
        manager.activate("deepfill_v2", load=True, checkpoint=two_checkpoints[name])
        assert np.array_equal(got[f"deepfill_v2 · {name}"], manager.run(image, mask)), name
    assert not np.array_equal(got["deepfill_v2 · places2"], got["deepfill_v2 · celeba"])


@pytest.fixture
def one_checkpoint():
    """deepfill_v2 with one checkpoint only (the user's): no rows under the method, the method's own row runs it."""
    net = create_network("deepfill_v2_generator", cnum=4).eval()
    return save_checkpoint(paths.user_models_dir() / "mine", "deepfill_v2", {"generator": net}, GEN,
                           {"source": {"file": "mine.pth", "layout": "deepfill_v2_pytorch_finetuned"}})


def test_a_method_row_measures_its_default_checkpoint_unless_the_model_table_did(one_checkpoint, two_val_photos,
                                                                                window, qtbot):
    win, panel = window, window.panel
    assert _rows(panel) == {}
    real = list(win.jobs.models.values())
    # A method the model table measured (the table's rows are of its shipped default) offers no Measure on its row.
    panel.set_models([replace(i, words="measured best for removing boxes") if i.name == "deepfill_v2" else i
                      for i in real], "deepfill_v2")
    assert panel.current_model == "deepfill_v2" and not panel.measure_button.isVisible()
    panel.set_models(real, "deepfill_v2")
    assert "Not measured yet" in panel.model_status.text() and panel.measure_button.isVisible()
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=120000, check_params_cb=lambda rid, o: o == "applied"):
        qtbot.mouseClick(panel.measure_button, Qt.MouseButton.LeftButton)
        assert panel.progress.format() == "Measuring deepfill_v2 · mine…"
    assert read_metadata(one_checkpoint)["measured"]["count"] == 2
    # The method's own row now says how its checkpoint measured.
    qtbot.waitUntil(lambda: "Measured: " in panel.model_status.text(), timeout=20000)
    assert "Telea on validation photos" in panel.model_status.text()
    assert panel.current_model == "deepfill_v2" and not panel.measure_button.isVisible()


def test_the_picked_checkpoint_row_is_picked_again_at_the_next_start(two_checkpoints, window, qtbot):
    from PySide6.QtWidgets import QMessageBox

    from inpaint_studio.ui.main_window import MainWindow

    assert window.panel.select_checkpoint("celeba", "deepfill_v2")
    assert not window.panel.select_checkpoint("celeba", "telea")  # a row of another method is not that checkpoint
    assert window.settings.get("model_checkpoint") == "celeba"
    window.settings.sync()
    again = MainWindow()  # the next start reads the same settings file
    again.documents.ask_unsaved = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(again)
    again.start_background()
    qtbot.waitUntil(lambda: "deepfill_v2" in again.jobs.models, timeout=30000)
    assert again.panel.current_model == "deepfill_v2"
    assert again.panel.current_checkpoint.name == "celeba"
    assert again.panel.current_pick.checkpoint == two_checkpoints["celeba"]
    again.panel.select_model("telea")  # a method row forgets the checkpoint
    assert again.settings.get("model_checkpoint") == "" and again.settings.get("model") == "telea"
    again.jobs.requests.cancel_all()
