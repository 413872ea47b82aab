"""The editing tools: which layer each paints, whether it erases, its icon and shortcut."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Tool(str, Enum):
    BRUSH = "brush"
    ERASER = "eraser"
    RECTANGLE = "rectangle"
    LASSO = "lasso"
    SELECT_OBJECT = "select_object"
    WAND = "wand"
    EDGE_PEN = "edge_pen"
    EDGE_ERASER = "edge_eraser"
    PAN = "pan"


@dataclass(frozen=True)
class ToolSpec:
    tool: Tool
    label: str
    shortcut: str
    layer: str | None  # None: the tool paints nothing (pan)
    erase: bool = False
    freehand: bool = False  # paints capsules along the pointer path
    select: bool = False  # computes the mask from the photo (MainWindow does it: the canvas only reports where)

    @property
    def tooltip(self) -> str:
        return f"{self.label} ({self.shortcut})"


TOOL_SPECS: dict[Tool, ToolSpec] = {
    Tool.BRUSH: ToolSpec(Tool.BRUSH, "Mask brush", "B", "mask", freehand=True),
    Tool.ERASER: ToolSpec(Tool.ERASER, "Mask eraser", "E", "mask", erase=True, freehand=True),
    Tool.RECTANGLE: ToolSpec(Tool.RECTANGLE, "Rectangle fill (Alt: subtract)", "R", "mask"),
    Tool.LASSO: ToolSpec(Tool.LASSO, "Lasso fill (Alt: subtract)", "L", "mask"),
    Tool.SELECT_OBJECT: ToolSpec(Tool.SELECT_OBJECT, "Select object: drag a box, click to add, Alt+click to remove",
                                 "S", "mask", select=True),
    Tool.WAND: ToolSpec(Tool.WAND, "Magic wand: click a colour (Alt: subtract)", "W", "mask", select=True),
    Tool.EDGE_PEN: ToolSpec(Tool.EDGE_PEN, "Edge pen", "G", "edges", freehand=True),
    Tool.EDGE_ERASER: ToolSpec(Tool.EDGE_ERASER, "Edge eraser", "Shift+G", "edges", erase=True, freehand=True),
    Tool.PAN: ToolSpec(Tool.PAN, "Pan (or hold Space / middle button)", "H", None),
}
