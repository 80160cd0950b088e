"""Click-to-annotate part localisation in the graph browser (spec: explanatory-graph §1.7, §1.12).

The user clicks 1-3 centres of one part on the graph's own images: the images the graph was
mined on, already cropped, so a click's pixel (x, y) is what `part-localization` reads
(pixel centres at integers, the landmarks' convention). "Localise" asks for a
part-localization run of this graph through the document (`Document.request_run`: the main
window submits it to the engine thread, as it does every job). When a result of that method
naming this graph is selected, each method's predicted part is drawn on the current image if
it is one of the result's test images, in the markers of the figure (engine/figures/graph.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from matplotlib.colors import to_hex
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.analysis import AnalysisRequest
from engine.figures.graph import MARKERS
from engine.methods.part_localization.config import CONSENSUS, PartLocalizationConfig

LOCALIZATION = "part-localization"
MAX_ANNOTATIONS = 3   # the paper's few shots; a further click replaces the oldest
METHOD_NAMES = {"graph": "graph nodes", "filter_peak": "filter peaks", "nearest_neighbour": "nearest neighbour"}
PG_SYMBOLS = {"o": "o", "s": "s", "^": "t1"}   # the figure's matplotlib markers as pyqtgraph symbols
GLYPHS = {"o": "●", "s": "■", "^": "▲"}
ANNOTATION_COLOUR = "#ff4fd8"


# what the clicks mean ------------------------------------------------------------------
def pixel_at(x: float, y: float, width: int, height: int) -> tuple[float, float] | None:
    """Pixel (x, y) of a view point on a width × height image, to 0.1 px; None off the image."""
    if not (-0.5 <= x <= width - 0.5 and -0.5 <= y <= height - 0.5):
        return None
    return round(float(np.clip(x, 0, width - 1)), 1), round(float(np.clip(y, 0, height - 1)), 1)


def add_annotation(annotations: tuple, image: int, x: float, y: float) -> tuple:
    """The annotations after a click on `image`: one an image (part-localization refuses two on
    one image, so a click replaces that image's), at most MAX_ANNOTATIONS, the oldest dropped."""
    kept = tuple(a for a in annotations if a[0] != image)
    return (*kept, (image, x, y))[-MAX_ANNOTATIONS:]


def annotation_setting(annotations: tuple) -> str:
    """part-localization's `annotations` setting: "IMAGE:X:Y,IMAGE:X:Y"."""
    return ",".join(f"{i}:{x:g}:{y:g}" for i, x, y in annotations)


DEFAULTS = PartLocalizationConfig()


def localisation_request(graph, graph_folder: str, annotations: tuple, consensus: str = DEFAULTS.consensus,
                         mirror: bool = DEFAULTS.mirror) -> AnalysisRequest:
    """part-localization of the user's part by this graph, on the graph's own model and data; the
    graph's crop too, so the run analyses the very images that were clicked. `consensus` and
    `mirror` as the method's settings, sent only where they differ from its defaults."""
    settings = {"graph": graph_folder, "annotations": annotation_setting(annotations),
                "shots": str(len(annotations))}
    if consensus != DEFAULTS.consensus:
        settings["consensus"] = consensus
    if mirror != DEFAULTS.mirror:
        settings["mirror"] = str(mirror).lower()
    if "crop" in graph.config:
        settings["crop"] = str(graph.config["crop"])
    return AnalysisRequest(LOCALIZATION, graph.model, graph.data, list(graph.meta["layers"]), settings)


def names_graph(localization, graph_folder: str | None) -> bool:
    """The part-localization record was run with this graph (its `graph` setting is this folder)."""
    named = localization.config.get("graph") or ""
    return bool(named and graph_folder) and Path(named).resolve() == Path(graph_folder).resolve()


def predictions_on(localization, sample: int) -> dict | None:
    """Pixel (x, y) of the part each method predicts on image `sample` (its first part), and the
    truth where the data knows it; None when `sample` is not one of its test images."""
    a, k = localization.arrays, _test_index(localization, sample)
    if k is None:
        return None
    found = {name: np.asarray(a[f"prediction/0/{name}"][k], float) for name in MARKERS}
    truth = np.asarray(a["truth/0"][k], float)
    return found | ({"truth": truth} if np.isfinite(truth).all() else {})


def read_mirrored(localization, sample: int) -> set:
    """The methods whose prediction on test image `sample` was read on its mirror (`mirror` setting)."""
    a, k = localization.arrays, _test_index(localization, sample)
    return {name for name in MARKERS if k is not None and f"mirrored/0/{name}" in a and a[f"mirrored/0/{name}"][k]}


def _test_index(localization, sample: int) -> int | None:
    """Where image `sample` is among the localisation's test images; None if it is not one."""
    hits = np.flatnonzero(localization.arrays["test/0"] == sample)
    return int(hits[0]) if len(hits) else None


def legend_html(localization, found: dict | None, sample: int) -> str:
    """What the markers on the image are: each method's symbol, colour and predicted pixel."""
    part = localization.meta["parts"][0]
    if found is None:
        return f"part-localization of {part}: image {sample} is not one of its test images"
    mirrored = read_mirrored(localization, sample)
    rows = [f'<span style="color:{to_hex(colour)}">{GLYPHS[marker]}</span> {METHOD_NAMES[name]} '
            f"({found[name][0]:.1f}, {found[name][1]:.1f}{', read mirrored' if name in mirrored else ''})"
            for name, (marker, colour) in MARKERS.items()]
    truth = f" · × truth ({found['truth'][0]:.1f}, {found['truth'][1]:.1f})" if "truth" in found else ""
    return f"{part} part, predicted on this image: " + " · ".join(rows) + truth


def listing_text(annotations: tuple) -> str:
    if not annotations:
        return "no part annotated: turn on Annotate part and click its centre on 1-3 images"
    return f"annotated ({len(annotations)} of {MAX_ANNOTATIONS}): " + " · ".join(
        f"image {i} ({x:.1f}, {y:.1f})" for i, x, y in annotations)


# what the pane shows -------------------------------------------------------------------
class AnnotateBar(QWidget):
    """The mode button, Clear, how to localise (the votes' consensus, the mirror reading),
    Localise, the list of clicks and the predictions' legend."""

    def __init__(self) -> None:
        super().__init__()
        self.mode = QPushButton("Annotate part")
        self.mode.setCheckable(True)
        self.clear, self.localise = QPushButton("Clear"), QPushButton("Localise")
        self.consensus = QComboBox()
        self.consensus.addItems(CONSENSUS)
        self.consensus.setToolTip("how the kept detectors' votes make one prediction: their mean, "
                                  "per axis their weighted median, or the mode of their vote map")
        self.mirror = QCheckBox("mirror too")
        self.mirror.setToolTip("also read each image mirrored and keep the reading whose votes agree "
                               "better, for objects that face either way")
        self.listing, self.legend = QLabel(), QLabel()
        for label in (self.listing, self.legend):
            label.setWordWrap(True)
        buttons = QHBoxLayout()
        for widget in (self.mode, self.clear, QLabel("votes:"), self.consensus, self.mirror, self.localise):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.listing)
        layout.addWidget(self.legend)

    def show(self, annotations: tuple, annotating: bool, can_localise: bool, legend: str) -> None:
        self.mode.blockSignals(True)
        self.mode.setChecked(annotating)
        self.mode.blockSignals(False)
        self.clear.setEnabled(bool(annotations))
        self.localise.setEnabled(can_localise and bool(annotations))
        self.listing.setText(listing_text(annotations))
        self.legend.setText(legend)
        # wrapped labels get one line in a crowded column unless they ask for more
        line = self.legend.fontMetrics().lineSpacing()
        self.listing.setMinimumHeight(2 * line if annotations else 0)
        self.legend.setMinimumHeight(3 * line if legend else 0)


