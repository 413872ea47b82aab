"""Dependencies point one way (README, Layout): core imports neither Qt nor torch; networks import torch, the
standard library and each other only; engine runs without Qt; only ui imports Qt, and ui reaches torch and the
networks only through the engine (the window opens before torch loads); nothing in the application imports the
trainer or the benchmarks. Checked on every import statement of every source file, lazy and relative ones
included; each rule is shown to catch a planted violation."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

QT = ("PySide6", "PyQt5", "PyQt6", "qtawesome", "shiboken6")
TORCH = ("torch", "torchvision")
OUTSIDE_THE_APP = ("trainer", "benchmarks", "tests")

# path → names it must not import. The trainer reads Qt resource files (.rcc) with QtCore, never a widget.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "inpaint_studio/core": QT + TORCH + ("inpaint_studio.networks", "inpaint_studio.engine", "inpaint_studio.ui",
                                         "inpaint_studio.cli") + OUTSIDE_THE_APP,
    "inpaint_studio/engine": QT + ("inpaint_studio.ui", "inpaint_studio.cli") + OUTSIDE_THE_APP,
    "inpaint_studio/ui": TORCH + ("inpaint_studio.networks",) + OUTSIDE_THE_APP,
    "inpaint_studio/cli.py": QT + TORCH + ("inpaint_studio.networks",) + OUTSIDE_THE_APP,
    "trainer": ("inpaint_studio.ui", "inpaint_studio.cli", "PySide6.QtWidgets", "PySide6.QtGui", "qtawesome",
                "benchmarks", "tests"),
}
# path → the only names it may import (besides the standard library).
ONLY: dict[str, tuple[str, ...]] = {
    "inpaint_studio/networks": TORCH + ("inpaint_studio.networks",),
}


def _module_of(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    """Every module `path` imports, anywhere in the file; relative imports resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_of(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            names.add(module)
            if not node.module:  # `from . import x`: x is a module
                names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


def _matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _is_stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def violations(root: Path = ROOT) -> list[str]:
    bad = []
    for rel, forbidden in FORBIDDEN.items():
        for path in _files(root / rel):
            bad += [f"{path.relative_to(root)} imports {n}" for n in sorted(_imports(path, root)) if _matches(n, forbidden)]
    for rel, allowed in ONLY.items():
        for path in _files(root / rel):
            bad += [f"{path.relative_to(root)} imports {n}" for n in sorted(_imports(path, root))
                    if not _matches(n, allowed) and not _is_stdlib(n) and n != "__future__"]
    return bad


def test_dependencies_point_one_way():
    assert violations() == []


def test_every_rule_names_existing_code():
    for rel in (*FORBIDDEN, *ONLY):
        assert _files(ROOT / rel), rel  # a renamed folder would make its rule check nothing


def _planted_tree(tmp_path: Path, rel: str, source: str) -> Path:
    for package in ("inpaint_studio/core", "inpaint_studio/networks", "inpaint_studio/engine", "inpaint_studio/ui",
                    "trainer"):
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "inpaint_studio" / "__init__.py").write_text("")
    (tmp_path / "inpaint_studio" / "cli.py").write_text("import argparse\n")
    target = tmp_path / rel if rel.endswith(".py") else tmp_path / rel / "planted.py"
    target.write_text(source)
    return tmp_path


@pytest.mark.parametrize(("rel", "name"), [(rel, name) for rel, names in FORBIDDEN.items() for name in names])
def test_each_forbidden_import_is_caught_when_planted(tmp_path, rel, name):
    root = _planted_tree(tmp_path, rel, f"def later():\n    import {name}\n")  # lazy imports count too
    assert violations(root) == [f"{Path(rel) / 'planted.py' if not rel.endswith('.py') else Path(rel)} imports {name}"]


def test_relative_and_non_torch_imports_are_caught(tmp_path):
    root = _planted_tree(tmp_path / "a", "inpaint_studio/ui", "from ..networks import deepfill_v2\n")
    assert violations(root) == ["inpaint_studio/ui/planted.py imports inpaint_studio.networks"]
    root = _planted_tree(tmp_path / "b", "inpaint_studio/networks", "import cv2\nimport numpy\nfrom . import layers\n")
    assert violations(root) == [
        "inpaint_studio/networks/planted.py imports cv2",
        "inpaint_studio/networks/planted.py imports numpy",
    ]


def test_nothing_reads_beside_the_repository():
    # The project stands on its own: data the code needs lives in the repository (e.g. trainer/data/).
    import re

    outside = re.compile(r"""\.\./shared|/ *["']shared["']|["']shared/|PROJECT_ROOT\.parent""")
    sources = [p for d in ("inpaint_studio", "trainer", "benchmarks", "tests") for p in _files(ROOT / d)]
    assert [str(p.relative_to(ROOT)) for p in sources if p != Path(__file__) and outside.search(p.read_text("utf-8"))] == []
