"""Blind A/B: two ticked models, their fills shown as A and B only, the pick tallied per pair of methods."""

from __future__ import annotations

import random

from PySide6.QtCore import Qt

from inpaint_studio.ui.model.blind_ab import Round, Tally
from inpaint_studio.ui.settings import Settings

from .qt_helpers import at, drag, wait_idle


def test_round_letters_are_drawn_at_random_and_the_tally_round_trips():
    draws = {tuple(sorted(Round.draw("telea", "fsr_fast", random.Random(seed)).letters.items())) for seed in range(20)}
    assert len(draws) == 2  # either method can be A
    tally = Tally()
    tally.record("telea", "fsr_fast")
    tally.record("telea", "fsr_fast")
    tally.record("fsr_fast", "telea")
    again = Tally.from_json(tally.to_json())
    assert again.summary("telea", "fsr_fast") == "telea 2 : 1 fsr_fast"
    assert again.summary("fsr_fast", "telea") == "fsr_fast 1 : 2 telea"
    assert Tally.from_json("not json").pairs == {} and Tally.from_json("[1]").pairs == {}


def test_blind_ab_hides_the_names_and_tallies_the_pick(window, qtbot):
    win, doc, panel = window, window.document, window.panel
    win.canvas.set_brush_size(12)
    drag(win.canvas, [at(win.canvas, 40, 30), at(win.canvas, 70, 35)])
    panel.set_ticked(["telea", "test_fast"])
    outcomes = []
    win.jobs.jobFinished.connect(lambda rid, o: outcomes.append(o))
    qtbot.keyClick(win.canvas, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert panel.progress.format() == "Filling A and B…"
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=20000)
    wait_idle(qtbot, win)
    strip = [panel.candidates.item(r) for r in range(panel.candidates.count())]
    assert [i.text() for i in strip] == ["A", "B"] and [i.toolTip() for i in strip] == ["A", "B"]
    assert "telea" not in panel.progress.format() and "test_fast" not in panel.progress.format()
    panel.candidates.setCurrentRow(1)
    kept = doc.candidates[1].method
    other = ({"telea", "test_fast"} - {kept}).pop()
    qtbot.mouseClick(panel.accept_button, Qt.MouseButton.LeftButton)
    message = win.statusBar().currentMessage()
    assert f"You kept B: {kept}" in message and f"the other was {other}" in message
    tally = Tally.from_json(Settings().get("blind_ab_tally"))
    assert tally.summary(kept, other) == f"{kept} 1 : 0 {other}"  # kept in the settings, for next time


def test_blind_ab_needs_two_ticked_models_and_discard_scores_nothing(window, qtbot):
    win = window
    win.panel.set_ticked(["telea"])
    assert win.jobs.blind_ab() == [] and "tick exactly two" in win.last_error
    win.canvas.set_brush_size(12)
    drag(win.canvas, [at(win.canvas, 40, 30), at(win.canvas, 70, 35)])
    win.panel.set_ticked(["telea", "test_fast"])
    assert len(win.jobs.blind_ab()) == 2
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: len(win.document.candidates) == 2, timeout=20000)
    win.menus.discard_results()
    assert Tally.from_json(Settings().get("blind_ab_tally")).pairs == {}
    assert win.jobs.blind.round is None
