"""Transplant pane: how the new category's module does behind the generic task module (spec:
concepts-bias-trees §6, network transplanting).

The table of variants (the exported table: labelled images used, pixel accuracy, IoU on the
held-out images; the transplanted adapter used none) and, for a chosen held-out image, the image,
its foreground and every variant's segmentation side by side. Renders only from
`(record, state)`; `figure()` is the export figure (engine/figures/transplant.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QTableWidget, QVBoxLayout, QWidget

from engine import figures
from engine.figures.transplant import variant_label
from engine.methods.transplant.result import TransplantResult
from engine.tables import transplant_table
from gui.panes.part_metrics import fill


@dataclass(frozen=True)
class TransplantPaneState:
    sample: int = 0  # index among the kept held-out images


class TransplantPane(QWidget):
    kinds = ("transplant",)
    title = "Transplant"

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.record = None
        self.result: TransplantResult | None = None
        self.state = TransplantPaneState()
        self.tiles: list[tuple[pg.TextItem, pg.ImageItem]] = []  # image, foreground, each variant
        self._build()

    def _build(self) -> None:
        self.sample_spin = QSpinBox()
        controls = QHBoxLayout()
        controls.addWidget(QLabel("held-out image"))
        controls.addWidget(self.sample_spin)
        controls.addStretch(1)
        self.summary = QLabel("Run transplant on PartWorld to compare the transplanted module here.")
        self.summary.setWordWrap(True)
        self.table = QTableWidget()
        self.maps = pg.GraphicsLayoutWidget()
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.maps, 1)
        self.sample_spin.valueChanged.connect(lambda sample: self.set_state(sample=sample))

    def show_result(self, record) -> None:
        self.record = record
        self.result = TransplantResult.from_record(record)
        kept = len(self.result.images)
        self.state = replace(self.state, sample=min(self.state.sample, kept - 1))
        with QSignalBlocker(self.sample_spin):
            self.sample_spin.setRange(0, kept - 1)
            self.sample_spin.setValue(self.state.sample)
        fill(self.table, *transplant_table(record))
        self.table.resizeColumnsToContents()
        self._build_tiles()
        self.render()

    def _build_tiles(self) -> None:
        self.maps.clear()
        self.tiles = []
        titles = ["image", "foreground", *map(variant_label, self.result.variants, self.result.labelled)]
        for col, title in enumerate(titles):
            box = self.maps.addViewBox(row=0, col=col, lockAspect=True, invertY=True, enableMenu=False)
            item, label = pg.ImageItem(axisOrder="row-major"), pg.TextItem(title, color="w", fill=(0, 0, 0, 150))
            box.addItem(item)
            box.addItem(label)
            self.tiles.append((label, item))

    def set_state(self, **changes) -> None:
        self.state = replace(self.state, **changes)
        self.render()

    def render(self) -> None:
        if self.result is None:
            return
        s, result = self.state.sample, self.result
        images = [result.images[s].transpose(1, 2, 0), result.truth[s], *result.probability[s]]
        for (_, item), image in zip(self.tiles, images):
            item.setImage(np.asarray(image), levels=(0, 255) if image.ndim == 3 else (0, 1))
        m = self.record.metrics
        self.summary.setText(
            f"{result.new_category} behind the task module, {result.sample_names[s]}: transplanted without labels "
            f"IoU {m['iou_transplanted']:.3f} (accuracy {m['accuracy_transplanted']:.3f}); the teacher it distils "
            f"{m['iou_teacher']:.3f}; the other categories through their own modules {m['iou_old_categories']:.3f}.")

    def figure_options(self) -> dict:
        return {"sample": self.state.sample}

    def figure(self):
        return figures.render(self.record, **self.figure_options())
