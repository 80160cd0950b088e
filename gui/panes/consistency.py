"""Consistency pane: what two networks share at each order of nonlinearity (spec:
knowledge-consistency §4.8).

On top, stacked bars of the held-out fractions of orders 0…K and of the residual for every
layer pair in both directions (A→B's residual: blind spots of A; B→A's: unreliable features of
A), beside the chosen pair's held-out MSE per epoch with its gates. Below, on one kept held-out
image: A's and B's features side by side, then each component of the chosen direction, as
energy over channels (one colour scale for the target and its components) or one channel of
the target (diverging). Renders only from `(record, state)`; `figure()` is the export figure,
drawn from the same helpers (engine/figures/consistency.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from engine import figures
from engine.figures.consistency import ARROWS, bar_rows, colormap_of, component_colours, limits, map_panels
from engine.methods.consistency.result import DIRECTION_LABELS, ConsistencyResult, component_labels
from gui.panes._imaging import lut, overlay

ENERGY = "energy"  # the channel box's text for −1: energy over every channel


@dataclass(frozen=True)
class ConsistencyPaneState:
    """What the user chose in this pane."""

    pair: str | None = None    # label of the layer pair whose curves and maps are shown
    direction: str = "a_to_b"  # a_to_b: B rebuilt from A; b_to_a: A rebuilt from B
    sample: int = 0            # index among the kept held-out images
    channel: int = -1          # the target's channel shown; −1: energy over every channel


class ConsistencyPane(QWidget):
    kinds = ("consistency",)
    title = "Consistency"

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.record = None
        self.result: ConsistencyResult | None = None
        self.state = ConsistencyPaneState()
        self.bar_items: list[pg.BarGraphItem] = []   # one a component, orders 0…K then the residual
        self.map_items: list[tuple[str, pg.ImageItem]] = []
        self._build()

    # building ------------------------------------------------------------------------
    def _build(self) -> None:
        self.pair_box, self.direction_box = QComboBox(), QComboBox()
        for direction, label in DIRECTION_LABELS.items():
            self.direction_box.addItem(label, direction)
        self.sample_spin, self.channel_spin = QSpinBox(), QSpinBox()
        self.channel_spin.setMinimum(-1)
        self.channel_spin.setSpecialValueText(ENERGY)
        controls = QHBoxLayout()
        for label, widget in (("layers", self.pair_box), ("direction", self.direction_box),
                              ("image", self.sample_spin), ("channel", self.channel_spin)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addStretch(1)
        self.summary = QLabel("Run consistency with --model2 to compare two networks here.")
        self.summary.setWordWrap(True)
        self.plots = pg.GraphicsLayoutWidget()
        self.bars_plot = self.plots.addPlot(row=0, col=0, title="share of the target's variance (held out)")
        self.curve_plot = self.plots.addPlot(row=0, col=1)
        self.curve_plot.setLogMode(y=True)
        self.curve_plot.setLabel("bottom", "epoch")
        for plot in (self.bars_plot, self.curve_plot):
            plot.setMenuEnabled(False)
            plot.addLegend(offset=(-10, 10))
        self.maps_view = pg.GraphicsLayoutWidget()
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.maps_view, 1)
        self.pair_box.currentTextChanged.connect(self._on_pair_chosen)
        self.direction_box.currentIndexChanged.connect(self._on_direction_chosen)
        self.sample_spin.valueChanged.connect(self._on_sample_chosen)
        self.channel_spin.valueChanged.connect(self._on_channel_chosen)

    # input ---------------------------------------------------------------------------
    def show_result(self, record) -> None:
        self.record = record
        self.result = ConsistencyResult.from_record(record)
        labels = [p.label for p in self.result.pairs]
        pair = self.state.pair if self.state.pair in labels else labels[0]
        samples = len(self.result.sample_names)
        self.state = replace(self.state, pair=pair, sample=min(self.state.sample, samples - 1), channel=-1)
        with QSignalBlocker(self.pair_box), QSignalBlocker(self.sample_spin), QSignalBlocker(self.channel_spin):
            self.pair_box.clear()
            self.pair_box.addItems(labels)
            self.pair_box.setCurrentText(pair)
            self.sample_spin.setRange(0, samples - 1)
            self.sample_spin.setValue(self.state.sample)
            self.channel_spin.setValue(-1)
        self.render()

    def set_state(self, **changes) -> None:
        self.state = replace(self.state, **changes)
        self.render()

    def shown_pair(self):
        return next(p for p in self.result.pairs if p.label == self.state.pair)

    def _on_pair_chosen(self, label: str) -> None:
        if label and self.result is not None:
            self.set_state(pair=label, channel=-1)

    def _on_direction_chosen(self, index: int) -> None:
        if self.result is not None:
            self.set_state(direction=self.direction_box.itemData(index), channel=-1)

    def _on_sample_chosen(self, sample: int) -> None:
        if self.result is not None:
            self.set_state(sample=sample)

    def _on_channel_chosen(self, channel: int) -> None:
        if self.result is not None:
            self.set_state(channel=channel)

    # rendering -----------------------------------------------------------------------
    def render(self) -> None:
        if self.result is None:
            return
        pair = self.shown_pair()
        with QSignalBlocker(self.channel_spin), QSignalBlocker(self.direction_box):
            self.channel_spin.setMaximum(getattr(pair, self.state.direction).components.shape[2] - 1)
            self.channel_spin.setValue(self.state.channel)
            self.direction_box.setCurrentIndex(self.direction_box.findData(self.state.direction))
        self._render_bars()
        self._render_curves(pair)
        self._render_maps(pair)
        self._render_summary(pair)

    def _render_bars(self) -> None:
        """Orders 0…K from the bottom, the residual on top, two bars (A→B, B→A) a layer pair."""
        self.bars_plot.clear()
        self.bars_plot.legend.clear()
        labels, rows = bar_rows(self.result)
        order = self.result.config.max_order
        bottom, x = np.zeros(len(rows)), np.arange(len(rows))
        self.bar_items = []
        for k, (name, colour) in enumerate(zip(component_labels(order), component_colours(order))):
            item = pg.BarGraphItem(x=x, y0=bottom.copy(), height=rows[:, k], width=0.7,
                                   brush=pg.mkBrush(*(int(255 * c) for c in colour)))
            self.bars_plot.addItem(item)
            self.bars_plot.legend.addItem(item, name)
            self.bar_items.append(item)
            bottom += rows[:, k]
        self.bars_plot.getAxis("bottom").setTicks([list(enumerate(labels))])
        self.bars_plot.setYRange(0, 1)
        self.bars_plot.setXRange(-0.5, len(rows) + 0.5)   # room on the right for the legend

    def _render_curves(self, pair) -> None:
        self.curve_plot.clear()
        self.curve_plot.legend.clear()
        for index, (direction, arrow) in enumerate(ARROWS.items()):
            measured = getattr(pair, direction)
            gates = ", ".join(f"{p:.2f}" for p in measured.gates)
            self.curve_plot.plot(np.arange(1, len(measured.curve) + 1), measured.curve[:, 2],
                                 pen=pg.mkPen(index, width=2), name=f"{arrow} (p = {gates})")
        self.curve_plot.setTitle(f"{pair.label}: held-out MSE ÷ Var(target)")

    def _render_maps(self, pair) -> None:
        """The image, A's and B's features, the components: energy maps or one channel, over the image."""
        self.maps_view.clear()
        channel, sample = self.state.channel, self.state.sample
        panels = map_panels(self.result, pair, self.state.direction, sample, channel)
        scales = limits(panels, channel)
        photo, name = self.result.images[sample], self.result.sample_names[sample]
        self.map_items = [(name, self._add_map(0, photo.transpose(1, 2, 0), name))]
        image = photo.astype(np.float32) / 255.0
        for col, panel in enumerate(panels, start=1):
            rgb = overlay(image, panel.values, lut(colormap_of(panel, channel)), *scales[panel.scale])
            self.map_items.append((panel.title, self._add_map(col, rgb, panel.title)))

    def _add_map(self, col: int, rgb: np.ndarray, title: str) -> pg.ImageItem:
        box = self.maps_view.addViewBox(row=0, col=col, lockAspect=True, invertY=True, enableMenu=False)
        item = pg.ImageItem(rgb.astype(np.uint8), levels=(0, 255), axisOrder="row-major")
        box.addItem(item)
        box.addItem(pg.TextItem(title, color="w", anchor=(0, 0), fill=(0, 0, 0, 150)))
        return item

    def _render_summary(self, pair) -> None:
        measured, result = getattr(pair, self.state.direction), self.result
        shares = ", ".join(f"{name} {value:.3f}" for name, value in
                           zip(component_labels(result.config.max_order), measured.fractions()))
        self.summary.setText(
            f"A = {self.record.model}, B = {result.model2}; g fitted on {result.counts['train']} images, "
            f"measured on {result.counts['held_out']} held out. {pair.label} "
            f"{DIRECTION_LABELS[self.state.direction]}: {shares} (training images: residual "
            f"{measured.fractions(train=True)[-1]:.3f}); gates p = "
            + ", ".join(f"{p:.3f}" for p in measured.gates) + "; ReLUs on (share, a stage: none on adds "
            "nothing) " + ", ".join(f"{on:.3f}" for on in measured.relu_on))

    # export --------------------------------------------------------------------------
    def figure_options(self) -> dict:
        return {"pair": self.state.pair, "direction": self.state.direction, "sample": self.state.sample,
                "channel": self.state.channel}

    def figure(self):
        return figures.render(self.record, **self.figure_options())