class AnnotationMarks:
    """On an image's view box: the user's clicks on this image (magenta +) and the predicted
    part of each method (the figure's symbols and colours), the truth as a white ×."""

    def __init__(self, box: pg.ViewBox) -> None:
        self.clicks = pg.ScatterPlotItem(symbol="+", size=16, pen=pg.mkPen(ANNOTATION_COLOUR, width=2.5))
        self.predictions = {name: pg.ScatterPlotItem(symbol=PG_SYMBOLS[marker], size=11,
                                                     brush=pg.mkBrush(to_hex(colour)), pen=pg.mkPen("k", width=1))
                            for name, (marker, colour) in MARKERS.items()}
        self.truth = pg.ScatterPlotItem(symbol="x", size=12, pen=pg.mkPen("w", width=2), brush=pg.mkBrush("w"))
        for item in (self.truth, *self.predictions.values(), self.clicks):
            box.addItem(item)
            item.setZValue(10)

    def show(self, clicks_xy: np.ndarray, found: dict | None) -> None:
        self.clicks.setData(pos=np.asarray(clicks_xy, float).reshape(-1, 2))
        for name, item in self.predictions.items():
            item.setData(pos=found[name][None] if found else np.zeros((0, 2)))
        self.truth.setData(pos=found["truth"][None] if found and "truth" in found else np.zeros((0, 2)))
