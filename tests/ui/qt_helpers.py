"""Helpers for driving the real canvas: QMouseEvents delivered to the viewport, scene coordinates."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


def send_mouse(view, kind: str, pos: QPoint, button=Qt.MouseButton.LeftButton, modifiers=Qt.KeyboardModifier.NoModifier):
    """Deliver a real QMouseEvent to the canvas viewport (what a user's pointer produces)."""
    types = {"press": QMouseEvent.Type.MouseButtonPress, "move": QMouseEvent.Type.MouseMove,
             "release": QMouseEvent.Type.MouseButtonRelease}
    vp = view.viewport()
    buttons = Qt.MouseButton.NoButton if kind == "release" else button
    ev = QMouseEvent(types[kind], QPointF(pos), QPointF(vp.mapToGlobal(pos)),
                     Qt.MouseButton.NoButton if kind == "move" else button, buttons, modifiers)
    QApplication.sendEvent(vp, ev)


def drag(view, points: list[QPoint], button=Qt.MouseButton.LeftButton, modifiers=Qt.KeyboardModifier.NoModifier):
    send_mouse(view, "press", points[0], button, modifiers)
    for p in points[1:]:
        send_mouse(view, "move", p, button, modifiers)
    send_mouse(view, "release", points[-1], button, modifiers)


def scene_xy(view, pos: QPoint) -> tuple[float, float]:
    p = view.mapToScene(pos)
    return p.x(), p.y()


def wait_idle(qtbot, win, timeout=15000):
    qtbot.waitUntil(lambda: not win.jobs.busy(), timeout=timeout)




def at(view, x: float, y: float) -> QPoint:
    """The viewport pixel that shows scene point (x, y)."""
    return view.mapFromScene(QPointF(x, y))
