"""A QGraphicsItem backed by one ARGB32 QImage that is refreshed rectangle by rectangle.

Painting on a 24-megapixel photo must stay smooth: a brush dab rewrites only its own box of the QImage
(through a numpy view of the QImage's memory) and asks Qt to repaint that box; paint() draws only the
exposed part. Nothing rebuilds a full-size pixmap per mouse move."""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from inpaint_studio.ui.model.raster import Box

# Converts the source layer's pixels inside a box to premultiplied ARGB32 values (uint32).
Converter = Callable[[np.ndarray], np.ndarray]


def argb(r: int, g: int, b: int, a: int) -> int:
    """Premultiplied ARGB32 value."""
    return (a << 24) | ((r * a // 255) << 16) | ((g * a // 255) << 8) | (b * a // 255)


def overlay_lut(r: int, g: int, b: int, max_alpha: int) -> np.ndarray:
    """256-entry table: layer value → translucent colour whose opacity follows the value."""
    return np.array([argb(r, g, b, v * max_alpha // 255) for v in range(256)], dtype=np.uint32)


def rgb_to_argb(rgb: np.ndarray) -> np.ndarray:
    """Opaque ARGB32 values; OpenCV's BGRA byte order is ARGB32 on little-endian machines (10× numpy)."""
    if sys.byteorder == "little":
        import cv2  # lazy: not needed before the first photo

        h, w = rgb.shape[:2]
        return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGRA).view(np.uint32).reshape(h, w)
    r = rgb[..., 0].astype(np.uint32)
    g = rgb[..., 1].astype(np.uint32)
    b = rgb[..., 2].astype(np.uint32)
    return np.uint32(0xFF000000) | (r << 16) | (g << 8) | b


class RasterItem(QGraphicsItem):
    def __init__(self, width: int, height: int, convert: Converter, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.convert = convert
        self.qimage = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        self.qimage.fill(0)
        stride = self.qimage.bytesPerLine() // 4
        self.pixels = np.frombuffer(self.qimage.bits(), np.uint32).reshape(height, stride)[:, :width]
        self._bounds = QRectF(0, 0, width, height)
        self.smooth = False
        self.clip_left = 0.0  # draw only right of this x (the split view's divider)

    def set_clip_left(self, x: float) -> None:
        self.clip_left = max(0.0, float(x))
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def refresh(self, source: np.ndarray, box: Box | None = None) -> None:
        """Re-convert `source[box]` (the whole layer if box is None) and schedule a repaint of that box."""
        h, w = self.pixels.shape
        box = Box(0, 0, w, h) if box is None else box
        if box.empty:
            return
        sl = box.slices()
        self.pixels[sl] = self.convert(source[sl])
        self.update(QRectF(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0))

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        exposed = option.exposedRect.intersected(self._bounds) if option is not None else self._bounds
        if self.clip_left > 0:
            exposed = exposed.intersected(QRectF(self.clip_left, 0, self._bounds.width(), self._bounds.height()))
        if exposed.isEmpty():
            return
        # Snap to whole pixels so the source and target rects describe the same pixels.
        src = exposed.toAlignedRect().intersected(self._bounds.toRect())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
        painter.drawImage(QRectF(src), self.qimage, QRectF(src))
