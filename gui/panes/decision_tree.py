"""Decision-tree pane: the decision modes of a category and one image's way down (spec:
concepts-bias-trees §4.4).

A tree widget of the nodes (root, decision modes, … leaves = the training images) with the
chosen held-out image's path highlighted; the contribution waterfall of the selected node on
that image (b_v, then each part's ρ̂_k, ending at h_v(x_I), against ŷ); the filters each
merged node uses (α_v) with the selected node's row marked; the held-out metrics per depth
with the chosen depth marked. Renders only from `(record, state)`; `figure()` is
the export figure, drawn from the same helpers (engine/figures/decision_tree.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QSpinBox, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from engine import figures
from engine.figures.decision_tree import DEPTH_LABELS, alpha_rows, part_edges, waterfall
from engine.methods.decision_tree._evaluate import PER_DEPTH
from engine.methods.decision_tree.result import DecisionTreeResult

PATH_BRUSH = QBrush(QColor(255, 220, 200))


@dataclass(frozen=True)
class DecisionTreePaneState:
    """What the user chose in this pane."""

    sample: int = 0   # index among the held-out images of the category
    depth: int = 1    # the level whose node on the sample's path is selected (1: the decision modes)
    node: int = -1    # the selected node; −1: the sample's node at `depth`


class DecisionTreePane(QWidget):
    kinds = ("decision-tree",)
    title = "Decision tree"

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.record = None
        self.result: DecisionTreeResult | None = None
        self.state = DecisionTreePaneState()
        self.items: dict[int, QTreeWidgetItem] = {}
        self.bar_item: pg.BarGraphItem | None = None
        self._build()

    def _build(self) -> None:
        self.sample_spin, self.depth_spin = QSpinBox(), QSpinBox()
        self.depth_spin.setMinimum(1)
        controls = QHBoxLayout()
        for label, widget in (("held-out image", self.sample_spin), ("depth", self.depth_spin)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addStretch(1)
        self.summary = QLabel("Run decision-tree on an interpretable CNN to see its decision modes here.")
        self.summary.setWordWrap(True)
        self.tree_widget = QTreeWidget()
        self.tree_widget.setHeaderLabels(["node", "images", "filters", "b"])
        self.plots = pg.GraphicsLayoutWidget()
        self.waterfall_plot = self.plots.addPlot(row=0, col=0)
        self.alpha_plot = self.plots.addPlot(row=1, col=0, title="filters used per merged node (α_v)")
        self.alpha_plot.invertY(True)
        self.alpha_plot.setLabel("bottom", "filters, grouped by part")
        self.alpha_image = pg.ImageItem(axisOrder="row-major")  # rows: nodes
        self.depth_plot = self.plots.addPlot(row=2, col=0, title="held-out metrics per depth")
        self.depth_plot.addLegend(offset=(-10, 10))
        self.depth_plot.setLabel("bottom", "depth")
        body = QHBoxLayout()
        body.addWidget(self.tree_widget, 1)
        body.addWidget(self.plots, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addLayout(body, 1)
        self.sample_spin.valueChanged.connect(self._on_sample_chosen)
        self.depth_spin.valueChanged.connect(self._on_depth_chosen)
        self.tree_widget.itemClicked.connect(self._on_item_clicked)

    # input ---------------------------------------------------------------------------
    def show_result(self, record) -> None:
        self.record = record
        self.result = DecisionTreeResult.from_record(record)
        samples, depth = self.result.paths.shape
        self.state = replace(self.state, sample=min(self.state.sample, samples - 1),
                             depth=min(self.state.depth, depth), node=-1)
        with QSignalBlocker(self.sample_spin), QSignalBlocker(self.depth_spin):
            self.sample_spin.setRange(0, samples - 1)
            self.sample_spin.setValue(self.state.sample)
            self.depth_spin.setMaximum(depth)
            self.depth_spin.setValue(self.state.depth)
        self._fill_tree()
        self.render()

    def set_state(self, **changes) -> None:
        self.state = replace(self.state, **changes)
        self.render()

    def selected_node(self) -> int:
        if self.state.node >= 0:
            return self.state.node
        return int(self.result.paths[self.state.sample, self.state.depth - 1])

    def _on_sample_chosen(self, sample: int) -> None:
        if self.result is not None:
            self.set_state(sample=sample, node=-1)

    def _on_depth_chosen(self, depth: int) -> None:
        if self.result is not None:
            self.set_state(depth=depth, node=-1)

    def _on_item_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        self.set_state(node=int(item.data(0, Qt.UserRole)))

    # rendering -----------------------------------------------------------------------
    def _fill_tree(self) -> None:
        """One item a node, children under their parent; leaves named by their training image."""
        tree, names = self.result.tree, self.result.leaf_names
        self.tree_widget.clear()
        self.items = {}
        counts = tree.leaf_counts()
        for node in range(tree.root, -1, -1):  # parents come after their children: fill from the root down
            parent = tree.parent[node]
            label = "root" if parent < 0 else names[node] if node < len(names) else f"mode {node}"
            item = QTreeWidgetItem([label, str(counts[node]), str(int(tree.alpha[node].sum())),
                                    f"{tree.bias[node]:.3g}"])
            item.setData(0, Qt.UserRole, node)
            if parent < 0:
                self.tree_widget.addTopLevelItem(item)
            else:
                self.items[int(parent)].addChild(item)
            self.items[node] = item
        self.tree_widget.expandToDepth(1)

    def path(self) -> list[int]:
        return [self.result.tree.root, *dict.fromkeys(self.result.paths[self.state.sample].tolist())]

    def render(self) -> None:
        if self.result is None:
            return
        self._render_path()
        self._render_waterfall()
        self._render_alpha()
        self._render_depths()
        self._render_summary()

    def _render_path(self) -> None:
        on_path, selected = set(self.path()), self.selected_node()
        for node, item in self.items.items():
            font = QFont(item.font(0))
            font.setBold(node == selected)
            for column in range(item.columnCount()):
                item.setBackground(column, PATH_BRUSH if node in on_path else QBrush())
                item.setFont(column, font)
        self.tree_widget.setCurrentItem(self.items[selected])
        self.tree_widget.scrollToItem(self.items[selected])

    def _render_waterfall(self) -> None:
        node, sample = self.selected_node(), self.state.sample
        labels, bottoms, heights = waterfall(self.result, node, sample)
        self.waterfall_plot.clear()
        brushes = ["#808080"] + ["#2ca02c" if h >= 0 else "#d62728" for h in heights[1:]]
        self.bar_item = pg.BarGraphItem(x=np.arange(len(labels)), y0=bottoms, height=heights, width=0.8,
                                        brushes=brushes)
        self.waterfall_plot.addItem(self.bar_item)
        self.waterfall_plot.addLine(y=float(self.result.held.target[sample]), pen=pg.mkPen("k", style=Qt.DashLine))
        self.waterfall_plot.getAxis("bottom").setTicks([list(enumerate(labels))])
        self.waterfall_plot.setTitle(f"node {node} on {self.result.sample_names[sample]}: b + parts = h_v "
                                     "(ŷ dashed)")

    def _render_alpha(self) -> None:
        """α of the merged nodes (rows, by depth) over the filters (columns, by part), the
        selected node's row marked (§4.4)."""
        nodes, order, alpha = alpha_rows(self.result)
        self.alpha_plot.clear()
        if not len(nodes):
            return
        self.alpha_image.setImage(1.0 - alpha, levels=(0, 1))  # used: dark, as the figure
        self.alpha_plot.addItem(self.alpha_image)
        for edge in part_edges(self.result, order):
            self.alpha_plot.addLine(x=float(edge), pen=pg.mkPen("b"))
        rows = np.flatnonzero(nodes == self.selected_node())
        if len(rows):
            self.alpha_plot.addLine(y=float(rows[0]) + 0.5, pen=pg.mkPen("r", width=2))

    def _render_depths(self) -> None:
        self.depth_plot.clear()
        self.depth_plot.legend.clear()
        depths = np.arange(1, len(self.result.per_depth) + 1)
        for column, name in enumerate(PER_DEPTH):
            self.depth_plot.plot(depths, self.result.per_depth[:, column], pen=pg.mkPen(column, width=2),
                                 symbol="o", symbolSize=5, name=DEPTH_LABELS[name])
        self.depth_plot.addLine(x=self.state.depth, pen=pg.mkPen("k", style=Qt.DashLine))

    def _render_summary(self) -> None:
        m, node = self.record.metrics, self.selected_node()
        h = float(self.result.tree.hypothesis(node, self.result.held.x[self.state.sample]))
        self.summary.setText(
            f"{self.result.category} at {self.result.layer}: {m['modes']:.0f} decision modes over "
            f"{m['leaves']:.0f} training images, depth {m['depth']:.0f}; fidelity {m['fidelity']:.3f} "
            f"(one node {m['fidelity_one_node']:.3f}) on {m['held_out']:.0f} held-out images and "
            f"{m['negatives']:.0f} others; identity error {m['identity_error']:.2g} (maps), "
            f"{m['identity_error_filter']:.2g} (filters). Node {node}: h_v = {h:.4g}, "
            f"ŷ = {self.result.held.target[self.state.sample]:.4g}.")

    # export --------------------------------------------------------------------------
    def figure_options(self) -> dict:
        return {"sample": self.state.sample, "depth": self.state.depth, "node": self.state.node}

    def figure(self):
        return figures.render(self.record, **self.figure_options())
