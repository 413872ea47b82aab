"""Dependencies point one way: core ← networks ← engine ← ui; trainer imports engine/networks/core;
nothing imports trainer. Checked on the import statements of every source file."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


QT = ("PySide6", "PyQt5", "PyQt6", "qtawesome", "shiboken6")
TORCH = ("torch", "torchvision")


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in _files(package):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    return bad


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("inpaint_studio/core", QT + TORCH + ("inpaint_studio.engine", "inpaint_studio.networks", "inpaint_studio.ui", "trainer")),
        ("inpaint_studio/networks", QT + ("inpaint_studio.engine", "inpaint_studio.ui", "inpaint_studio.cli", "trainer")),
        ("inpaint_studio/engine", QT + ("inpaint_studio.ui", "inpaint_studio.cli", "trainer")),
        ("inpaint_studio/ui", ("trainer",)),
        ("trainer", ("inpaint_studio.ui", "PySide6.QtWidgets", "PySide6.QtGui", "qtawesome")),
        ("benchmarks", ("trainer.__never__",)),
    ],
)
def test_dependencies_point_one_way(package, forbidden):
    assert _violations(package, forbidden) == []


def test_nothing_imports_trainer():
    users = [p for pkg in ("inpaint_studio", "tests", "benchmarks") for p in _files(pkg)]
    # Tests of the trainer may import it; the application may not.
    app = [p for p in users if p.is_relative_to(ROOT / "inpaint_studio")]
    bad = [str(p.relative_to(ROOT)) for p in app if any(n == "trainer" or n.startswith("trainer.") for n in _imports(p))]
    assert bad == []


def test_checker_sees_a_violation(tmp_path):
    """The checker itself must be able to fail."""
    f = tmp_path / "m.py"
    f.write_text("import torch\nfrom PySide6.QtWidgets import QWidget\n")
    assert {"torch", "PySide6.QtWidgets"} <= _imports(f)
