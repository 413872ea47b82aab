"""The window's controllers rely on no undeclared attribute: every `self.X` a class reads is a method or class
attribute of its own, assigned by the class itself (its collaborators come in through its constructor), or
inherited from Qt. A mixin reading attributes that only the window sets is caught (shown on a planted one)."""

from __future__ import annotations

import ast
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow

UI = Path(__file__).resolve().parents[2] / "inpaint_studio" / "ui"
QT_BASES: dict[str, type] = {"QObject": QObject, "QMainWindow": QMainWindow}


def _self_attributes(cls: ast.ClassDef, ctx: type) -> set[str]:
    return {node.attr for node in ast.walk(cls) if isinstance(node, ast.Attribute) and isinstance(node.ctx, ctx)
            and isinstance(node.value, ast.Name) and node.value.id == "self"}


def undeclared(source: str) -> list[str]:
    """`Class.attr` for every attribute a class reads from self without declaring it."""
    found = []
    for cls in (n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)):
        declared = _self_attributes(cls, ast.Store)
        for node in cls.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                declared.add(node.name)
            elif isinstance(node, ast.Assign):
                declared |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                declared.add(node.target.id)
        qt = [QT_BASES[b.id] for b in cls.bases if isinstance(b, ast.Name) and b.id in QT_BASES]
        found += [f"{cls.name}.{name}" for name in _self_attributes(cls, ast.Load) - declared
                  if not any(hasattr(base, name) for base in qt)]
    return sorted(found)


def test_window_and_controllers_declare_what_they_use():
    files = [UI / "main_window.py", *sorted((UI / "controllers").glob("*.py"))]
    assert len(files) >= 6
    bad = {f.name: undeclared(f.read_text(encoding="utf-8")) for f in files}
    assert {name: attrs for name, attrs in bad.items() if attrs} == {}


def test_a_mixin_relying_on_the_window_is_caught():
    planted = (
        "class SaveActions:\n"
        "    def save(self):\n"
        "        self.settings.sync()\n"  # set by the window, not by this class
        "        self.helper()\n"
        "    def helper(self):\n"
        "        self.count = 1\n"
        "        return self.count\n"
        "class Window(QMainWindow):\n"
        "    def f(self):\n"
        "        return self.statusBar(), self.missing\n"
    )
    assert undeclared(planted) == ["SaveActions.settings", "Window.missing"]
