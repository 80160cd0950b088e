"""Training dashboard pane: how an interpretable CNN trained (spec: interpretable-cnn §2.12).

κ per epoch of each masked layer and the two losses (model.json's record), the share of each
layer's filters silent on other categories (bars), and for the chosen layer the histogram of
β_f and the filter→category table A (categories × filters, filters grouped by category).
Renders only from `(record, state)`; `figure()` is the export figure, drawn from the same helpers.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine import figures
from engine.figures.training import NO_EPOCHS, beta_histogram, category_matrix
from engine.methods.interpretable_training.result import InterpretableTrainingResult
from gui.panes._imaging import colorize, lut

MATRIX_COLORMAP = "viridis"  # as the figure's


@dataclass(frozen=True)
class TrainingDashboardPaneState:
    """What the user chose in this pane."""

    layer: str | None = None  # the masked layer whose β histogram and table A are shown


class TrainingDashboardPane(QWidget):
    kinds = ("interpretable-training",)
    title = "Training dashboard"

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.record = None
        self.result: InterpretableTrainingResult | None = None
        self.state = TrainingDashboardPaneState()
        self._build()

    # building ------------------------------------------------------------------------
    def _build(self) -> None:
        self.layer_box = QComboBox()
        self.summary = QLabel("Run interpretable-training on an interpretable CNN to see its training here.")
        self.summary.setWordWrap(True)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("layer"))
        controls.addWidget(self.layer_box)
        controls.addWidget(self.summary, 1)
        self.plots = pg.GraphicsLayoutWidget()
        self.kappa_plot = self._plot(0, 0, "epoch", "κ")
        self.loss_plot = self._plot(0, 1, "epoch", "mean loss")
        self.silent_plot = self._plot(0, 2, "", "share of filters", "silent on other categories")
        self.beta_plot = self._plot(1, 0, "β_f", "filters")
        self.matrix_plot = self._plot(1, 1, "filters, by category", "", colspan=2)
        self.matrix_plot.invertY(True)
        self.silent_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush="#2ca02c")
        self.beta_bars = pg.BarGraphItem(x0=[], x1=[], height=[], brush="#1f77b4")
        self.matrix_item = pg.ImageItem(axisOrder="row-major")
        for plot, item in ((self.silent_plot, self.silent_bars), (self.beta_plot, self.beta_bars),
                           (self.matrix_plot, self.matrix_item)):
            plot.addItem(item)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.plots, 1)
        self.layer_box.currentTextChanged.connect(self._on_layer_chosen)

    def _plot(self, row: int, col: int, bottom: str, left: str, title: str = "", colspan: int = 1):
        plot = self.plots.addPlot(row=row, col=col, colspan=colspan, title=title)
        plot.setLabel("bottom", bottom)
        plot.setLabel("left", left)
        plot.setMenuEnabled(False)
        return plot

    # input ---------------------------------------------------------------------------
    def show_result(self, record) -> None:
        self.record = record
        self.result = InterpretableTrainingResult.from_record(record)
        layers = list(self.result.layers)
        layer = self.state.layer if self.state.layer in layers else layers[-1]
        self.state = replace(self.state, layer=layer)
        with QSignalBlocker(self.layer_box):  # refilling the list is not the user choosing a layer
            self.layer_box.clear()
            self.layer_box.addItems(layers)
            self.layer_box.setCurrentText(layer)
        self.render()

    def set_state(self, **changes) -> None:
        self.state = replace(self.state, **changes)
        self.render()

    def _on_layer_chosen(self, layer: str) -> None:
        if layer and self.result is not None:
            self.set_state(layer=layer)

    # rendering -----------------------------------------------------------------------
    def render(self) -> None:
        if self.result is None:
            return
        self._render_epochs()
        self._render_silent()
        layer = self.result.layers[self.state.layer]
        self._render_beta(layer.beta)
        self._render_matrix(layer)

    def _render_epochs(self) -> None:
        """κ of each masked layer and the two losses per epoch (§2.5 step 4, §2.4)."""
        for plot in (self.kappa_plot, self.loss_plot):
            plot.clear()
            if plot.legend is None:
                plot.addLegend(offset=(-10, 10))
            plot.legend.clear()
        epochs, result = self.result.epoch_numbers(), self.result
        self.kappa_plot.setTitle("filter-loss strength κ per epoch" if result.epochs else NO_EPOCHS)
        self.loss_plot.setTitle("losses per epoch" if result.epochs else "")
        for index, layer in enumerate(result.layers):
            self.kappa_plot.plot(epochs, result.trace(f"kappa/{layer}"), pen=pg.mkPen(index, width=2),
                                 symbol="o", name=layer)
        for index, (name, trace) in enumerate(result.loss_traces().items()):
            self.loss_plot.plot(epochs, trace, pen=pg.mkPen(index, width=2), symbol="o",
                                name=name.replace("_", " "))

    def _render_silent(self) -> None:
        shares = [m.silent_share() for m in self.result.layers.values()]
        self.silent_bars.setOpts(x=np.arange(len(shares)), height=np.nan_to_num(shares), width=0.6)
        self.silent_plot.getAxis("bottom").setTicks([list(enumerate(self.result.layers))])
        self.silent_plot.setYRange(0, 1)
        self.silent_plot.setXRange(-0.5, len(shares) - 0.5)
        ratio = self.result.config.silent_ratio
        self.summary.setText(
            f"{self.record.model} on {self.record.data}: {len(self.result.epochs)} epochs recorded. "
            f"Silent on other categories (every other class's mean peak < {ratio:g} × its own): "
            + ", ".join(f"{layer} {share:.2f}" for layer, share in zip(self.result.layers, shares)))

    def _render_beta(self, beta: np.ndarray) -> None:
        counts, edges = beta_histogram(beta)
        self.beta_bars.setOpts(x0=edges[:-1], x1=edges[1:], height=counts)
        self.beta_plot.setTitle(f"{self.state.layer}: β_f of {len(beta)} filters")
        self.beta_plot.autoRange()

    def _render_matrix(self, layer) -> None:
        """Table A with each filter scaled to its largest entry; category names on the left axis."""
        matrix, _ = category_matrix(layer)
        self.matrix_item.setImage(colorize(matrix, lut(MATRIX_COLORMAP), 0.0, 1.0), levels=(0, 255))
        ticks = [(k + 0.5, name) for k, name in enumerate(self.result.categories)]
        self.matrix_plot.getAxis("left").setTicks([ticks])
        self.matrix_plot.getAxis("left").setWidth(max(8 * max(map(len, self.result.categories)), 40))
        self.matrix_plot.setTitle(f"{self.state.layer}: filter→category table A (÷ each filter's largest)")
        self.matrix_plot.autoRange(padding=0)

    # export --------------------------------------------------------------------------
    def figure_options(self) -> dict:
        return {"layer": self.state.layer}

    def figure(self):
        return figures.render(self.record, **self.figure_options())
