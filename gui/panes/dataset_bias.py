"""Dataset-bias pane: which attributes the model infers from the same features (spec:
concepts-bias-trees §5.2 analyzer, the §5.1 masking table).

On top, three A×A heat maps on one diverging scale: the mined relations r_ab, the ground truth R*
and their difference r − κR* (the chosen pair framed), and the relationship graph of the
strongest mined relations (the chosen pair green). Below, the ranked pairs (the exported
table's rows: clicking a row selects the pair), the chosen pair's contribution maps ρ_a, ρ_b over
a kept image, and a masking check's table (a's mean logit without / with a, while b's region is
original, pasted or masked). Renders only from `(record, state)`; `figure()` is the export figure.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QGraphicsRectItem, QHBoxLayout, QLabel, QSpinBox,
                               QTableWidget, QVBoxLayout, QWidget)

from engine import figures
from engine.figures.dataset_bias import DIVERGING, MATRIX_TITLES, graph_edges, graph_layout, matrix_limit
from engine.methods.dataset_bias._masking import CONDITIONS, GROUPS
from engine.methods.dataset_bias.result import DatasetBiasResult
from engine.tables import bias_table
from gui.panes._imaging import colorize, lut, overlay
from gui.panes.part_metrics import fill


@dataclass(frozen=True)
class DatasetBiasPaneState:
    """What the user chose in this pane."""

    pair: int = 0                # index into the ranked relations (0: the most suspicious)
    sample: int = 0              # index among the kept images whose ρ maps are shown
    check: str | None = None     # label "a:b" of the masking check shown


class DatasetBiasPane(QWidget):
    kinds = ("dataset-bias",)
    title = "Dataset bias"

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.record = None
        self.result: DatasetBiasResult | None = None
        self.state = DatasetBiasPaneState()
        self.matrix_plots: list[pg.PlotItem] = []
        self.matrix_items: dict[str, pg.ImageItem] = {}
        self.frames: list[QGraphicsRectItem] = []  # the chosen pair's cell in each matrix
        self.evidence_items: list[tuple[pg.TextItem, pg.ImageItem]] = []  # ρ_a, ρ_b: title, image
        self.graph_lines: list[pg.PlotDataItem] = []  # the relationship graph's edges, strongest first
        self._build()

    # building ------------------------------------------------------------------------
    def _build(self) -> None:
        self.sample_spin, self.check_box = QSpinBox(), QComboBox()
        controls = QHBoxLayout()
        for label, widget in (("image", self.sample_spin), ("masking check", self.check_box)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addStretch(1)
        self.summary = QLabel("Run dataset-bias on a multi-attribute model and PartWorld faces to see it here.")
        self.summary.setWordWrap(True)
        self.matrices = pg.GraphicsLayoutWidget()
        for col, name in enumerate(MATRIX_TITLES):
            box = self.matrices.addPlot(row=0, col=col, title=MATRIX_TITLES[name])
            box.setMenuEnabled(False)
            box.invertY(True)
            box.setAspectLocked(True)
            item = pg.ImageItem(axisOrder="row-major")
            box.addItem(item)
            frame = QGraphicsRectItem(0, 0, 1, 1)
            frame.setPen(pg.mkPen((0, 200, 0), width=3))
            box.addItem(frame)
            self.matrix_plots.append(box)
            self.matrix_items[name] = item
            self.frames.append(frame)
        self.graph_plot = self.matrices.addPlot(row=0, col=len(MATRIX_TITLES), title="relationship graph")
        self.graph_plot.setMenuEnabled(False)
        self.graph_plot.setAspectLocked(True)
        self.graph_plot.hideAxis("left")
        self.graph_plot.hideAxis("bottom")
        self.pairs_table, self.masking_table = QTableWidget(), QTableWidget()
        self.pairs_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.pairs_table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.evidence_view = pg.GraphicsLayoutWidget()
        for col in range(2):
            box = self.evidence_view.addViewBox(row=0, col=col, lockAspect=True, invertY=True, enableMenu=False)
            title, item = pg.TextItem("", color="w", anchor=(0, 0), fill=(0, 0, 0, 150)), pg.ImageItem(axisOrder="row-major")
            box.addItem(item)
            box.addItem(title)
            self.evidence_items.append((title, item))
        lower = QHBoxLayout()
        lower.addWidget(self.pairs_table, 2)
        lower.addWidget(self.evidence_view, 2)
        lower.addWidget(self.masking_table, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(self.matrices, 1)
        layout.addLayout(lower, 1)
        self.pairs_table.cellClicked.connect(self._on_pair_clicked)
        self.sample_spin.valueChanged.connect(self._on_sample_chosen)
        self.check_box.currentTextChanged.connect(self._on_check_chosen)

    # input ---------------------------------------------------------------------------
    def show_result(self, record) -> None:
        self.record = record
        self.result = DatasetBiasResult.from_record(record)
        labels = [c.label for c in self.result.checks]
        check = self.state.check if self.state.check in labels else (labels[0] if labels else None)
        kept = len(self.result.sample_names)
        self.state = DatasetBiasPaneState(0, min(self.state.sample, max(kept - 1, 0)), check)
        with QSignalBlocker(self.sample_spin), QSignalBlocker(self.check_box):
            self.sample_spin.setRange(0, max(kept - 1, 0))
            self.sample_spin.setValue(self.state.sample)
            self.check_box.clear()
            self.check_box.addItems(labels)
            if check:
                self.check_box.setCurrentText(check)
        fill(self.pairs_table, *bias_table(record))
        names = self.result.attributes  # numbered on the left, only numbers below: the names would overlap
        for plot in self.matrix_plots:
            plot.getAxis("left").setTicks([[(i + 0.5, f"{name} {i + 1}") for i, name in enumerate(names)]])
            plot.getAxis("bottom").setTicks([[(i + 0.5, str(i + 1)) for i in range(len(names))]])
        self._fill_graph()
        self.render()

    def _fill_graph(self) -> None:
        """Nodes on a circle with their names, one line an edge (styled in `_render_graph`)."""
        self.graph_plot.clear()
        xy = graph_layout(len(self.result.attributes))
        self.graph_lines = []
        for edge in graph_edges(self.result):
            ends = xy[[self.result.attributes.index(edge["a"]), self.result.attributes.index(edge["b"])]]
            self.graph_lines.append(self.graph_plot.plot(ends[:, 0], ends[:, 1]))
        self.graph_plot.addItem(pg.ScatterPlotItem(xy[:, 0], xy[:, 1], size=8, brush="w"))
        for (x, y), name in zip(xy, self.result.attributes):
            label = pg.TextItem(name, color="w", anchor=(0.5, 0.5))
            label.setPos(1.2 * x, 1.2 * y)
            self.graph_plot.addItem(label)
        self.graph_plot.setRange(xRange=(-1.7, 1.7), yRange=(-1.4, 1.4), padding=0)

    def set_state(self, **changes) -> None:
        self.state = replace(self.state, **changes)
        self.render()

    def _on_pair_clicked(self, row: int, _column: int) -> None:
        if self.result is not None:
            self.set_state(pair=int(self.pairs_table.item(row, 0).text()) - 1)  # column 0: the rank

    def _on_sample_chosen(self, sample: int) -> None:
        if self.result is not None:
            self.set_state(sample=sample)

    def _on_check_chosen(self, label: str) -> None:
        if label and self.result is not None:
            self.set_state(check=label)

    def chosen_pair(self) -> dict:
        return self.result.relations[self.state.pair]

    # rendering -----------------------------------------------------------------------
    def render(self) -> None:
        if self.result is None:
            return
        self._render_matrices()
        self._render_graph()
        self._render_evidence()
        self._render_masking()
        relation, result = self.chosen_pair(), self.result
        self.summary.setText(
            f"{self.record.model} at {result.layer}: pair {self.state.pair + 1} of {len(result.relations)}, "
            f"{relation['a']}–{relation['b']}: mined r = {relation['mined']:+.3f}, truth {relation['truth']:+.0f}, "
            f"score |r − κR*| = {relation['score']:.3f} (κ = {result.config.kappa:g})")

    def _render_matrices(self) -> None:
        """The three matrices coloured as the figure, the chosen pair's cell framed in each."""
        limit, table = matrix_limit(self.result), lut(DIVERGING)
        names = self.result.attributes
        relation = self.chosen_pair()
        a, b = names.index(relation["a"]), names.index(relation["b"])
        for frame, (name, item) in zip(self.frames, self.matrix_items.items()):
            item.setImage(colorize(getattr(self.result, name), table, -limit, limit), levels=(0, 255))
            frame.setRect(b, a, 1, 1)

    def _render_graph(self) -> None:
        """Edges as the figure draws them: width |r|, red r > 0, blue r < 0, dashed where R* = 0,
        the chosen pair green."""
        chosen = self.chosen_pair()
        for line, edge in zip(self.graph_lines, graph_edges(self.result)):
            colour = (0, 200, 0) if edge is chosen else (220, 40, 40) if edge["mined"] > 0 else (40, 90, 220)
            style = Qt.DashLine if edge["truth"] == 0 else Qt.SolidLine
            line.setPen(pg.mkPen(colour, width=1 + 4 * abs(edge["mined"]), style=style))

    def _render_evidence(self) -> None:
        """ρ_a and ρ_b of the chosen pair over the chosen kept image, each on its own scale."""
        if not len(self.result.images):
            for title, item in self.evidence_items:
                title.setText("")
                item.clear()
            return
        sample, relation = self.state.sample, self.chosen_pair()
        image = self.result.images[sample].astype(np.float32) / 255.0
        for (title, item), attribute in zip(self.evidence_items, (relation["a"], relation["b"])):
            maps = self.result.evidence[sample, self.result.attributes.index(attribute)]
            item.setImage(overlay(image, maps, lut("inferno"), 0.0, float(maps.max()) or 1.0), levels=(0, 255))
            title.setText(f"ρ {attribute}, {self.result.sample_names[sample]}")

    def _render_masking(self) -> None:
        check = next((c for c in self.result.checks if c.label == self.state.check), None)
        if check is None:
            fill(self.masking_table, [], [])
            return
        header = [f"{check.attribute} logit", *(f"{check.region} {c}" for c in CONDITIONS)]
        rows = [[f"{g} {check.attribute} ({n})", *map(float, check.table[i])]
                for i, (g, n) in enumerate(zip(GROUPS, check.counts))]
        fill(self.masking_table, header, rows)
        self.masking_table.resizeColumnsToContents()

    # export --------------------------------------------------------------------------
    def figure_options(self) -> dict:
        return {"pair": self.state.pair, "sample": self.state.sample, "check": self.state.check}

    def figure(self):
        return figures.render(self.record, **self.figure_options())
