"""qtawesome icons by role, so every widget asks for "brush" rather than a font glyph name."""

from __future__ import annotations

from PySide6.QtGui import QIcon

_GLYPHS = {
    "brush": "mdi6.brush",
    "eraser": "mdi6.eraser",
    "rectangle": "mdi6.selection",
    "lasso": "mdi6.lasso",
    "edge_pen": "mdi6.draw",
    "edge_eraser": "mdi6.eraser-variant",
    "pan": "mdi6.hand-back-right-outline",
    "select_object": "mdi6.select-search",
    "wand": "mdi6.auto-fix",
    "snap": "mdi6.vector-square-edit",
    "open": "mdi6.folder-open-outline",
    "save": "mdi6.content-save-outline",
    "undo": "mdi6.undo",
    "redo": "mdi6.redo",
    "inpaint": "mdi6.auto-fix",
    "auto_mask": "mdi6.target",
    "restore": "mdi6.image-auto-adjust",
    "edges": "mdi6.vector-polyline",
    "cancel": "mdi6.close-circle-outline",
    "accept": "mdi6.check-bold",
    "discard": "mdi6.close",
    "compare": "mdi6.compare",
    "fit": "mdi6.fit-to-screen-outline",
    "actual": "mdi6.numeric-1-box-outline",
    "clear": "mdi6.selection-remove",
    "invert": "mdi6.invert-colors",
    "grow": "mdi6.arrow-expand-all",
    "shrink": "mdi6.arrow-collapse-all",
    "models": "mdi6.cube-outline",
    "settings": "mdi6.cog-outline",
    "candidates": "mdi6.view-carousel-outline",
}

_COLOR = "#d8dee9"
_cache: dict[tuple[str, str], QIcon] = {}


def icon(role: str, color: str = _COLOR) -> QIcon:
    """The icon for `role`; an empty icon if qtawesome lacks the glyph (never fails the UI)."""
    key = (role, color)
    if key not in _cache:
        try:
            import qtawesome as qta

            _cache[key] = qta.icon(_GLYPHS[role], color=color, color_disabled="#5c6370")
        except Exception:  # noqa: BLE001 - a missing glyph must not stop the window opening
            _cache[key] = QIcon()
    return _cache[key]
