"""Figure pane: any result kind with an engine figure, shown as the exported figure itself.

The fallback view for kinds without a dedicated pane (e.g. Captum baselines): what the
user sees is exactly what Export writes.
"""
from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from engine import figures


class FigurePane(QWidget):
    kinds = tuple(figures.RENDERERS)
    title = "Figure"

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.record = None
        self.image = QLabel("No result selected.")
        scroll = QScrollArea()
        scroll.setWidget(self.image)
        scroll.setWidgetResizable(True)
        QVBoxLayout(self).addWidget(scroll)

    def show_result(self, record) -> None:
        self.record = record
        pixels = render_rgba(self.figure(), dpi=90)
        h, w = pixels.shape[:2]
        self._pixels = pixels  # QImage borrows the buffer: keep it alive
        self.image.setPixmap(QPixmap.fromImage(QImage(pixels.data, w, h, 4 * w, QImage.Format_RGBA8888)))

    def figure_options(self) -> dict:
        return {}

    def figure(self):
        return figures.render(self.record, **self.figure_options())


def render_rgba(figure, dpi: int) -> np.ndarray:
    figure.set_dpi(dpi)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.ascontiguousarray(np.asarray(canvas.buffer_rgba()))
