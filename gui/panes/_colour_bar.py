"""What the colours of the point-cloud pane mean: a colour bar for a quantity, swatches for
parts or classes. A Qt widget beside the canvas, not a vispy visual: the canvas redraws only
the cloud (tests/bench/point_cloud.py holds it to bare vispy markers)."""
from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

RAMP_PX = (256, 14)


def hex_colour(rgba) -> str:
    return "#" + "".join(f"{round(255 * float(c)):02x}" for c in rgba[:3])


class ColourBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title, self.low, self.ramp, self.high = QLabel(), QLabel(), QLabel(), QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.title, self.low, self.ramp, self.high):
            layout.addWidget(widget)
        layout.addStretch(1)

    def show_colouring(self, colouring) -> None:
        continuous = bool(colouring.cmap)
        for widget in (self.low, self.ramp, self.high):
            widget.setVisible(continuous)
        if continuous:
            self._show_ramp(colouring)
        else:
            swatches = " ".join(f'<span style="color:{hex_colour(rgba)}">■</span> {name}'
                                for name, rgba in colouring.legend)
            self.title.setText(f"{colouring.label}: {swatches}")

    def _show_ramp(self, colouring) -> None:
        width, height = RAMP_PX
        row = (255 * colormaps[colouring.cmap](np.linspace(0, 1, width))[:, :3]).astype(np.uint8)
        self._pixels = np.ascontiguousarray(np.broadcast_to(row, (height, width, 3)))  # QImage borrows it
        image = QImage(self._pixels.data, width, height, 3 * width, QImage.Format_RGB888)
        self.ramp.setPixmap(QPixmap.fromImage(image))
        lo, hi = colouring.limits
        self.title.setText(colouring.label)
        self.low.setText(f"{lo:.3g}")
        self.high.setText(f"{hi:.3g}")
