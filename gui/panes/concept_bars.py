"""Concept-bars pane: a performer's logit explained by concepts (spec: concepts-bias-trees §3.3
"Analyzer").

For the chosen image: the image and its waterfall b → each α_i·y_i → explained output →
residual → ŷ. Over the data: the concepts' importance (mean |α_i·y_i|, largest first), ŷ against
the explained output (a dot an image; click one to choose it), and the prior w against the
learned α. The chosen image is the document's shared `sample`. Renders only from
`(record, state)`; `figure()` is the export figure, drawn from the same helpers
(engine/figures/concepts.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from engine import figures
from engine.figures.concepts import HELD_COLOUR, TOTAL, importance_order, split_colours, waterfall
from engine.methods.concepts.result import ConceptsResult


def brush(rgb: tuple) -> pg.QtGui.QBrush:
    return pg.mkBrush(*(int(255 * c) for c in rgb))


@dataclass(frozen=True)
class ConceptBarsPaneState:
    """What the user chose in this pane."""

    sample: int = 0   # the image whose waterfall is shown (an index into the result's images)


class ConceptBarsPane(QWidget):
    kinds = ("concepts",)
    title = "Concept bars"

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.record = None
        self.result: ConceptsResult | None = None
        self.state = ConceptBarsPaneState()
        self._build()
        document.subscribe(self._on_document)

    # building ------------------------------------------------------------------------
    def _build(self) -> None:
        self.sample_spin = QSpinBox()
        controls = QHBoxLayout()
        controls.addWidget(QLabel("image"))
        controls.addWidget(self.sample_spin)
        controls.addStretch(1)
        self.summary = QLabel("Run concepts to explain one output by concept predictors here.")
        self.summary.setWordWrap(True)
        self.plots = pg.GraphicsLayoutWidget()
        self.image_box = self.plots.addViewBox(row=0, col=0, lockAspect=True, invertY=True, enableMenu=False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_box.addItem(self.image_item)
        self.waterfall_plot = self.plots.addPlot(row=0, col=1,
                                                 title="b → α_i·y_i → explained → residual → ŷ")
        self.importance_plot = self.plots.addPlot(row=0, col=2, title="concept importance: mean |α_i·y_i|")
        self.scatter_plot = self.plots.addPlot(row=1, col=1, title="ŷ against explained (click an image)")
        self.prior_plot = self.plots.addPlot(row=1, col=2, title="prior w against learned α")
        self.scatter_plot.setLabels(bottom="explained Σ α_i·y_i + b", left="ŷ")
        self.prior_plot.setLabels(bottom="prior w_i", left="learned α_i")
        for plot in (self.waterfall_plot, self.importance_plot, self.scatter_plot, self.prior_plot):
            plot.setMenuEnabled(False)
        self.waterfall_item = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.importance_item = pg.BarGraphItem(x0=[], y=[], width=[], height=0.7, brush=brush(TOTAL))
        self.waterfall_plot.addItem(self.waterfall_item)
        self.importance_plot.addItem(self.importance_item)
        self.importance_plot.invertY(True)
        self.dots = pg.ScatterPlotItem(size=8, pen=None)
        self.chosen_dot = pg.ScatterPlotItem(size=16, pen=pg.mkPen("w", width=2), brush=None)
        self.prior_dots = pg.ScatterPlotItem(size=5, pen=None, brush=brush(TOTAL))
        self.chosen_prior = pg.ScatterPlotItem(size=9, pen=None, brush=brush(HELD_COLOUR))
        for plot, items in ((self.scatter_plot, (self.dots, self.chosen_dot)),
                            (self.prior_plot, (self.prior_dots, self.chosen_prior))):
            for item in items:
                plot.addItem(item)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(self.plots, 1)
        self.sample_spin.valueChanged.connect(self._on_sample_chosen)
        self.dots.sigClicked.connect(self._on_dot_clicked)

    # input ---------------------------------------------------------------------------
    def show_result(self, record) -> None:
        self.record = record
        self.result = ConceptsResult.from_record(record)
        count = len(self.result.sample_names)
        self.state = replace(self.state, sample=min(self.state.sample, count - 1))
        with QSignalBlocker(self.sample_spin):
            self.sample_spin.setRange(0, count - 1)
            self.sample_spin.setValue(self.state.sample)
        self._render_dataset()
        self.render()

    def set_state(self, **changes) -> None:
        self.state = replace(self.state, **changes)
        with QSignalBlocker(self.sample_spin):
            self.sample_spin.setValue(self.state.sample)
        self.render()

    def choose(self, sample: int) -> None:
        """The image becomes this pane's and the document's shared sample."""
        self.set_state(sample=sample)
        self.document.select(sample=sample)

    def _on_sample_chosen(self, sample: int) -> None:
        if self.result is not None:
            self.choose(sample)

    def _on_dot_clicked(self, _item, points, _event=None) -> None:
        if self.result is not None and len(points):
            self.choose(int(points[0].data()))

    def _on_document(self, event: str, payload) -> None:
        """Follow the shared sample when it is one of this result's images."""
        if event != "selection" or self.result is None or "sample" not in payload:
            return
        sample = self.document.selection.sample
        if sample is not None and 0 <= sample < len(self.result.sample_names) and sample != self.state.sample:
            self.set_state(sample=sample)

    # rendering -----------------------------------------------------------------------
    def _render_dataset(self) -> None:
        """What does not depend on the chosen image: importance bars and both scatters' dots."""
        result, order = self.result, importance_order(self.result)
        self.importance_item.setOpts(x0=np.zeros(len(order)), y=np.arange(len(order)),
                                     width=result.importance()[order], height=0.7)
        self.importance_plot.getAxis("left").setTicks([[(k, result.concept_names[i]) for k, i in enumerate(order)]])
        self.dots.setData(x=result.explained, y=result.yhat, data=np.arange(len(result.yhat)),
                          brush=[brush(c) for c in split_colours(result)])
        self.prior_dots.setData(x=result.prior.ravel(), y=result.alpha.ravel())

    def render(self) -> None:
        if self.result is None:
            return
        result, sample = self.result, self.state.sample
        self.image_item.setImage(result.images[sample].transpose(1, 2, 0), levels=(0, 255))
        bars = waterfall(result, sample)
        self.waterfall_item.setOpts(x=np.arange(len(bars.labels)), y0=bars.bottoms, height=bars.heights,
                                    brushes=[brush(c) for c in bars.colours])
        self.waterfall_plot.getAxis("bottom").setTicks([list(enumerate(bars.labels))])
        self.chosen_dot.setData(x=[result.explained[sample]], y=[result.yhat[sample]])
        self.chosen_prior.setData(x=result.prior[sample], y=result.alpha[sample])
        self._render_summary()

    def _render_summary(self) -> None:
        result, m, sample = self.result, self.record.metrics, self.state.sample
        split = "held out" if result.held_out[sample] else "training"
        self.summary.setText(
            f"{result.target} of {self.record.model} by {len(result.concept_names)} concepts"
            f"{' of ' + result.model2 if result.model2 else ''}; g fitted on {self.record.meta['train']} images, "
            f"{self.record.meta['held']} held out: explained share {m['explained_share']:.3f}, relative deviation "
            f"{m['relative_deviation']:.3f}, contribution entropy {m['contribution_entropy']:.2f} nats. "
            f"{result.sample_names[sample]} ({split}): ŷ {result.yhat[sample]:.3f} = explained "
            f"{result.explained[sample]:.3f} + residual {result.residual[sample]:.3f} "
            f"(share {result.explained_share[sample]:.3f}; standardised units)")

    # export --------------------------------------------------------------------------
    def figure_options(self) -> dict:
        return {"sample": self.state.sample}

    def figure(self):
        return figures.render(self.record, **self.figure_options())
