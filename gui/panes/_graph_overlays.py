"""What the graph browser draws beside the graph: marks on the current image, the EM monitor.

spec: explanatory-graph §1.12: inferred node positions with σ circles and parent→child
displacement lines; the filter drill-down (each node of one filter where it fired, so one
sees which node claims which activation peak); the per-iteration EM monitor.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGraphicsEllipseItem

from engine.methods.explanatory_graph.result import MONITOR_COLUMNS

MONITOR_TITLES = {"mean_score": "mean score", "mean_shift": "mean shift (units)",
                  "mean_sigma": "mean σ (units)", "parent_changes": "edges changed"}
LABELLED_NODES = 4  # drill-down labels: the best-scoring nodes of the filter on this image (more overlap)


def image_view():
    """(widget, view box, image item) for one image, pixel (x, y) as the landmarks'."""
    view = pg.GraphicsLayoutWidget()
    box = view.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
    item = pg.ImageItem()
    box.addItem(item)
    return view, box, item


class _ImageWithMarks(pg.GraphicsLayoutWidget):
    """An image under a title, in a view box whose marks are redrawn each time."""

    def __init__(self) -> None:
        super().__init__()
        self.title = self.addLabel("", row=0, col=0, size="8pt")
        self.box = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMenu=False)
        self.image_item = pg.ImageItem()
        # pixel (row r, column c) covers [c - ½, c + ½): its centre is at view (c, r), the
        # landmarks' and part-localization's pixel (x, y) (engine/data/_raster.py)
        self.image_item.setPos(-0.5, -0.5)
        self.box.addItem(self.image_item)

    def _show_image(self, image: np.ndarray, title: str) -> None:
        self.image_item.setImage(image, levels=(0, 255))
        self.title.setText(title)
        self.box.autoRange(padding=0.0)


class NodeOnImage(_ImageWithMarks):
    """The selected node where it fired on the current image: a ring, its σ circle, and lines
    to where its parents fired (the displacements that made them its parents)."""

    def __init__(self) -> None:
        super().__init__()
        self.parent_lines = pg.PlotCurveItem(pen=pg.mkPen("#9be564", width=1), connect="pairs")
        self.parent_dots = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush("#9be564"))
        self.sigma_circle = QGraphicsEllipseItem()
        self.sigma_circle.setPen(pg.mkPen("#00e5ff", width=1, style=pg.QtCore.Qt.DashLine))
        self.marker = pg.ScatterPlotItem(size=12, pen=pg.mkPen("#00e5ff", width=2), brush=None)
        for item in (self.parent_lines, self.parent_dots, self.sigma_circle, self.marker):
            self.box.addItem(item)

    def show(self, image: np.ndarray, xy: np.ndarray, sigma_px: float, parent_xy: np.ndarray,
             title: str) -> None:
        self._show_image(image, title)
        self.marker.setData(pos=np.asarray(xy)[None])
        self.sigma_circle.setRect(xy[0] - sigma_px, xy[1] - sigma_px, 2 * sigma_px, 2 * sigma_px)
        pairs = np.stack([np.broadcast_to(xy, parent_xy.shape), parent_xy], 1).reshape(-1, 2)
        self.parent_lines.setData(pairs[:, 0], pairs[:, 1], connect="pairs")
        self.parent_dots.setData(pos=parent_xy)


class DrillDown(_ImageWithMarks):
    """Every node of one filter at its inferred position on the current image, a colour a node,
    sized and labelled by its score there; a white cross at the raw filter's own peak."""

    def __init__(self) -> None:
        super().__init__()
        self.peak = pg.ScatterPlotItem(symbol="x", size=14, pen=pg.mkPen("w", width=2), brush=pg.mkBrush("w"))
        self.dots = pg.ScatterPlotItem(pen=pg.mkPen("k", width=0.5))
        self.box.addItem(self.peak)
        self.box.addItem(self.dots)
        self.labels: list[pg.TextItem] = []

    def show(self, image: np.ndarray, xy: np.ndarray, scores: np.ndarray, nodes: np.ndarray,
             peak_xy: np.ndarray, title: str) -> None:
        self._show_image(image, title)
        self.peak.setData(pos=np.asarray(peak_xy)[None])
        top = max(float(scores.max()), 1e-9)
        self.brushes = [pg.intColor(i, hues=len(nodes)) for i in range(len(nodes))]
        self.dots.setData(pos=xy, size=4 + 10 * scores / top, brush=self.brushes)
        for label in self.labels:
            self.box.removeItem(label)
        self.labels = [self._label(xy[i], f"{int(nodes[i])}: {float(scores[i]):.2g}", self.brushes[i],
                                   right_half=xy[i][0] > image.shape[1] / 2) for i in labelled(scores)]

    def _label(self, xy, text: str, colour, right_half: bool) -> pg.TextItem:
        # on the right half the label goes left of its dot, so it stays inside the image
        label = pg.TextItem(text, color=colour, anchor=(1 if right_half else 0, 1), fill=(0, 0, 0, 140))
        label.setFont(QFont(label.textItem.font().family(), 7))
        label.setPos(float(xy[0]), float(xy[1]))
        self.box.addItem(label)
        return label


def labelled(scores: np.ndarray) -> np.ndarray:
    """The nodes worth a label: those that fired (score > 0), the best LABELLED_NODES first."""
    order = np.argsort(-scores, kind="stable")[:LABELLED_NODES]
    return order[scores[order] > 0]


class MonitorPlots(pg.GraphicsLayoutWidget):
    """The EM monitor of one layer: each column of monitor/LAYER over the iterations, side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.plots, self.curves = {}, {}
        self.ci.layout.setSpacing(2)
        for index, column in enumerate(MONITOR_COLUMNS):
            plot = self.addPlot(row=0, col=index)
            plot.setTitle(MONITOR_TITLES[column], size="8pt")
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getAxis("left").setStyle(maxTickLevel=0)  # a few ticks: the plots are small
            plot.getAxis("left").setWidth(36)
            self.plots[column] = plot
            self.curves[column] = plot.plot(pen=pg.mkPen("#f39c12", width=2), symbol="o", symbolSize=4)

    def show(self, monitor: np.ndarray) -> None:
        iterations = np.arange(1, len(monitor) + 1)
        ticks = [[(int(i), str(int(i))) for i in iterations[:: max(1, len(iterations) // 5)]]]
        for index, column in enumerate(MONITOR_COLUMNS):
            self.plots[column].getAxis("bottom").setTicks(ticks)
            self.curves[column].setData(iterations, monitor[:, index])
