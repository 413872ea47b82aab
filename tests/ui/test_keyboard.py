"""Every documented shortcut, pressed with real key events from each place focus can be in the window.

Jobs the keys start are recorded instead of run (the engine flow tests run them): the effect asserted here is
that the key reached its action, wherever focus was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QShortcut
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from inpaint_studio.ui.model.document import Candidate
from inpaint_studio.ui.tools import TOOL_SPECS, Tool

from .qt_helpers import at, drag

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
NONE = Qt.KeyboardModifier.NoModifier
K = Qt.Key


@dataclass
class Press:
    name: str
    key: Qt.Key
    mods: Qt.KeyboardModifier
    prepare: Callable
    check: Callable  # (win, ctx) -> bool


def _mask_box(win):
    mask = np.zeros_like(win.document.mask)
    mask[40:70, 50:100] = 255
    win.documents.replace("mask", mask, "test mask")


def _candidate(win):
    doc = win.document
    doc.add_candidate(Candidate("test_fast", np.full_like(doc.image, 7), 0.1, 0, "test_fast"))
    win.jobs.show_candidates(len(doc.candidates) - 1)


def _jobs(kind):
    return lambda win, ctx: any(j.kind == kind for j in ctx["jobs"])


def _tool(tool, before=Tool.PAN):
    shortcut = TOOL_SPECS[tool].shortcut  # "B" or "Shift+G"
    key = getattr(K, f"Key_{shortcut[-1]}")
    return Press(shortcut, key, SHIFT if shortcut.startswith("Shift+") else NONE,
                 lambda win, ctx: win.menus.set_tool(before), lambda win, ctx: win.canvas.tool == tool)


def _remember(**values):
    def prepare(win, ctx):
        for key, fn in values.items():
            ctx[key] = fn(win)
    return prepare


def _set_zoom(z):
    return lambda win, ctx: (win.canvas.set_zoom(z), ctx.update(zoom=z))


def _undo_ready(win, ctx):
    _mask_box(win)
    ctx["index"] = win.undo_stack.index()


def _redo_ready(win, ctx):
    _undo_ready(win, ctx)
    win.undo_stack.undo()
    ctx["index"] = win.undo_stack.index()


def _in_flight(win, ctx):
    _mask_box(win)
    win.jobs.inpaint()


SHORTCUTS = [
    *(_tool(t) for t in Tool if t != Tool.PAN), _tool(Tool.PAN, Tool.BRUSH),
    Press("[", K.Key_BracketLeft, NONE, _remember(size=lambda w: w.canvas.brush_size),
          lambda w, c: w.canvas.brush_size < c["size"] and w.menus.size_spin.value() == w.canvas.brush_size),
    Press("]", K.Key_BracketRight, NONE, _remember(size=lambda w: w.canvas.brush_size),
          lambda w, c: w.canvas.brush_size > c["size"]),
    Press("Ctrl+1", K.Key_1, CTRL, _set_zoom(3.0), lambda w, c: abs(w.canvas.zoom - 1.0) < 1e-6),
    Press("Ctrl+0", K.Key_0, CTRL, _set_zoom(30.0), lambda w, c: w.canvas.zoom < 30.0),
    Press("Ctrl++", K.Key_Plus, CTRL, _set_zoom(1.0), lambda w, c: w.canvas.zoom > 1.0),
    Press("Ctrl+-", K.Key_Minus, CTRL, _set_zoom(1.0), lambda w, c: w.canvas.zoom < 1.0),
    Press("Ctrl+H", K.Key_H, CTRL, _remember(visible=lambda w: w.canvas.mask_visible),
          lambda w, c: w.canvas.mask_visible != c["visible"]),
    Press("Ctrl+Shift+H", K.Key_H, CTRL | SHIFT, _remember(visible=lambda w: w.canvas.edges_visible),
          lambda w, c: w.canvas.edges_visible != c["visible"]),
    Press("Ctrl+\\", K.Key_Backslash, CTRL, lambda w, c: w.menus.split_action.setChecked(False),
          lambda w, c: w.canvas.split_x is not None and w.canvas.result_visible),
    Press("Ctrl+Z", K.Key_Z, CTRL, _undo_ready, lambda w, c: w.undo_stack.index() == c["index"] - 1),
    Press("Ctrl+Shift+Z", K.Key_Z, CTRL | SHIFT, _redo_ready, lambda w, c: w.undo_stack.index() == c["index"] + 1),
    Press("Ctrl+Y", K.Key_Y, CTRL, _redo_ready, lambda w, c: w.undo_stack.index() == c["index"] + 1),
    Press("Ctrl+Shift+X", K.Key_X, CTRL | SHIFT, lambda w, c: _mask_box(w), lambda w, c: not w.document.mask.any()),
    Press("Ctrl+I", K.Key_I, CTRL, lambda w, c: _mask_box(w), lambda w, c: w.document.mask[0, 0] == 255),
    Press("Ctrl+]", K.Key_BracketRight, CTRL, lambda w, c: _mask_box(w),
          lambda w, c: int((w.document.mask > 0).sum()) > 30 * 50),
    Press("Ctrl+[", K.Key_BracketLeft, CTRL, lambda w, c: _mask_box(w),
          lambda w, c: 0 < int((w.document.mask > 0).sum()) < 30 * 50),
    Press("Ctrl+Shift+E", K.Key_E, CTRL | SHIFT, lambda w, c: w.document.edges.__setitem__((5, 5), 255),
          lambda w, c: not w.document.edges.any()),
    Press("Ctrl+Return", K.Key_Return, CTRL, lambda w, c: _mask_box(w), _jobs("inpaint")),
    Press("Ctrl+Shift+Return", K.Key_Return, CTRL | SHIFT, lambda w, c: _mask_box(w),
          lambda w, c: any(j.slot.startswith("compare:") for j in c["jobs"])),
    Press("Ctrl+Shift+B", K.Key_B, CTRL | SHIFT, lambda w, c: (_mask_box(w), w.panel.set_ticked(["telea", "test_fast"])),
          lambda w, c: w.jobs.blind.round is not None and sum(j.slot.startswith("compare:") for j in c["jobs"]) == 2),
    Press("Ctrl+M", K.Key_M, CTRL, lambda w, c: None, _jobs("predict_mask")),
    Press("Ctrl+R", K.Key_R, CTRL, lambda w, c: None, lambda w, c: any(j.slot == "restore" for j in c["jobs"])),
    Press("Ctrl+E", K.Key_E, CTRL, lambda w, c: _mask_box(w), _jobs("predict_edges")),
    Press("Esc", K.Key_Escape, NONE, _in_flight, lambda w, c: w.panel.progress.format() == "cancelled"
          and all(ev.is_set() for ev in w.jobs.requests._cancel_events.values())),
    Press("Ctrl+Shift+A", K.Key_A, CTRL | SHIFT, lambda w, c: _candidate(w),
          lambda w, c: (w.document.image == 7).all() and not w.document.candidates),
    Press("Ctrl+Shift+D", K.Key_D, CTRL | SHIFT, lambda w, c: _candidate(w), lambda w, c: not w.document.candidates),
    Press("Ctrl+O", K.Key_O, CTRL, lambda w, c: None, lambda w, c: "open" in c["dialogs"]),
    Press("Ctrl+S", K.Key_S, CTRL, lambda w, c: None, lambda w, c: "question" in c["dialogs"]),
    Press("Ctrl+Shift+S", K.Key_S, CTRL | SHIFT, lambda w, c: None, lambda w, c: "save" in c["dialogs"]),
    Press("Ctrl+V", K.Key_V, CTRL, lambda w, c: QApplication.clipboard().setText("no image here"),
          lambda w, c: "clipboard holds no image" in w.last_error),
]

FOCUS = {
    "canvas": lambda win: win.canvas,
    "model list": lambda win: win.panel.model_list,
    "option field": lambda win: win.panel.option_widgets["radius"][1],
    "candidate strip": lambda win: win.panel.candidates,
    "size field": lambda win: win.menus.size_spin,
}


@pytest.fixture
def keyed(window, qtbot, monkeypatch):
    """The window with telea current (it has an option field), jobs and dialogs recorded, not run."""
    ctx: dict = {"jobs": [], "dialogs": []}
    monkeypatch.setattr(window.engine, "submit", lambda job: ctx["jobs"].append(job))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (ctx["dialogs"].append("open"), ("", ""))[1])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (ctx["dialogs"].append("save"), ("", ""))[1])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: (ctx["dialogs"].append("question"),
                                                                  QMessageBox.StandardButton.Cancel)[1])
    window.panel.select_model("telea")
    window.activateWindow()
    return window, ctx


def _focus(qtbot, widget):
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=2000)


@pytest.mark.parametrize("where", list(FOCUS))
def test_every_shortcut_works_from_every_focus_position(keyed, qtbot, where):
    win, ctx = keyed
    failed = []
    for press in SHORTCUTS:
        ctx["jobs"].clear()
        ctx["dialogs"].clear()
        win.jobs.requests.cancel_all()
        win.jobs.running.clear()
        win.last_error = ""
        _candidate(win)  # the strip has thumbnails to focus
        press.prepare(win, ctx)
        target = FOCUS[where](win)
        _focus(qtbot, target)
        qtbot.keyClick(target, press.key, press.mods)
        if not press.check(win, ctx):
            failed.append(press.name)
        win.menus.discard_results()
        win.menus.split_action.setChecked(False)
    assert failed == []


@pytest.mark.parametrize("where", list(FOCUS))
def test_holding_backslash_shows_the_image_before_from_every_focus_position(keyed, qtbot, where):
    win, _ = keyed
    _candidate(win)
    target = FOCUS[where](win)
    _focus(qtbot, target)
    assert win.canvas.result_visible
    qtbot.keyPress(target, K.Key_Backslash)
    assert not win.canvas.result_visible
    qtbot.keyRelease(target, K.Key_Backslash)
    assert win.canvas.result_visible
    assert win.document.candidates  # a list view's type-ahead did not act on it either


def test_no_key_is_bound_twice(window):
    """One key on two actions (or twice on one) is an "ambiguous shortcut overload": neither fires."""
    seen: list[str] = []
    for obj in window.findChildren(QAction) + window.findChildren(QShortcut):
        keys = obj.shortcuts() if isinstance(obj, QAction) else obj.keys()
        seen += [k.toString() for k in keys if not k.isEmpty()]
    assert len(seen) > 30 and sorted(seen) == sorted(set(seen))


def test_after_accept_and_discard_by_mouse_the_keys_still_reach_the_canvas(keyed, qtbot):
    win, _ = keyed
    for button in (win.panel.accept_button, win.panel.discard_button):
        _candidate(win)
        _focus(qtbot, win.canvas)
        win.menus.set_tool(Tool.BRUSH)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert QApplication.focusWidget() is win.canvas
        qtbot.keyClick(QApplication.focusWidget(), K.Key_E)
        assert win.canvas.tool == Tool.ERASER


def test_typing_a_brush_size_still_works(keyed, qtbot):
    win, _ = keyed
    _focus(qtbot, win.menus.size_spin)
    win.menus.size_spin.selectAll()
    qtbot.keyClicks(win.menus.size_spin, "25")
    qtbot.keyClick(win.menus.size_spin, K.Key_Return)
    assert win.menus.size_spin.value() == 25 and win.canvas.brush_size == 25
    drag(win.canvas, [at(win.canvas, 40, 30), at(win.canvas, 41, 30)])
    assert win.document.mask.any()


def test_key_sequences_in_the_readme_exist():
    """The README's keys are the ones bound (a renamed key must be documented)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for press in SHORTCUTS:
        assert f"`{press.name}`" in text, press.name


def test_after_save_the_keys_go_back_to_the_canvas(keyed, qtbot):
    win, ctx = keyed
    _focus(qtbot, win.menus.size_spin)
    qtbot.keyClick(win.menus.size_spin, K.Key_S, CTRL)
    assert "question" in ctx["dialogs"] and QApplication.focusWidget() is win.canvas
    win.menus.set_tool(Tool.BRUSH)
    qtbot.keyClick(QApplication.focusWidget(), K.Key_E)
    assert win.canvas.tool == Tool.ERASER
