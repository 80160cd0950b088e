"""Entropy heatmaps pane: what each layer keeps of the input, layers side by side.

One shared colour scale over every map shown (spec: information §3.10), a second
`information` result of the same data beside it (two networks, same input), a Captum
`baseline` result of the same data below it for contrast, the foreground/background
entropy curve over layers, and σ / entropy of the unit under the mouse.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from engine import figures
from engine.figures.information import layer_token_matrix, region_curve, regions, shared_limits
from gui.panes._imaging import COLORMAPS, colorize, lut, overlay

NONE = "(none)"


@dataclass(frozen=True)
class EntropyHeatmapsPaneState:
    sample: int = 0
    colormap: str = "inferno"
    compare: str | None = None    # id of a second `information` result on the same data
    baseline: str | None = None   # id of a `baseline` result on the same data


class EntropyHeatmapsPane(QWidget):
    kinds = ("information",)
    title = "Entropy heatmaps"

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.record = None
        self.state = EntropyHeatmapsPaneState()
        self.cells: list[tuple] = []  # (view box, record, layer) of every map drawn
        self._build()

    def _build(self) -> None:
        self.sample_spin = QSpinBox()
        self.cmap_box = QComboBox()
        self.cmap_box.addItems(COLORMAPS)
        self.compare_box, self.baseline_box = QComboBox(), QComboBox()
        controls = QHBoxLayout()
        for label, widget in (("sample", self.sample_spin), ("colour map", self.cmap_box),
                              ("compare with", self.compare_box), ("baselines", self.baseline_box)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addStretch(1)
        self.maps_view = pg.GraphicsLayoutWidget()
        self.curve = pg.PlotWidget()
        self.curve.setLabel("left", "mean entropy per cell (nats)")
        self.curve.addLegend()
        self.hover = QLabel("Move the mouse over a map: σ and entropy of that cell.")
        self.tokens = QLabel()
        self.tokens.setWordWrap(True)
        self.tokens.setVisible(False)
        self.calibration = QLabel()
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.calibration)
        layout.addWidget(self.maps_view, 3)
        layout.addWidget(self.tokens)
        layout.addWidget(self.hover)
        layout.addWidget(self.curve, 1)
        self.sample_spin.valueChanged.connect(lambda i: self.set_state(sample=i))
        self.cmap_box.currentTextChanged.connect(lambda name: self.set_state(colormap=name))
        self.compare_box.currentIndexChanged.connect(lambda _: self.set_state(compare=self.compare_box.currentData()))
        self.baseline_box.currentIndexChanged.connect(lambda _: self.set_state(baseline=self.baseline_box.currentData()))
        self.maps_view.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # input ---------------------------------------------------------------------------
    def show_result(self, record) -> None:
        self.record = record
        self.sample_spin.blockSignals(True)
        count = len(record.meta["sample_names"])
        self.sample_spin.setRange(0, count - 1)
        self.sample_spin.blockSignals(False)
        self._fill_partner_boxes()
        self.state = replace(self.state, sample=min(self.state.sample, count - 1), compare=None, baseline=None)
        self.render()

    def _fill_partner_boxes(self) -> None:
        """Other results on the same data: information (to compare) and baselines."""
        for box, kind in ((self.compare_box, "information"), (self.baseline_box, "attribution")):
            box.blockSignals(True)
            box.clear()
            box.addItem(NONE, None)
            for entry in self.document.session.results:
                if entry.status == "done" and entry.kind == kind and entry.data == self.record.data \
                        and entry.id != self._own_id():
                    box.addItem(f"{entry.method} · {entry.model}", entry.id)
            box.blockSignals(False)

    def _own_id(self) -> str | None:
        return self.document.selection.result

    def set_state(self, **changes) -> None:
        self.state = replace(self.state, **changes)
        self.render()

    # rendering -----------------------------------------------------------------------
    def shown_records(self) -> list:
        """This result, and the compared one when chosen: each drawn as one row of layers."""
        records = [self.record]
        if self.state.compare:
            records.append(self.document.record(self.state.compare))
        return records

    def limits(self) -> tuple[float, float]:
        values = [shared_limits(r, r.meta["layers"]) for r in self.shown_records()]
        return min(v[0] for v in values), max(v[1] for v in values)

    def render(self) -> None:
        if self.record is None:
            return
        self.maps_view.clear()
        self.cells = []
        table, (lo, hi) = lut(self.state.colormap), self.limits()
        if self.record.meta.get("inputs") == "text":
            self._render_text(table, lo, hi)
        else:
            self._render_images(table, lo, hi)
        self._render_curve()
        self._render_calibration()

    def _render_text(self, table, lo: float, hi: float) -> None:
        """Per network, the sentence's layer × token matrix; the words coloured by the top layer."""
        for row, record in enumerate(self.shown_records()):
            self.maps_view.addLabel(record.model, row=row, col=0)
            matrix, words = layer_token_matrix(record, record.meta["layers"], self.state.sample)
            rgb = colorize(np.nan_to_num(matrix, nan=hi), table, lo, hi)
            self._add_map(row, 1, np.repeat(np.repeat(rgb, 8, 0), 8, 1), "", (record, None))
            box = self.cells[-1][0]
            for index, layer in enumerate(record.meta["layers"]):  # row labels, left of the matrix
                box.addItem(pg.TextItem(layer, color="w", anchor=(1, 0.5)))
                box.addedItems[-1].setPos(-0.5, index * 8 + 4)
        matrix, words = layer_token_matrix(self.record, self.record.meta["layers"], self.state.sample)
        colours = colorize(matrix[-1], table, lo, hi)
        spans = [f'<span style="background-color: rgb({r},{g},{b}); color: {"black" if r + g > 300 else "white"}">'
                 f"&nbsp;{word}&nbsp;</span>" for word, (r, g, b) in zip(words, colours.tolist())]
        self.tokens.setText(" ".join(spans))
        self.tokens.setVisible(True)

    def _render_images(self, table, lo: float, hi: float) -> None:
        self.tokens.setVisible(False)
        for row, record in enumerate(self.shown_records()):
            self.maps_view.addLabel(record.model, row=row, col=0)
            for col, layer in enumerate(record.meta["layers"], start=1):
                entropy = record.arrays[f"entropy/{layer}"][self.state.sample]
                image = overlay(record.arrays["images"][self.state.sample], entropy, table, lo, hi, alpha=0.75)
                self._add_map(row, col, image, f"{layer} {self._flag(record, layer)}", (record, layer))
        if self.state.baseline:
            self._render_baselines(len(self.shown_records()))

    def _add_map(self, row: int, col: int, rgb: np.ndarray, title: str, source) -> None:
        box = self.maps_view.addViewBox(row=row, col=col, lockAspect=True, invertY=True, enableMenu=False)
        box.addItem(pg.ImageItem(rgb, levels=(0, 255)))
        box.addItem(pg.TextItem(title, color="w", anchor=(0, 0), fill=(0, 0, 0, 150)))
        self.cells.append((box, *source))

    def _flag(self, record, layer: str) -> str:
        return "" if record.arrays[f"calibrated_rows/{layer}"][self.state.sample] else "(uncalibrated)"

    def _render_baselines(self, row: int) -> None:
        baseline = self.document.record(self.state.baseline)
        self.maps_view.addLabel("Captum", row=row, col=0)
        table = lut(self.state.colormap)
        for col, name in enumerate(baseline.meta["baselines"], start=1):
            heat = baseline.arrays[f"attribution/{name}"][self.state.sample]
            bound = float(np.abs(heat).max()) or 1.0
            rgb = overlay(baseline.arrays["images"][self.state.sample], np.abs(heat), table, 0, bound)
            self._add_map(row, col, rgb, name.replace("_", " "), (baseline, name))

    def _render_curve(self) -> None:
        self.curve.clear()
        for index, record in enumerate(self.shown_records()):
            if regions(record) is None:
                continue
            layers, (inside, outside) = record.meta["layers"], regions(record)[1]
            fg, bg = region_curve(record, layers)
            x = list(range(len(layers)))
            self.curve.plot(x, fg, pen=pg.mkPen(index * 2, width=2), symbol="o", name=f"{inside} · {record.model}")
            self.curve.plot(x, bg, pen=pg.mkPen(index * 2 + 1, width=2), symbol="s", name=f"{outside} · {record.model}")
            self.curve.getAxis("bottom").setTicks([list(enumerate(layers))])

    def _render_calibration(self) -> None:
        missed = [f"{l} ({int((~r.arrays[f'calibrated_rows/{l}'].astype(bool)).sum())} of "
                  f"{len(r.arrays[f'calibrated_rows/{l}'])} samples)"
                  for r in self.shown_records() for l in r.meta["layers"]
                  if not r.arrays[f"calibrated_rows/{l}"].all()]
        coarse = " Coarse budget (fewer steps or draws than the spec's)." if self.record.meta.get("coarse") else ""
        text = ("Calibration not reached at τ for " + ", ".join(missed) + "." if missed
                else f"Every map is calibrated at D/D_ref = {self.record.meta.get('tau')}.")
        lo, hi = self.limits()
        self.calibration.setText(f"{text}{coarse} One colour scale for every map: {lo:.0f} … {hi:.0f} nats a unit.")
        self.calibration.setStyleSheet("color: #c0392b;" if missed else "")

    # hover ---------------------------------------------------------------------------
    def _on_mouse_moved(self, scene_pos) -> None:
        for box, record, layer in self.cells:
            if box.sceneBoundingRect().contains(scene_pos):
                point = box.mapSceneToView(scene_pos)
                self.hover.setText(self.describe_point(record, layer, point.x(), point.y()))
                return

    def describe_point(self, record, layer: str | None, x: float, y: float) -> str:
        """σ and entropy of the unit under (x, y): an image cell, a token (text: layer from
        the row), or the baseline's value at that pixel."""
        if record.meta.get("inputs") == "text":
            return self._describe_token(record, int(x // 8), int(y // 8))
        h, w = record.arrays["images"].shape[2:]
        if not (0 <= x < w and 0 <= y < h):
            return ""
        i, px, py = self.state.sample, int(x), int(y)
        if record.kind == "attribution":
            return f"{layer} · pixel ({py}, {px}) · attribution {record.arrays[f'attribution/{layer}'][i, py, px]:.4g}"
        sigma, entropy = record.arrays[f"sigma/{layer}"][i], record.arrays[f"entropy/{layer}"][i]
        r, c = py * sigma.shape[0] // h, px * sigma.shape[1] // w
        er, ec = py * entropy.shape[0] // h, px * entropy.shape[1] // w  # RU maps are per pixel
        return (f"{record.model} · {layer} · cell ({r}, {c}) · σ = {sigma[r, c]:.4g} · "
                f"H = {entropy[er, ec]:.1f} nats{_spread(record, layer, (i, er, ec))}")

    def _describe_token(self, record, token: int, row: int) -> str:
        layers, words = record.meta["layers"], record.meta["words"][self.state.sample]
        if not (0 <= row < len(layers) and 0 <= token < len(words)):
            return ""
        layer, i = layers[row], self.state.sample
        sigma, entropy = record.arrays[f"sigma/{layer}"][i, token], record.arrays[f"entropy/{layer}"][i, token]
        return (f"{record.model} · {layer} · “{words[token]}” · σ = {sigma:.4g} · H = {entropy:.1f} nats"
                f"{_spread(record, layer, (i, token))}")

    # export --------------------------------------------------------------------------
    def figure_options(self) -> dict:
        return {"samples": [self.state.sample], "cmap": self.state.colormap}

    def figure(self):
        return figures.render(self.record, **self.figure_options())


def _spread(record, layer: str, index: tuple) -> str:
    """" ± std over seeds" when the result was run with repeats ≥ 2."""
    key = f"entropy_spread/{layer}"
    return f" ± {record.arrays[key][index]:.1f} over seeds" if key in record.arrays else ""
