"""The unit × landmark (or filter × part) heat map of the part-metrics pane (spec §2.12, Fig. 6).

Rows are the layer's units, top to bottom; columns its landmarks or parts, named below the
map in upright-rotated text (two dozen "category/part" names do not fit side by side), in a
strip whose x axis is linked to the map so the names follow pan and zoom.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsRectItem

NAMES_HEIGHT = 120   # px: room for the longest "category/part" name
UNIT_TICKS = 16      # at most this many unit labels on the left axis
HIGHLIGHT = "#ff4081"


class PartHeatMap(pg.GraphicsLayoutWidget):
    def __init__(self) -> None:
        super().__init__()
        self.plot = self.addPlot(row=0, col=0)
        self.plot.invertY(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.hideAxis("bottom")
        self.plot.setLabel("left", "unit")
        self.item = pg.ImageItem()
        self.item.setPos(-0.5, -0.5)  # cell (row r, column c) centred at (c, r)
        self.plot.addItem(self.item)
        self.colour_bar = pg.ColorBarItem(interactive=False, colorMapMenu=False)
        self.colour_bar.setImageItem(self.item, insert_in=self.plot)
        self.highlight = QGraphicsRectItem()
        self.highlight.setPen(pg.mkPen(HIGHLIGHT, width=2))
        self.plot.addItem(self.highlight)
        self.names = self.addViewBox(row=1, col=0, enableMouse=False, enableMenu=False)
        self.names.setXLink(self.plot.getViewBox())
        self.names.setYRange(0, 1, padding=0)
        self.ci.layout.setRowFixedHeight(1, NAMES_HEIGHT)
        self.labels: list[pg.TextItem] = []

    def show(self, matrix: np.ndarray, columns: list, units: np.ndarray, cmap: str, title: str) -> None:
        """The matrix as it is (NaN cells left transparent), columns named, rows by unit index."""
        finite = matrix[np.isfinite(matrix)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self.item.setImage(matrix)
        self.colour_bar.setColorMap(pg.colormap.get(cmap, source="matplotlib"))  # the figure's colours
        self.colour_bar.setLevels((lo, hi if hi > lo else lo + 1.0))
        self.plot.setTitle(title, size="8pt")
        step = max(1, len(units) // UNIT_TICKS)
        self.plot.getAxis("left").setTicks([[(i, str(int(units[i]))) for i in range(0, len(units), step)]])
        for label in self.labels:
            self.names.removeItem(label)
        self.labels = [self._name(j, name) for j, name in enumerate(columns)]
        self.plot.setRange(xRange=(-0.5, len(columns) - 0.5), yRange=(-0.5, len(units) - 0.5), padding=0)

    def _name(self, column: int, name: str) -> pg.TextItem:
        label = pg.TextItem(name, color="#d0d0d0", anchor=(1, 0.5), angle=90)  # reads upward, ends at the map
        label.setPos(column, 1.0)
        self.names.addItem(label)
        return label

    def select_row(self, row: int | None) -> None:
        self.highlight.setVisible(row is not None)
        if row is not None:
            self.highlight.setRect(-0.5, row - 0.5, self.item.width(), 1)

    def row_at(self, scene_pos) -> int | None:
        """The unit row under a scene position, if it is on the map."""
        if not self.plot.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.plot.getViewBox().mapSceneToView(scene_pos)
        row, col = int(np.floor(point.y() + 0.5)), int(np.floor(point.x() + 0.5))
        height, width = self.item.height() or 0, self.item.width() or 0
        return row if 0 <= row < height and 0 <= col < width else None
