"""The interpretable view of one filter on one sample (spec: interpretable-cnn §2.12).

Four panels side by side: the raw map x (the masked layer's input), the template T_μ̂ the
layer chose, the masked map relu(x·T_μ̂) in the raw map's colour limits, and the image with
μ̂'s receptive-field centre (§0.2) and the diamond's zero line. What it draws comes from
`engine.methods.activations.result.masked_view`, as the exported figure's does.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from engine.figures.activations import MARKER_COLOUR, TEMPLATE_CMAP
from gui.panes._imaging import lut

BACKGROUND = "#3c3c46"
PANELS = ("raw map x", "template T_μ̂", "masked relu(x·T_μ̂)", "RF centre of μ̂")


class MaskedPanels(pg.GraphicsLayoutWidget):
    """raw, template, masked and image panels, each a view box with one image item."""

    def __init__(self) -> None:
        super().__init__()
        self.caption = self.addLabel("", row=0, col=0, colspan=len(PANELS), size="8pt")
        self.boxes, self.items = [], []
        for col, title in enumerate(PANELS):
            self.addLabel(title, row=1, col=col, size="8pt")
            box = self.addViewBox(row=2, col=col, lockAspect=True, invertY=True, enableMenu=False)
            box.setBackgroundColor(BACKGROUND)  # a silent cell is black in most maps: show where maps end
            item = pg.ImageItem()
            item.setPos(-0.5, -0.5)  # cell (row r, column c) centred at view (c, r): pixel (x, y) as the engine's
            box.addItem(item)
            self.boxes.append(box)
            self.items.append(item)
        self.raw_item, self.template_item, self.masked_item, self.image_item = self.items
        self.outline = pg.PlotCurveItem(pen=pg.mkPen(MARKER_COLOUR, width=1))
        self.marker = pg.ScatterPlotItem(symbol="+", size=14, pen=pg.mkPen(MARKER_COLOUR, width=2))
        self.boxes[-1].addItem(self.outline)
        self.boxes[-1].addItem(self.marker)

    def show(self, view, table: np.ndarray, levels: tuple[float, float], caption: str) -> None:
        """`view`: a MaskedView; raw and masked in `table` over `levels`, the template over [−1, 1]."""
        self.raw_item.setImage(view.raw, levels=levels, lut=table)
        self.masked_item.setImage(view.masked, levels=levels, lut=table)
        self.template_item.setImage(view.template, levels=(-1.0, 1.0), lut=lut(TEMPLATE_CMAP))
        self.image_item.setImage(view.image.transpose(1, 2, 0), levels=(0.0, 1.0))
        self.outline.setData(view.outline[:, 0], view.outline[:, 1])
        self.marker.setData(pos=np.asarray(view.rf_centre, np.float64)[None])
        self.caption.setText(caption)
        for box, item in zip(self.boxes, self.items):
            box.setRange(item.boundingRect().translated(-0.5, -0.5), padding=0.02)
