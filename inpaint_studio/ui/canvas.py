"""The canvas: photo, result preview, translucent mask layer and edge layer in a QGraphicsView.

It renders the Document and turns pointer input into document edits; it owns no editing state itself.
Zoom follows the wheel, pinch and trackpad around the cursor; pan with Space+drag, the middle button or
the pan tool. A brush stroke repaints only the boxes it touched (see RasterItem)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPainterPath,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QLabel,
    QWidget,
)

from inpaint_studio.ui.model.document import Document
from inpaint_studio.ui.model.raster import Box
from inpaint_studio.ui.raster_item import RasterItem, overlay_lut, rgb_to_argb
from inpaint_studio.ui.tools import TOOL_SPECS, Tool

MASK_LUT = overlay_lut(255, 40, 90, 115)  # translucent magenta-red: the photo stays readable beneath
EDGE_LUT = overlay_lut(80, 255, 120, 255)  # opaque green: guide edges must stand out on any photo
# Amber, fainter than the mask and as strong as the damage: the Auto mask's translucent (stain) part
SOFT_LUT = overlay_lut(255, 176, 0, 150)
MIN_ZOOM, MAX_ZOOM = 0.02, 32.0
EMPTY_HINT = ("No photo open\n\nFile ▸ Open (Ctrl+O), drag a photo here, or paste one (Ctrl+V)\n\n"
              "Then paint over what to remove, or select it (S), and press Inpaint")
SOFT_MASK_HINT = ("amber: stains and tints, the photo still visible beneath — Restore removes the tint where it "
                  "can tell it from the photo, otherwise leaves them; it never paints over them")


def soft_mask_words(strength: np.ndarray) -> str:
    """The status line after an Auto mask that found translucent damage (`strength` uint8, 0 = none)."""
    share = 100 * float(np.count_nonzero(strength)) / max(strength.size, 1)
    return f"Auto mask: red is filled by Restore; {share:.1f} % of the photo is {SOFT_MASK_HINT}"


CLICK_SLOP_PX = 5  # screen pixels a press may move and still count as a click


class CanvasView(QGraphicsView):
    strokeFinished = Signal(object)  # Patch
    zoomChanged = Signal(float)
    cursorMoved = Signal(int, int)  # image pixel under the pointer, (-1, -1) outside
    brushSizeChanged = Signal(int)
    # A selection gesture: ("box", (x0, y0, x1, y1), alt) or ("click" | "wand", (x, y), alt), image pixels.
    selectGesture = Signal(str, tuple, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setMouseTracking(True)
        self.setAcceptDrops(False)  # dropped files go to the main window, which opens them
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setBackgroundBrush(QBrush(QColor("#1e2127")))
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.viewport().grabGesture(Qt.GestureType.PinchGesture)
        self.document: Document | None = None
        self.tool = Tool.BRUSH
        self.brush_size = 40
        self.hardness = 1.0
        self.edge_width = 1
        self.comparing = False
        self._photo: RasterItem | None = None
        self._result: RasterItem | None = None
        self._mask: RasterItem | None = None
        self._edges: RasterItem | None = None
        self._soft: RasterItem | None = None  # display only: the Auto mask's translucent part
        self.soft_mask: np.ndarray | None = None  # uint8 H×W strength of that part, None when none is shown
        self._outline: list[QGraphicsEllipseItem] = []
        self._shape_item: QGraphicsRectItem | QGraphicsPathItem | None = None
        self._stroking = False
        self._last: tuple[float, float] | None = None
        self._start: tuple[float, float] | None = None
        self._lasso: list[tuple[float, float]] = []
        self._erase_shape = False
        self._panning = False
        self._pan_from = QPoint()
        self._press_view = QPoint()
        self.split_x: float | None = None
        self._split_items: list = []
        self.result_name = ""  # what made the shown result: the split view's "after" label names it
        self._dragging_split = False
        self.empty_hint = QLabel(EMPTY_HINT, self.viewport())
        self.empty_hint.setObjectName("emptyHint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setStyleSheet("color:#9aa4b2; font-size:15px; background:transparent")
        self.empty_hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._space = False

    # --- document --------------------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        if self.document is not None:
            self.document.unsubscribe(self._on_document_change)
        self.scene().clear()
        self._split_items = []
        self.split_x = None
        self.document = document
        self.empty_hint.hide()
        h, w = document.shape
        self._photo = RasterItem(w, h, rgb_to_argb)
        self._photo.smooth = True
        self._soft, self.soft_mask = None, None
        self._result = None  # allocated on the first preview: a 24 MP photo needs no second buffer until then
        self._mask = RasterItem(w, h, lambda a: MASK_LUT[a])
        self._edges = RasterItem(w, h, lambda a: EDGE_LUT[a])
        for z, item in ((0, self._photo), (2, self._mask), (3, self._edges)):
            item.setZValue(z)
            self.scene().addItem(item)
        self._photo.refresh(document.image)
        # Empty layers are already transparent (the QImage starts cleared): skip converting 24 M zeros.
        for item, layer in ((self._mask, document.mask), (self._edges, document.edges)):
            if layer.any():
                item.refresh(layer)
        self._outline = []
        for color, style in (("#000000", Qt.PenStyle.SolidLine), ("#ffffff", Qt.PenStyle.DashLine)):
            pen = QPen(QColor(color), 0, style)  # width 0 = cosmetic: one screen pixel at any zoom
            ring = QGraphicsEllipseItem()
            ring.setPen(pen)
            ring.setZValue(10)
            ring.setVisible(False)
            self.scene().addItem(ring)
            self._outline.append(ring)
        self.scene().setSceneRect(QRectF(0, 0, w, h))
        document.subscribe(self._on_document_change)
        self.fit_to_window()

    def _on_document_change(self, layer: str, box: Box) -> None:
        if self.document is None:
            return
        item = {"image": self._photo, "mask": self._mask, "edges": self._edges}.get(layer)
        if item is not None:
            item.refresh(self.document.layer(layer), box)
        if layer == "image":
            self.set_soft_mask(None)  # it described the photo as it was

    def set_soft_mask(self, strength: np.ndarray | None) -> None:
        """Show the translucent part of an Auto mask (float 0..1 strength, the photo's size) as a faint amber
        overlay under the mask; None or an empty map hides it. Display only: it is not part of the mask."""
        if self.document is None:
            return
        if strength is None or not np.any(strength > 0) or strength.shape != self.document.shape:
            self.soft_mask = None
            if self._soft is not None:
                self._soft.setVisible(False)
            return
        self.soft_mask = np.clip(np.rint(np.asarray(strength, np.float32) * 255), 0, 255).astype(np.uint8)
        if self._soft is None:
            h, w = self.document.shape
            self._soft = RasterItem(w, h, lambda a: SOFT_LUT[a])
            self._soft.setZValue(1.5)  # above a previewed result, under the mask
            self.scene().addItem(self._soft)
        self._soft.refresh(self.soft_mask)
        self._soft.setVisible(self._mask is None or self._mask.isVisible())

    def show_result(self, image: np.ndarray | None) -> None:
        """Preview a candidate over the photo (None hides it); the mask stays visible and editable."""
        if self.document is None:
            return
        if self._result is None:
            if image is None:
                return
            h, w = self.document.shape
            self._result = RasterItem(w, h, rgb_to_argb)
            self._result.smooth = True
            self._result.setZValue(1)
            self.scene().addItem(self._result)
            if self.split_x is not None:
                self._result.set_clip_left(self.split_x)
        if image is not None:
            self._result.refresh(image)
        self._result.setVisible(image is not None and not self.comparing)
        self._result.setData(0, image is not None)

    def set_edges_visible(self, on: bool) -> None:
        """Hide the edge overlay (the edges are unchanged and still reach an edge-guided model)."""
        if self._edges is not None:
            self._edges.setVisible(on)

    @property
    def edges_visible(self) -> bool:
        return self._edges is not None and self._edges.isVisible()

    def set_mask_visible(self, on: bool) -> None:
        """Hide the mask overlay and the amber stains with it (the mask itself is unchanged), e.g. to judge a
        fill: a stain's result is hidden under the amber otherwise."""
        if self._mask is not None:
            self._mask.setVisible(on)
        if self._soft is not None:
            self._soft.setVisible(on and self.soft_mask is not None)

    @property
    def mask_visible(self) -> bool:
        return self._mask is not None and self._mask.isVisible()

    # --- split view: before on the left of a divider, the result on the right -------------------------
    def set_split(self, on: bool) -> None:
        """Drag the divider with the left button while this is on (painting waits until it is off)."""
        self.split_x = None
        for item in self._split_items:
            self.scene().removeItem(item)
        self._split_items = []
        if on and self.document is not None:
            h, w = self.document.shape
            line = QGraphicsLineItem(0, 0, 0, h)
            pen = QPen(QColor("#ffffff"), 2)
            pen.setCosmetic(True)  # two screen pixels at any zoom
            line.setPen(pen)
            self._split_items = [line]
            for text in ("before", self._after_text()):
                label = QGraphicsSimpleTextItem(text)
                label.setBrush(QBrush(QColor("#ffffff")))
                label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
                self._split_items.append(label)
            for item in self._split_items:
                item.setZValue(12)
                self.scene().addItem(item)
            self.move_split(w / 2)
        elif self._result is not None:
            self._result.set_clip_left(0)
        self._update_cursor()

    def set_result_name(self, name: str) -> None:
        """Name the shown result (a model, a checkpoint, or only a blind round's letter) on the divider."""
        self.result_name = name
        if self._split_items:
            self._split_items[2].setText(self._after_text())

    def _after_text(self) -> str:
        return f"after: {self.result_name}" if self.result_name else "after"

    @property
    def split_labels(self) -> tuple[str, str] | None:
        """The texts either side of the divider, while the split view is on."""
        return (self._split_items[1].text(), self._split_items[2].text()) if self._split_items else None

    def move_split(self, x: float) -> None:
        if self.document is None or not self._split_items:
            return
        h, w = self.document.shape
        self.split_x = min(max(float(x), 0.0), float(w))
        line, before, after = self._split_items
        line.setPos(self.split_x, 0)
        gap = 6 / max(self.zoom, 1e-6)  # labels sit a few screen pixels either side of the line
        before.setPos(self.split_x - gap - before.boundingRect().width() / max(self.zoom, 1e-6), gap)
        after.setPos(self.split_x + gap, gap)
        if self._result is not None:
            self._result.set_clip_left(self.split_x)

    def set_comparing(self, on: bool) -> None:
        """Before/after: while on, the preview is hidden so the photo underneath shows."""
        self.comparing = on
        if self._result is not None:
            self._result.setVisible(bool(self._result.data(0)) and not on)

    @property
    def result_visible(self) -> bool:
        return self._result is not None and self._result.isVisible()

    # --- zoom ------------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, zoom: float, anchor: QPoint | None = None) -> None:
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        anchor = anchor if anchor is not None else self.viewport().rect().center()
        before = self.mapToScene(anchor)
        self.resetTransform()
        self.scale(zoom, zoom)
        # Keep the scene point under the anchor where it was (zoom around the cursor).
        after = self.mapFromScene(before)
        delta = after - anchor
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + delta.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + delta.y())
        self.zoomChanged.emit(zoom)
        self._update_outline()

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        self.set_zoom(self.zoom * factor, anchor)

    def fit_to_window(self) -> None:
        if self.document is None:
            return
        h, w = self.document.shape
        vp = self.viewport().rect()
        zoom = min((vp.width() - 8) / w, (vp.height() - 8) / h) if vp.width() > 8 and vp.height() > 8 else 1.0
        self.resetTransform()
        self.set_zoom(max(zoom, MIN_ZOOM))
        self.centerOn(w / 2, h / 2)

    def actual_size(self) -> None:
        self.set_zoom(1.0)

    def wheelEvent(self, event: QWheelEvent) -> None:
        pixel = event.pixelDelta()
        anchor = event.position().toPoint()
        if not pixel.isNull() and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            # Two-finger trackpad scroll pans; pinch arrives as a native gesture below.
            self._scroll_by(-pixel.x(), -pixel.y())
            return
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.25**steps, anchor)
        event.accept()

    def viewportEvent(self, event: QEvent) -> bool:
        if (
            isinstance(event, QNativeGestureEvent)
            and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture
        ):
            self.zoom_by(1.0 + event.value(), event.position().toPoint())
            return True
        if event.type() == QEvent.Type.Gesture:
            pinch = event.gesture(Qt.GestureType.PinchGesture)
            if pinch is not None:
                anchor = self.viewport().mapFromGlobal(pinch.centerPoint().toPoint())
                self.zoom_by(pinch.scaleFactor(), anchor)
                return True
        return super().viewportEvent(event)

    def _scroll_by(self, dx: float, dy: float) -> None:
        self.horizontalScrollBar().setValue(int(self.horizontalScrollBar().value() + dx))
        self.verticalScrollBar().setValue(int(self.verticalScrollBar().value() + dy))

    # --- tools -----------------------------------------------------------------------------------
    def set_tool(self, tool: Tool) -> None:
        self.tool = tool
        self._update_cursor()
        self._update_outline()

    def set_brush_size(self, size: int) -> None:
        self.brush_size = int(min(max(size, 1), 1000))
        self.brushSizeChanged.emit(self.brush_size)
        self._update_outline()

    def _radius(self) -> float:
        if self.tool in (Tool.EDGE_PEN, Tool.EDGE_ERASER):
            return self.edge_width / 2
        return self.brush_size / 2

    def _update_cursor(self) -> None:
        if self._panning or self._space or self.tool == Tool.PAN:
            shape = Qt.CursorShape.ClosedHandCursor if self._panning else Qt.CursorShape.OpenHandCursor
        elif self.split_x is not None:
            shape = Qt.CursorShape.SplitHCursor
        else:
            shape = Qt.CursorShape.CrossCursor
        self.viewport().setCursor(shape)

    def _update_outline(self, scene_pos: QPointF | None = None) -> None:
        if not self._outline:
            return
        if scene_pos is None:
            scene_pos = self.mapToScene(self.viewport().mapFromGlobal(self.cursor().pos()))
        spec = TOOL_SPECS[self.tool]
        show = spec.freehand and not self._space and not self._panning and self.underMouse()
        r = self._radius()
        for ring in self._outline:
            ring.setRect(QRectF(scene_pos.x() - r, scene_pos.y() - r, 2 * r, 2 * r))
            ring.setVisible(show)

    def _scene_point(self, event: QMouseEvent) -> tuple[float, float]:
        p = self.mapToScene(event.position().toPoint())
        if self.tool in (Tool.EDGE_PEN, Tool.EDGE_ERASER):
            # Edges are thin: snap to pixel centres so a 1 px pen draws a clean, gap-free line.
            return math.floor(p.x()) + 0.5, math.floor(p.y()) + 0.5
        return p.x(), p.y()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and (self._space or self.tool == Tool.PAN)
        ):
            self._panning = True
            self._pan_from = event.position().toPoint()
            self._update_cursor()
            return
        if button != Qt.MouseButton.LeftButton or self.document is None:
            return super().mousePressEvent(event)
        if self.split_x is not None:
            self._dragging_split = True
            self.move_split(self.mapToScene(event.position().toPoint()).x())
            return
        spec = TOOL_SPECS[self.tool]
        p = self._scene_point(event)
        if spec.layer is None:
            return
        self._stroking = True
        self._erase_shape = spec.erase or bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        self._press_view = event.position().toPoint()
        if spec.select:
            self._start = p
            if self.tool == Tool.SELECT_OBJECT:
                self._shape_item = self.scene().addRect(QRectF(p[0], p[1], 0, 0), self._shape_pen())
                self._shape_item.setZValue(11)
        elif spec.freehand:
            self.document.begin_stroke(spec.layer)
            self.document.stroke_segment(p, p, self._radius(), hardness=self._hardness(), erase=spec.erase)
            self._last = p
        elif self.tool == Tool.RECTANGLE:
            self._start = p
            self._shape_item = self.scene().addRect(QRectF(p[0], p[1], 0, 0), self._shape_pen())
            self._shape_item.setZValue(11)
        elif self.tool == Tool.LASSO:
            self._lasso = [p]
            self._shape_item = self.scene().addPath(QPainterPath(QPointF(*p)), self._shape_pen())
            self._shape_item.setZValue(11)

    def _hardness(self) -> float:
        return 1.0 if self.tool in (Tool.EDGE_PEN, Tool.EDGE_ERASER) else self.hardness

    @staticmethod
    def _shape_pen() -> QPen:
        return QPen(QColor("#ffffff"), 0, Qt.PenStyle.DashLine)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        scene = self.mapToScene(pos)
        if self.document is not None:
            h, w = self.document.shape
            x, y = math.floor(scene.x()), math.floor(scene.y())
            self.cursorMoved.emit(*((x, y) if 0 <= x < w and 0 <= y < h else (-1, -1)))
        if self._panning:
            delta = pos - self._pan_from
            self._pan_from = pos
            self._scroll_by(-delta.x(), -delta.y())
            return
        if self._dragging_split:
            self.move_split(scene.x())
            return
        self._update_outline(scene)
        if not self._stroking or self.document is None:
            return super().mouseMoveEvent(event)
        p = self._scene_point(event)
        spec = TOOL_SPECS[self.tool]
        if spec.freehand and self._last is not None:
            if p != self._last:
                self.document.stroke_segment(self._last, p, self._radius(), hardness=self._hardness(), erase=spec.erase)
                self._last = p
        elif (self.tool in (Tool.RECTANGLE, Tool.SELECT_OBJECT) and self._start is not None
              and isinstance(self._shape_item, QGraphicsRectItem)):
            x0, y0 = self._start
            self._shape_item.setRect(QRectF(QPointF(x0, y0), QPointF(*p)).normalized())
        elif self.tool == Tool.LASSO and isinstance(self._shape_item, QGraphicsPathItem):
            self._lasso.append(p)
            path = self._shape_item.path()
            path.lineTo(QPointF(*p))
            self._shape_item.setPath(path)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._panning and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._panning = False
            self._update_cursor()
            return
        if self._dragging_split:
            self._dragging_split = False
            return
        if not self._stroking or event.button() != Qt.MouseButton.LeftButton or self.document is None:
            return super().mouseReleaseEvent(event)
        self._stroking = False
        spec = TOOL_SPECS[self.tool]
        p = self._scene_point(event)
        if spec.select:
            self._end_select_gesture(event, p)
            return
        if spec.freehand:
            if self._last is not None and p != self._last:
                self.document.stroke_segment(self._last, p, self._radius(), hardness=self._hardness(), erase=spec.erase)
            label = spec.label
        else:
            if self._shape_item is not None:
                self.scene().removeItem(self._shape_item)
                self._shape_item = None
            self.document.begin_stroke(spec.layer or "mask")
            if self.tool == Tool.RECTANGLE and self._start is not None:
                self.document.stroke_rect(self._start, p, erase=self._erase_shape)
            elif self.tool == Tool.LASSO:
                self.document.stroke_polygon([*self._lasso, p], erase=self._erase_shape)
            label = ("Subtract " if self._erase_shape else "") + spec.label.split(" (")[0]
        self._last = self._start = None
        self._lasso = []
        patch = self.document.end_stroke(label)
        if patch is not None:
            self.strokeFinished.emit(patch)

    def _end_select_gesture(self, event: QMouseEvent, p: tuple[float, float]) -> None:
        if self._shape_item is not None:
            self.scene().removeItem(self._shape_item)
            self._shape_item = None
        start, self._start = self._start, None
        if start is None:
            return
        moved = (event.position().toPoint() - self._press_view).manhattanLength()
        if self.tool == Tool.SELECT_OBJECT and moved >= CLICK_SLOP_PX:
            self.selectGesture.emit("box", (*start, *p), self._erase_shape)
        else:  # a click (a small wobble of the hand is still a click)
            kind = "wand" if self.tool == Tool.WAND else "click"
            self.selectGesture.emit(kind, start, self._erase_shape)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self._update_cursor()
            self._update_outline()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._update_cursor()
            self._update_outline()
            return
        super().keyReleaseEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.empty_hint.setGeometry(self.viewport().rect())

    def enterEvent(self, event: QEvent) -> None:
        super().enterEvent(event)
        self._update_cursor()

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        for ring in self._outline:
            ring.setVisible(False)
        self.cursorMoved.emit(-1, -1)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawBackground(painter, rect)
        if self.document is not None:
            # A thin frame shows where the photo ends on a dark background.
            h, w = self.document.shape
            painter.setPen(QPen(QColor("#3b4048"), 0))
            painter.drawRect(QRectF(-0.5, -0.5, w + 1, h + 1))
