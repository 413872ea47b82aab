"""A steady panel at 1440×900 (buttons never below the fold, every model listed, several candidates in view),
plain words, an honest progress bar, and the small things: edge overlay, empty-state hint, asking before
results are dropped."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from inpaint_studio.ui.model.document import Candidate

from .conftest import SlowFill
from .qt_helpers import at, drag


def fully_visible(widget) -> bool:
    """On screen and not clipped by a scroll area or the window's edge."""
    return widget.isVisible() and widget.visibleRegion().boundingRect().size() == widget.size()


def test_buttons_stay_in_view_and_the_model_list_has_room_at_1440x900(window, qtbot):
    from PySide6.QtWidgets import QApplication

    from inpaint_studio.core.paths import RESOURCES_DIR

    # The app's own style sheet (its paddings decide how many rows fit), whichever test ran before.
    QApplication.instance().setStyleSheet((RESOURCES_DIR / "styles" / "dark.qss").read_text(encoding="utf-8"))
    win, panel = window, window.panel
    win.resize(1440, 900)
    qtbot.waitUntil(lambda: win.width() == 1440 and win.height() == 900, timeout=3000)
    qtbot.wait(50)  # the layout settles
    names = [panel.model_list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(panel.model_list.count())]
    assert len(names) >= 9
    assert "vcnet" in names and len(win.jobs.models["vcnet"].options) >= 5  # the model with most options
    places = set()
    for name in names:
        panel.select_model(name)
        qtbot.wait(10)
        for button in (panel.inpaint_button, panel.accept_button, panel.discard_button):
            assert fully_visible(button), (name, button.text())
        assert fully_visible(panel.model_list), name
        rect = panel.model_list.viewport().rect()
        rows = [panel.model_list.visualItemRect(panel.model_list.item(r)) for r in range(panel.model_list.count())]
        shown = sum(r.top() >= rect.top() and r.bottom() <= rect.bottom() for r in rows)
        assert shown >= min(len(names), 10), (name, shown)  # 3 of 9 was the complaint: at least 10 in view
        places.add(panel.accept_button.mapTo(win, panel.accept_button.rect().topLeft()).y())
    assert len(places) == 1  # the panel does not re-flow from one model to the next


def test_the_candidate_strip_shows_more_than_two(window, qtbot):
    win, doc = window, window.document
    win.resize(1440, 900)
    qtbot.waitUntil(lambda: win.width() == 1440, timeout=3000)
    for i in range(6):
        doc.add_candidate(Candidate("test_fast", np.full_like(doc.image, 20 * i), 0.1, 0, f"test_fast {i}"))
    win.jobs.show_candidates(0)
    strip = win.panel.candidates
    shown = [r for r in range(strip.count()) if strip.viewport().rect().contains(strip.visualItemRect(strip.item(r)))]
    assert len(shown) >= 4


def test_model_list_speaks_plain_words(window):
    panel = window.panel
    texts = {panel.model_list.item(r).data(Qt.ItemDataRole.UserRole): panel.model_list.item(r).text()
             for r in range(panel.model_list.count())}
    assert texts["telea"] == "telea — ready"
    assert not any("shipped" in t or "\n" in t for t in texts.values())
    assert texts["test_missing"].startswith("test_missing — weights missing")


def test_progress_names_the_run_and_cancelled_stays_until_the_next_run(window, qtbot):
    win, panel = window, window.panel
    SlowFill.delay = 3.0
    win.menus.set_tool(win.canvas.tool)
    win.canvas.set_brush_size(12)
    drag(win.canvas, [at(win.canvas, 40, 30), at(win.canvas, 70, 35)])
    panel.select_model("test_slow")
    qtbot.mouseClick(panel.inpaint_button, Qt.MouseButton.LeftButton)
    assert panel.progress.format() == "Inpainting with test_slow…"
    panel.set_progress(0.0, "original")  # what core.hd reports first: a setting's name, no percentage yet
    assert panel.progress.format() == "Inpainting with test_slow: whole image…"
    panel.set_progress(0.4, "running test_slow")
    assert panel.progress.format() == "Inpainting with test_slow: running test_slow %p%"
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=10000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.wait(300)
    assert panel.progress.format() == "cancelled"  # not overwritten by "idle" when the job winds down
    panel.select_model("test_fast")
    with qtbot.waitSignal(win.jobs.jobFinished, timeout=10000):
        qtbot.mouseClick(panel.inpaint_button, Qt.MouseButton.LeftButton)
    assert panel.progress.format().startswith("done in")


def test_esc_with_nothing_running_announces_nothing(window, qtbot):
    window.panel.set_busy(False, "done in 0.10 s")
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)
    assert window.panel.progress.format() == "done in 0.10 s"


def test_edge_overlay_toggle_and_hidden_overlays_do_not_carry_to_the_next_photo(window, photo_path):
    win = window
    win.menus.edges_action.trigger()
    assert not win.canvas.edges_visible
    win.menus.mask_action.trigger()  # Ctrl+H
    assert not win.canvas.mask_visible
    assert win.documents.open_path(photo_path)
    assert win.canvas.mask_visible and win.canvas.edges_visible
    assert win.menus.mask_action.isChecked() and win.menus.edges_action.isChecked()


def test_empty_state_hint_until_a_photo_opens(qtbot, monkeypatch, fake_methods, photo_path):
    monkeypatch.setenv("INPAINT_STUDIO_NO_DIALOGS", "1")
    from inpaint_studio.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    hint = win.canvas.empty_hint
    assert hint.isVisible() and "Open" in hint.text() and "paste" in hint.text()
    assert win.documents.open_path(photo_path)
    assert not hint.isVisible()
    win.shutdown()


def test_asks_before_dropping_results_not_accepted(window, photo_path):
    win, doc = window, window.document
    doc.add_candidate(Candidate("test_fast", np.zeros_like(doc.image), 0.1, 0, "x"))
    asked = []
    win.documents.ask_drop_candidates = lambda n: asked.append(n) or False
    assert not win.documents.open_path(photo_path)
    assert asked == [1] and win.document is doc and doc.candidates  # stayed, nothing lost
    win.documents.ask_drop_candidates = lambda n: True
    assert win.documents.open_path(photo_path) and win.document is not doc


def test_inpaint_with_my_edges_is_offered_only_for_edge_aware_models(window):
    panel = window.panel
    panel.select_model("test_edges")
    assert panel.use_edges.isVisibleTo(panel)
    panel.select_model("telea")
    assert not panel.use_edges.isVisibleTo(panel)
