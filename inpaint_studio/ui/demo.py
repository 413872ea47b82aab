"""Scripted sessions for screenshots (INPAINT_STUDIO_DEMO=object-removal|restore|edges|select|correct-restore).

Each demo drives the real window the way a user would — strokes through the document's stroke API and
the undo stack, actions through the same methods the buttons call — so a screenshot shows real output."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QTimer

from inpaint_studio.core.masks import is_hole
from inpaint_studio.ui.main_window import MainWindow
from inpaint_studio.ui.tools import Tool

# The space-shuttle model in resources/samples/astronaut.png (512×512), traced with the lasso.
SHUTTLE_CLICKS = [(395.0, 150.0), (392.0, 100.0), (447.0, 100.0), (447.0, 200.0), (365.0, 215.0)]
SHUTTLE = [(372, 0), (452, 0), (458, 170), (470, 205), (468, 268), (352, 268), (350, 215), (370, 175)]


def _when(condition: Callable[[], bool], then: Callable[[], None], every_ms: int = 100) -> None:
    def poll() -> None:
        if condition():
            then()
        else:
            QTimer.singleShot(every_ms, poll)

    poll()


def _idle(win: MainWindow) -> bool:
    return not win.jobs.busy()


def _lasso(win: MainWindow, points: list[tuple[float, float]]) -> None:
    doc = win.document
    assert doc is not None
    doc.begin_stroke("mask")
    doc.stroke_polygon(points)
    win.documents.push_patch(doc.end_stroke("Lasso fill"))


def object_removal(win: MainWindow) -> None:
    doc = win.document
    if doc is None:
        return
    h, w = doc.shape
    if (h, w) == (512, 512):
        _lasso(win, SHUTTLE)
    else:
        _lasso(win, [(w * 0.4, h * 0.4), (w * 0.6, h * 0.4), (w * 0.6, h * 0.6), (w * 0.4, h * 0.6)])
    win.menus.set_tool(Tool.LASSO)
    win.panel.set_ticked(["telea", "fsr_fast"])
    win.jobs.compare_models()

    def show() -> None:
        win.panel.candidates.setCurrentRow(0)
        win.menus.mask_action.setChecked(False)  # show the fill itself; the mask is still there to edit
        win.menus.split_action.setChecked(True)  # the split view: before left of the divider, the fill right of it
        win.canvas.move_split(w * 0.8)
        win.statusBar().showMessage("Object removal: shuttle lassoed, Telea and FSR compared; split view "
                                    "(Ctrl+\\): drag the divider between before and after", 60000)

    QTimer.singleShot(300, lambda: _when(lambda: _idle(win) and len(doc.candidates) >= 2, show))


def restore(win: MainWindow) -> None:
    from inpaint_studio.core.synthesis import synthesize_damage

    doc = win.document
    if doc is None:
        return
    damaged = synthesize_damage(doc.image, np.random.default_rng(7), "scratch").image
    win.documents.open_array(damaged)
    # The shipped VCNet (its mask network ∪ the classical detector, Telea fill) finds the long forehead
    # scratch the classical detector alone leaves; without its checkpoint the row is absent and the
    # classical detector stays selected.
    win.panel.select_model("classical_restore")
    win.panel.select_model("vcnet")
    win.menus.set_tool(Tool.LASSO)  # nothing to brush here: no brush ring over the photo
    win.statusBar().showMessage("Restore: damage detected automatically (Auto mask), then one-click Restore", 60000)
    win.jobs.auto_mask()

    def then_restore() -> None:
        win.jobs.restore()
        # Once restored, hide the mask overlay so the repaired pixels show (the detected mask stays editable).
        QTimer.singleShot(300, lambda: _when(lambda: _idle(win) and win.document is not None
                                             and bool(win.document.candidates), lambda: win.menus.mask_action.setChecked(False)))

    QTimer.singleShot(300, lambda: _when(lambda: _idle(win), then_restore))


def edges(win: MainWindow) -> None:
    doc = win.document
    if doc is None:
        return
    h, w = doc.shape
    # A hole across the astronaut's shoulder line; the user sketches where the contour should run.
    y0, y1, x0, x1 = int(h * 0.50), int(h * 0.66), int(w * 0.62), int(w * 0.80)
    doc.begin_stroke("mask")
    doc.stroke_rect((x0, y0), (x1, y1))
    win.documents.push_patch(doc.end_stroke("Rectangle fill"))
    doc.begin_stroke("edges")
    # Where the suit's outline should continue through the hole (it meets the dark backdrop there).
    pts = [(x0 + 26.5, y0 - 16.5), (x0 + 35.5, y0 + 34.5), (x0 + 49.5, y1 + 12.5)]
    for a, b in zip(pts, pts[1:], strict=False):
        doc.stroke_segment(a, b, 1.0)
    win.documents.push_patch(doc.end_stroke("Edge pen"))
    win.menus.set_tool(Tool.EDGE_PEN)
    win.panel.select_model("edgeconnect")
    info = win.jobs.models.get("edgeconnect")
    if info is not None and info.available:
        win.jobs.predict_edges()
        QTimer.singleShot(300, lambda: _when(lambda: _idle(win), win.jobs.inpaint))
    else:
        win.statusBar().showMessage("Edge-guided: hole + sketched edges; EdgeConnect needs weights (Models ▸ Import…)", 60000)
    win.canvas.set_zoom(3.0)
    win.canvas.centerOn((x0 + x1) / 2, (y0 + y1) / 2)


def select(win: MainWindow) -> None:
    """Select-object tool: a box dragged round the shuttle model, then clicks adding the white parts it missed
    (white on a pale backdrop: colour alone cannot tell them apart)."""
    doc = win.document
    if doc is None:
        return
    h, w = doc.shape
    win.menus.set_tool(Tool.SELECT_OBJECT)
    if (h, w) == (512, 512):
        win.selection.on_select_gesture("box", (348.0, 0.0, 474.0, 270.0), False)
        for click in SHUTTLE_CLICKS:
            win.selection.on_select_gesture("click", click, False)
    else:
        win.selection.on_select_gesture("box", (w * 0.3, h * 0.3, w * 0.7, h * 0.7), False)
    win.panel.select_model("navier_stokes")
    win.jobs.inpaint()

    def show() -> None:
        win.panel.candidates.setCurrentRow(0)
        win.canvas.show_result(None)  # the selection itself, over the photo; the fill waits in the strip
        win.statusBar().showMessage("Select object (S): a box round the shuttle and five clicks on the white parts "
                                    "it missed — an ordinary mask, one undo step per gesture", 60000)

    QTimer.singleShot(300, lambda: _when(lambda: _idle(win) and bool(doc.candidates), show))


def correct_restore(win: MainWindow) -> None:
    """Auto mask, the user's corrections (false alarms erased, misses painted), then Restore fills their mask."""
    from inpaint_studio.core.masks import grow_mask
    from inpaint_studio.core.synthesis import synthesize_damage

    doc = win.document
    if doc is None:
        return
    damage = synthesize_damage(doc.image, np.random.default_rng(7), "scratch")
    win.documents.open_array(damage.image)
    win.panel.select_model("classical_restore")
    win.panel.select_model("vcnet")
    win.menus.set_tool(Tool.LASSO)  # no brush ring over the photo in the screenshot
    win.jobs.auto_mask()

    def correct_then_restore() -> None:
        d = win.document
        if d is None:
            return
        truth = is_hole(damage.mask)
        found = d.binary_mask() > 0
        # What a user does with the eraser and the brush: drop detections away from any scratch, paint misses.
        kept = found & (grow_mask(damage.mask, 1) > 0)
        corrected = np.where(kept | truth, 255, 0).astype(np.uint8)
        win.documents.replace("mask", corrected, "Brush and eraser corrections")
        win.jobs.restore()
        win.canvas.fit_to_window()
        win.statusBar().showMessage(
            f"Correct, then restore: Auto mask found {int(found.sum())} px; erased {int((found & ~kept).sum())} "
            f"false-alarm px, painted {int((truth & ~found).sum())} missed px; Restore mask filled that mask", 60000)

    QTimer.singleShot(300, lambda: _when(lambda: _idle(win), correct_then_restore))


DEMOS = {"object-removal": object_removal, "restore": restore, "edges": edges, "select": select,
         "correct-restore": correct_restore}


def run_demo(win: MainWindow, name: str) -> None:
    """Wait for the model list and the image, then run the named demo."""
    demo = DEMOS.get(name)
    if demo is None:
        win.feedback.error(f"unknown demo '{name}' (choose from {', '.join(DEMOS)})")
        return
    _when(lambda: bool(win.jobs.models) and win.document is not None, lambda: demo(win))
