"""Keys that work wherever focus is in the window.

Two things steal keys from the window's shortcuts: a spin box accepts every printable key as text it might
type (so `E` or `[` in the brush Size field did nothing), and a list view uses printable keys to search its
items (so holding `\\` over a candidate thumbnail did nothing). `SpinKeyFilter` lets non-numeric keys through
to the shortcuts; `HoldKeyFilter` sees the hold-to-compare key before any widget of the window does."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QWidget

# What a number field needs to keep; every other printable key belongs to the window's shortcuts.
_NUMERIC = set("0123456789.,-")
_WINDOW_KEYS = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo, QKeySequence.StandardKey.Paste)


def shortcut_list(*keys: QKeySequence | QKeySequence.StandardKey | str) -> list[QKeySequence]:
    """The union of standard and explicit key sequences, each once: the same key registered twice on one
    action is an "ambiguous shortcut overload" and fires nothing (Ctrl+Shift+Z is already Redo on X11)."""
    out: list[QKeySequence] = []
    for key in keys:
        seqs = QKeySequence.keyBindings(key) if isinstance(key, QKeySequence.StandardKey) else [QKeySequence(key)]
        for seq in seqs:
            if not seq.isEmpty() and seq not in out:
                out.append(seq)
    return out


class SpinKeyFilter(QObject):
    """On a spin box: letters and brackets go to the shortcuts instead of being swallowed as typing."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            text = event.text()
            plain = not event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
            typed = plain and len(text) == 1 and text.isprintable() and text not in _NUMERIC
            # A number field's own undo/paste are worth less than the document's: Ctrl+Z undoes the last stroke.
            if typed or any(event.matches(k) for k in _WINDOW_KEYS):
                event.ignore()  # not accepted: the shortcut map may use the key
                return True
        return False

    def watch(self, spins: Iterable[QAbstractSpinBox]) -> None:
        for spin in spins:
            spin.installEventFilter(self)
            spin.lineEdit().installEventFilter(self)


class HoldKeyFilter(QObject):
    """An application-wide filter for one held key inside `window`: `on_change(True)` on press, False on
    release. Plain text fields keep the key (someone may be typing it)."""

    def __init__(self, window: QWidget, key: Qt.Key, on_change: Callable[[bool], None]) -> None:
        super().__init__(window)
        self._window = window
        self._key = key
        self._on_change = on_change
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # removed automatically when this object is destroyed

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) or not isinstance(event, QKeyEvent):
            return False
        if event.key() != self._key or not isinstance(watched, QWidget) or watched.window() is not self._window:
            return False
        if event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False  # Ctrl+key is a shortcut of its own (Ctrl+\ toggles the split view)
        if isinstance(watched, QLineEdit) and not isinstance(watched.parent(), QAbstractSpinBox):
            return False
        if not event.isAutoRepeat():
            self._on_change(kind == QEvent.Type.KeyPress)
        return True
