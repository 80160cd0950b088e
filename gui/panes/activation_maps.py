"""Activation maps pane: a filters × samples grid of feature maps, and a filter's top samples.

Click a cell → that filter (and sample) becomes the document's selection; the right
side shows the filter's top-k samples with its activation laid over them, and, for an
interpretable layer, that filter on that sample: raw map, template, masked map and μ̂'s
receptive-field centre (spec: interpretable-cnn §2.12, _masked_panels). An explainer's result
(concepts-bias-trees §6) shows the performer's layer and the explainer's masked layer the same
way, with each kept sample's interpretable share p. Renders only
from `(record, state)`; `figure()` gives the same view as a publication figure.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel,
                               QSplitter, QVBoxLayout, QWidget)

from engine import figures
from engine.methods.activations.result import masked_view
from gui.panes._imaging import COLORMAPS, colorize, lut, mosaic, overlay
from gui.panes._masked_panels import MaskedPanels

pg.setConfigOptions(imageAxisOrder="row-major")
GAP_COLOUR = np.array([40, 40, 48], np.uint8)


@dataclass(frozen=True)
class ActivationMapsPaneState:
    """What the user chose in this pane."""

    layer: str | None = None
    filter: int | None = None
    sample: int | None = None   # a kept sample (a grid row); None: the filter's strongest one
    colormap: str = "inferno"
    auto_levels: bool = True
    levels: tuple = (0.0, 1.0)
    top: int = 6


class ActivationMapsPane(QWidget):
    kinds = ("activations", "explainer")  # an explainer's record carries its maps as activations do
    title = "Activation maps"

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.record = None
        self.state = ActivationMapsPaneState()
        self._build()
        document.subscribe(self._on_document)

    # building ------------------------------------------------------------------------
    def _build(self) -> None:
        self.layer_box, self.cmap_box = QComboBox(), QComboBox()
        self.layer_box.setSizeAdjustPolicy(QComboBox.AdjustToContents)  # "explainer.masked" in full
        self.cmap_box.addItems(COLORMAPS)
        self.auto_box = QCheckBox("auto limits")
        self.auto_box.setChecked(True)
        self.lo_spin, self.hi_spin = self._spin(), self._spin()
        controls = QHBoxLayout()
        for label, widget in (("layer", self.layer_box), ("colour map", self.cmap_box)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        for widget in (self.auto_box, QLabel("min"), self.lo_spin, QLabel("max"), self.hi_spin):
            controls.addWidget(widget)
        controls.addStretch(1)
        self.grid_view, self.grid_box, self.grid_item = self._image_view()
        self.top_view, self.top_box, self.top_item = self._image_view()
        self.info = QLabel("Click a cell of the grid: its filter's top samples appear here.")
        self.info.setWordWrap(True)
        self.explainer_info = QLabel()  # an explainer's result: what its interpretable track explains
        self.explainer_info.setWordWrap(True)
        self.explainer_info.setVisible(False)
        self.masked_panels = MaskedPanels()
        self.masked_panels.setVisible(False)
        self.highlight = pg.QtWidgets.QGraphicsRectItem()
        self.highlight.setPen(pg.mkPen("#00e5ff", width=2))
        self.grid_box.addItem(self.highlight)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.info)
        right_layout.addWidget(self.top_view, 1)
        right_layout.addWidget(self.masked_panels, 2)
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.grid_view)
        splitter.addWidget(right)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.explainer_info)
        layout.addWidget(splitter, 1)
        self._connect()

    def _spin(self) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(-1e6, 1e6)
        spin.setDecimals(3)
        spin.setEnabled(False)
        return spin

    def _image_view(self):
        view = pg.GraphicsLayoutWidget()
        box = view.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        item = pg.ImageItem()
        box.addItem(item)
        return view, box, item

    def _connect(self) -> None:
        self.layer_box.currentTextChanged.connect(self._on_layer_chosen)
        self.cmap_box.currentTextChanged.connect(lambda name: self.set_state(colormap=name))
        self.auto_box.toggled.connect(self._on_auto_toggled)
        self.lo_spin.valueChanged.connect(self._on_limits_typed)
        self.hi_spin.valueChanged.connect(self._on_limits_typed)
        self.grid_view.scene().sigMouseClicked.connect(self._on_grid_clicked)

    # input ---------------------------------------------------------------------------
    def show_result(self, record) -> None:
        self.record = record
        layers = record.meta["layers"]
        layer = self.state.layer if self.state.layer in layers else layers[-1]
        self.state = replace(self.state, layer=layer, filter=self.strongest_filter(layer),
                             sample=self.kept_sample(self.state.sample))
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(layers)
        self.layer_box.setCurrentText(layer)
        self.layer_box.blockSignals(False)
        self.render()

    def set_state(self, **changes) -> None:
        self.state = replace(self.state, **changes)
        self.render()

    def _on_layer_chosen(self, layer: str) -> None:
        if layer and self.record is not None:
            self.set_state(layer=layer, filter=self.strongest_filter(layer))
            self.document.select(layer=layer, filter=self.state.filter)

    def _on_auto_toggled(self, auto: bool) -> None:
        self.lo_spin.setEnabled(not auto)
        self.hi_spin.setEnabled(not auto)
        self.set_state(auto_levels=auto, levels=(self.lo_spin.value(), self.hi_spin.value()))

    def _on_limits_typed(self, _value) -> None:
        if not self.state.auto_levels:
            self.set_state(levels=(self.lo_spin.value(), self.hi_spin.value()))

    def _on_grid_clicked(self, event) -> None:
        if self.record is None:
            return
        point = self.grid_box.mapSceneToView(event.scenePos())
        cell = self.cell_at(point.x(), point.y())
        if cell is not None:
            sample, filt = cell
            self.set_state(filter=filt, sample=sample)
            self.document.select(layer=self.state.layer, filter=filt, sample=sample)

    def _on_document(self, event: str, payload) -> None:
        """Follow the shared selection's layer, filter and sample when they belong to this result."""
        if event != "selection" or self.record is None:
            return
        selection = self.document.selection
        if selection.layer not in self.record.meta["layers"]:
            return
        filt = selection.filter if selection.filter is not None else self.state.filter
        sample = self.kept_sample(selection.sample)
        sample = self.state.sample if sample is None else sample
        if (selection.layer, filt, sample) != (self.state.layer, self.state.filter, self.state.sample):
            self.layer_box.blockSignals(True)
            self.layer_box.setCurrentText(selection.layer)
            self.layer_box.blockSignals(False)
            self.set_state(layer=selection.layer, filter=filt, sample=sample)

    def kept_sample(self, sample: int | None) -> int | None:
        """`sample` if the result kept its maps (a grid row), else None."""
        return sample if sample is not None and 0 <= sample < len(self.record.arrays["images"]) else None

    def strongest_filter(self, layer: str) -> int:
        """The filter shown first: the largest mean peak response (as the figure orders them)."""
        return figures.activations.strongest_filters(self.record.arrays[f"filter_max/{layer}"], 1)[0]

    # geometry ------------------------------------------------------------------------
    def maps(self) -> np.ndarray:
        return self.record.arrays[f"maps/{self.state.layer}"]

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(sample, filter) of the grid cell under image coordinates (x, y), if any."""
        s, c, h, w = self.maps().shape
        col, row = int(x // (w + 1)), int(y // (h + 1))
        return (row, col) if 0 <= x and 0 <= y and row < s and col < c else None

    def cell_centre(self, sample: int, filt: int) -> QPointF:
        _, _, h, w = self.maps().shape
        return QPointF(filt * (w + 1) + w / 2, sample * (h + 1) + h / 2)

    # rendering -----------------------------------------------------------------------
    def levels(self) -> tuple[float, float]:
        if not self.state.auto_levels:
            return self.state.levels
        maps = self.maps()
        lo, hi = float(maps.min()), float(maps.max())
        return (lo, hi if hi > lo else lo + 1.0)

    def render(self) -> None:
        if self.record is None or self.state.layer is None:
            return
        lo, hi = self.levels()
        if self.state.auto_levels:
            for spin, value in ((self.lo_spin, lo), (self.hi_spin, hi)):
                spin.blockSignals(True)
                spin.setValue(value)
                spin.blockSignals(False)
        table = lut(self.state.colormap)
        grid = mosaic(self.maps())  # (S, C, h, w) → NaN in the gaps
        rgb = colorize(np.nan_to_num(grid, nan=lo), table, lo, hi)
        rgb[np.isnan(grid)] = GAP_COLOUR
        self.grid_item.setImage(rgb, levels=(0, 255))
        self._render_top(table, lo, hi)
        self._render_masked(table)
        self._render_explainer()

    def _render_top(self, table, lo: float, hi: float) -> None:
        f = self.state.filter
        if f is None:
            self.highlight.setVisible(False)
            self.top_item.clear()
            return
        _, _, h, w = self.maps().shape
        self.highlight.setRect(f * (w + 1) - 0.5, -0.5, w + 1, self.grid_item.height() + 1)
        self.highlight.setVisible(True)
        tiles, peaks, names = self.top_samples(f)
        composites = np.stack([overlay(img, m, table, lo, hi) for img, m in tiles])
        self.top_item.setImage(mosaic(composites[None], gap=2, fill=0), levels=(0, 255))
        self.top_box.autoRange(padding=0.02)
        self.info.setText(f"{self.state.layer} · filter {f} · top samples (peak): "
                          + ", ".join(f"{n} ({p:.3g})" for n, p in zip(names, peaks)))

    def is_masked(self) -> bool:
        """The layer is an interpretable one: the result holds its raw maps and templates."""
        return self.state.layer in self.record.meta.get("masked_grids", {})

    def shown_sample(self) -> int:
        """The kept sample of the interpretable view: the chosen one, else the filter's strongest."""
        if self.state.sample is not None:
            return self.state.sample
        return int(self.maps()[:, self.state.filter].reshape(len(self.maps()), -1).max(1).argmax())

    def _render_masked(self, table) -> None:
        shown = self.is_masked() and self.state.filter is not None
        self.masked_panels.setVisible(shown)
        if not shown:
            return
        f, s = self.state.filter, self.shown_sample()
        view = masked_view(self.record, self.state.layer, s, f)
        levels = view.levels() if self.state.auto_levels else self.state.levels
        (row, col), (x, y) = view.mu, view.rf_centre
        caption = (f"filter {f} on {self.record.meta['sample_names'][s]}: μ̂ = (row {row}, col {col}), "
                   f"RF centre ({x:.1f}, {y:.1f}) px")
        self.masked_panels.show(view, table, levels, caption)

    def _render_explainer(self) -> None:
        """For an explainer (concepts-bias-trees §6): the interpretable share p of each kept sample
        (a grid row), the chosen one's first, and the held-out summary."""
        shown = self.record.kind == "explainer"
        self.explainer_info.setVisible(shown)
        if not shown:
            return
        share, names, m = self.record.arrays["share"], self.record.meta["sample_names"], self.record.metrics
        rows = range(len(self.record.arrays["images"]))
        chosen = self.state.sample if self.state.sample is not None else 0
        self.explainer_info.setText(
            f"explainer of {self.record.meta['layer']} → {self.record.meta['target_layer']}: {names[chosen]} "
            f"p = {share[chosen]:.3f} (share explained by the interpretable filters); rows: "
            + ", ".join(f"{names[r]} {share[r]:.2f}" for r in rows)
            + f". Held out: mean p {m['explained_share']:.3f}, reconstruction error "
            f"{m['reconstruction_error']:.3f}, accuracy from the reconstruction "
            f"{m['performer_accuracy_from_reconstruction']:.3f} (own {m['performer_accuracy']:.3f}).")

    def top_samples(self, f: int):
        """[(image, map)], peak values and sample names of filter f's top samples."""
        a, layer = self.record.arrays, self.state.layer
        index = a[f"topk_index/{layer}"][f][: self.state.top]
        maps = a[f"topk_maps/{layer}"][f][: self.state.top]
        rows = {int(d): r for r, d in enumerate(a["top_image_index"])}
        tiles = [(a["top_images"][rows[int(d)]], m) for d, m in zip(index, maps)]
        names = [self.record.meta["sample_names"][int(d)] for d in index]
        return tiles, [float(m.max()) for m in maps], names

    # export --------------------------------------------------------------------------
    def figure_options(self) -> dict:
        options = {"layer": self.state.layer, "cmap": self.state.colormap, "top": self.state.top}
        if self.state.filter is not None:
            options["filters"] = [self.state.filter]
            if self.is_masked():
                options["sample"] = self.shown_sample()
        if not self.state.auto_levels:
            options["limits"] = self.state.levels
        return options

    def figure(self):
        return figures.render(self.record, **self.figure_options())
