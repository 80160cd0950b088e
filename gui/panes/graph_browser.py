"""Explanatory graph pane: the layered graph, a node's patches and positions, the EM monitor.

spec: explanatory-graph §1.12. Left, the graph (pan and zoom; level of detail in
_graph_items). Click a node → it becomes the selected node: its top patches, its inferred
position on the current image with its parents, and the drill-down of its filter (each
node of the filter where it fired on this image: which node claims which peak). The
selection's layer and filter are shared with the activation maps pane through the document.
Annotate part: clicks on the current image mark a part; Localise asks for a part-localization
run of this graph, whose predictions are then drawn on the current image (_graph_annotate).
Renders only from `(record, state)`; `figure()` is the CLI's export figure.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QSplitter, QVBoxLayout, QWidget

from engine import figures
from engine.errors import BadInput
from engine.methods.explanatory_graph.layout import patch, pixel_xy, top_images
from engine.methods.explanatory_graph.result import MONITOR_PUBLISHED
from gui.panes import _graph_annotate as annotate
from gui.panes._graph_items import GraphView
from gui.panes._graph_overlays import DrillDown, MonitorPlots, NodeOnImage, image_view
from gui.panes._imaging import mosaic


@dataclass(frozen=True)
class GraphBrowserPaneState:
    """What the user chose in this pane."""

    layer: str | None = None   # layer of the selected node
    node: int | None = None    # the selected node, an index into its layer's nodes
    filter: int | None = None  # the highlighted filter of `layer` (the node's, or the selection's)
    sample: int = 0            # the current image
    patches: int = 6           # top images shown for the selected node
    annotating: bool = False   # Annotate part is on: a click on the current image marks the part
    annotations: tuple = ()    # (image, x, y) pixel centres of the part, at most 3, oldest first
    localization: str | None = None  # result id of the part-localization run of this graph drawn


EMPTY_HINT = ("Run explanatory-graph on a CNN (Run analysis; e.g. demo:partworld-cnn at conv3,conv4,conv5) "
              "to browse its graph here, then click a node: its patches and positions appear here.")


class GraphBrowserPane(QWidget):
    kinds = ("explanatory-graph",)
    title = "Explanatory graph"

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.record = None
        self.state = GraphBrowserPaneState()
        self._build()
        document.subscribe(self._on_document)

    # building ------------------------------------------------------------------------
    def _build(self) -> None:
        self.layer_box, self.sample_spin = QComboBox(), QSpinBox()
        self.lod, self.sample_name = QLabel(), QLabel()
        controls = QHBoxLayout()
        for label, widget in (("layer", self.layer_box), ("image", self.sample_spin)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addWidget(self.sample_name)
        controls.addStretch(1)
        controls.addWidget(self.lod)
        self.graph = GraphView()
        self.info = QLabel(EMPTY_HINT)
        self.info.setWordWrap(True)
        self.patch_view, self.patch_box, self.patch_item = image_view()
        self.patch_caption = QLabel()
        self.patch_caption.setWordWrap(True)
        self.on_image, self.drill = NodeOnImage(), DrillDown()
        self.monitor, self.monitor_title = MonitorPlots(), QLabel()
        self.annotate_bar, self.part_marks = annotate.AnnotateBar(), annotate.AnnotationMarks(self.on_image.box)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self._graph_column())
        splitter.addWidget(self._side_column())
        splitter.setSizes([600, 480])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)
        self._connect()

    def _graph_column(self) -> QSplitter:
        monitor = QWidget()
        layout = QVBoxLayout(monitor)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.monitor_title)
        layout.addWidget(self.monitor, 1)
        column = QSplitter(Qt.Vertical)
        column.addWidget(self.graph)
        column.addWidget(monitor)
        column.setSizes([480, 170])
        return column

    def _side_column(self) -> QWidget:
        images = QHBoxLayout()
        images.addWidget(self.on_image, 1)
        images.addWidget(self.drill, 1)
        column = QWidget()
        layout = QVBoxLayout(column)
        layout.addWidget(self.info)
        layout.addWidget(self.patch_view, 1)
        layout.addWidget(self.patch_caption)
        layout.addLayout(images, 3)
        layout.addWidget(self.annotate_bar)
        return column

    def _connect(self) -> None:
        self.layer_box.currentTextChanged.connect(self._on_layer_chosen)
        self.sample_spin.valueChanged.connect(lambda i: self.set_state(sample=i))
        self.graph.scene().sigMouseClicked.connect(self._on_graph_clicked)
        self.graph.redraw_timer.timeout.connect(self._render_lod)
        self.on_image.scene().sigMouseClicked.connect(self._on_image_clicked)
        self.annotate_bar.mode.toggled.connect(lambda on: self.set_state(annotating=on))
        self.annotate_bar.clear.clicked.connect(lambda: self.set_state(annotations=()))
        self.annotate_bar.localise.clicked.connect(self.localise)

    # input ---------------------------------------------------------------------------
    def show_result(self, record) -> None:
        if record is not self.record:  # clicks and predictions belong to the graph's own images
            self.state = replace(self.state, annotations=(), localization=None)
        self.record = record
        layers, count = record.meta["layers"], len(record.arrays["images"])
        layer = self.state.layer if self.state.layer in layers else layers[-1]
        node = self.strongest_node(layer)
        self.state = replace(self.state, layer=layer, node=node, filter=self.filter_of(layer, node),
                             sample=min(self.state.sample, count - 1))
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(layers)
        self.layer_box.blockSignals(False)
        self.sample_spin.blockSignals(True)
        self.sample_spin.setRange(0, count - 1)
        self.sample_spin.blockSignals(False)
        self.graph.set_graph(record)
        self.render()

    def set_state(self, **changes) -> None:
        self.state = replace(self.state, **changes)
        self.render()

    def select_node(self, layer: str, node: int) -> None:
        """The node becomes the selected one, and its layer and filter the shared selection."""
        filt = self.filter_of(layer, node)
        self.set_state(layer=layer, node=node, filter=filt)
        self.document.select(layer=layer, filter=filt)

    def _on_layer_chosen(self, layer: str) -> None:
        if layer and self.record is not None and layer != self.state.layer:
            self.select_node(layer, self.strongest_node(layer))

    def _on_graph_clicked(self, event) -> None:
        if self.record is None or event.button() != Qt.LeftButton:
            return
        point = self.graph.getViewBox().mapSceneToView(event.scenePos())
        picked = self.graph.node_at(point.x(), point.y())
        if picked is not None:
            self.select_node(*picked)

    def _on_document(self, event: str, payload) -> None:
        """Another pane picked a filter: highlight its nodes and select its strongest one. A
        part-localization result of this graph was selected: draw its predictions. A mining job
        finished an EM iteration: its monitor so far."""
        if event == "job_partial" and payload[1] == MONITOR_PUBLISHED:
            self.show_live_monitor(payload[0], payload[2])
        if event != "selection" or self.record is None:
            return
        if payload.get("result"):
            self._follow_localization(payload["result"])
        if not {"layer", "filter"} & set(payload):
            return
        layer, filt = self.document.selection.layer, self.document.selection.filter
        if layer not in self.record.meta["layers"] or filt is None:
            return
        if not 0 <= filt < self.geometry(layer)["channels"] or (layer, filt) == (self.state.layer, self.state.filter):
            return
        node = self.state.node if self.state.layer == layer and self.filter_of(layer, self.state.node) == filt \
            else self.strongest_node(layer, filt)
        self.set_state(layer=layer, node=node, filter=filt)

    def _on_image_clicked(self, event) -> None:
        if self.record is None or not self.state.annotating or event.button() != Qt.LeftButton:
            return
        point = self.on_image.box.mapSceneToView(event.scenePos())
        height, width = self.record.arrays["images"].shape[-2:]
        xy = annotate.pixel_at(point.x(), point.y(), width, height)
        if xy is not None:
            self.set_state(annotations=annotate.add_annotation(self.state.annotations, self.state.sample, *xy))

    def localise(self) -> None:
        """Ask for part-localization of the annotated part by this graph (the engine thread runs it)."""
        folder = self.graph_folder()
        if self.record is not None and folder and self.state.annotations:
            bar = self.annotate_bar
            self.document.request_run(annotate.localisation_request(
                self.record, folder, self.state.annotations, bar.consensus.currentText(), bar.mirror.isChecked()))

    def _follow_localization(self, result_id: str) -> None:
        try:
            if self.document.session.entry(result_id).kind != annotate.LOCALIZATION:
                return
            localization = self.document.record(result_id)
        except BadInput:
            return
        if annotate.names_graph(localization, self.graph_folder()) and \
                localization.arrays["images"].shape == self.record.arrays["images"].shape:
            self.set_state(localization=result_id)

    # what is where -------------------------------------------------------------------
    def graph_folder(self) -> str | None:
        """This graph's result folder in the session (None for a record the session does not hold)."""
        result_id = self.document.result_id(self.record) if self.record is not None else None
        return str(self.document.session.result_dir(result_id).resolve()) if result_id else None

    def geometry(self, layer: str) -> dict:
        return self.record.meta["geometry"][layer]

    def filter_of(self, layer: str, node: int) -> int:
        return int(node) // self.geometry(layer)["per_filter"]

    def filter_nodes(self, layer: str, filt: int) -> np.ndarray:
        per_filter = self.geometry(layer)["per_filter"]
        return filt * per_filter + np.arange(per_filter)

    def strongest_node(self, layer: str, filt: int | None = None) -> int:
        """The node shown first: the largest mean score (of the layer, or of one filter)."""
        mean = self.record.arrays[f"scores/{layer}"].mean(0)
        if filt is None:
            return int(np.argmax(mean))
        nodes = self.filter_nodes(layer, filt)
        return int(nodes[np.argmax(mean[nodes])])

    def position_px(self, layer: str, sample: int, nodes) -> np.ndarray:
        """(…,2) pixel (x, y) where `nodes` of `layer` fired on image `sample`."""
        g = self.geometry(layer)
        return pixel_xy(self.record.arrays[f"positions/{layer}"][sample, nodes], g["centre"], g["stride"])

    def parents_of(self, layer: str, node: int) -> tuple[str | None, np.ndarray]:
        layers = self.record.meta["layers"]
        upper = layers[layers.index(layer) + 1] if layer != layers[-1] else None
        return upper, self.record.arrays[f"parents/{layer}"][node]

    # rendering -----------------------------------------------------------------------
    def render(self) -> None:
        if self.record is None or self.state.layer is None:
            return
        s = self.state
        self._sync_controls()
        self.graph.show_marks(s.layer, self.filter_nodes(s.layer, s.filter), s.node)
        self.info.setText(self.describe_node())
        self._render_patches()
        image = self.record.arrays["images"][s.sample].transpose(1, 2, 0)
        self.on_image.show(image, *self._node_marks())
        self.drill.show(image, *self._drill_marks())
        self.monitor.show(self.record.arrays[f"monitor/{s.layer}"])
        self.monitor_title.setText(f"EM monitor of {s.layer}, per iteration")
        self._render_part()
        self._render_lod()

    def show_live_monitor(self, job_id: str, monitor: dict) -> None:
        """The EM monitor of the layer a job is mining, up to its latest iteration (§1.12); the
        finished graph's own monitor replaces it once its result is shown."""
        rows = np.asarray(monitor["rows"], dtype=float)
        self.monitor.show(rows)
        self.monitor_title.setText(f"EM monitor of {monitor['layer']} while {job_id} mines: iteration "
                                   f"{len(rows)}/{monitor['iterations']}")

    def _sync_controls(self) -> None:
        for widget, set_value in ((self.layer_box, lambda: self.layer_box.setCurrentText(self.state.layer)),
                                  (self.sample_spin, lambda: self.sample_spin.setValue(self.state.sample))):
            widget.blockSignals(True)
            set_value()
            widget.blockSignals(False)
        self.sample_name.setText(self.record.meta["sample_names"][self.state.sample])

    def describe_node(self) -> str:
        """The selected node's label: layer, node, filter, mean score, σ, parents."""
        s, a = self.state, self.record.arrays
        upper, parents = self.parents_of(s.layer, s.node)
        stride = self.geometry(s.layer)["stride"]
        sigma = float(a[f"sigma/{s.layer}"][s.node])
        parent_text = f"parents in {upper}: " + " ".join(str(int(p)) for p in parents) if len(parents) \
            else "top layer: no parents"
        return (f"{s.layer} · node {s.node} · filter {s.filter} · mean score "
                f"{float(a[f'scores/{s.layer}'][:, s.node].mean()):.3g} · σ = {sigma:.3g} units "
                f"({sigma * stride:.3g} px) · {parent_text}")

    def top_patches(self) -> tuple[np.ndarray, np.ndarray]:
        """(count, s, s, 3) patches of the selected node's top images around where it fired; their indices."""
        s, scores = self.state, self.record.arrays[f"scores/{self.state.layer}"]
        index = top_images(scores, s.node, s.patches)
        tiles = [patch(self.record.arrays["images"][i], self.position_px(s.layer, i, s.node)).transpose(1, 2, 0)
                 for i in index]
        return np.stack(tiles), index

    def _render_patches(self) -> None:
        tiles, index = self.top_patches()
        self.patch_item.setImage(mosaic(tiles[None], gap=2, fill=0), levels=(0, 255))
        self.patch_box.autoRange(padding=0.02)
        scores, names = self.record.arrays[f"scores/{self.state.layer}"], self.record.meta["sample_names"]
        self.patch_caption.setText("top images (score): " + ", ".join(
            f"{names[i]} ({float(scores[i, self.state.node]):.3g})" for i in index))

    def _node_marks(self):
        """The selected node's position and σ (px) on the current image; its parents' positions."""
        s = self.state
        xy = self.position_px(s.layer, s.sample, s.node)
        sigma_px = float(self.record.arrays[f"sigma/{s.layer}"][s.node]) * self.geometry(s.layer)["stride"]
        upper, parents = self.parents_of(s.layer, s.node)
        parent_xy = self.position_px(upper, s.sample, parents) if upper else np.zeros((0, 2))
        score = float(self.record.arrays[f"scores/{s.layer}"][s.sample, s.node])
        title = f"node {s.node} · score {score:.3g} here"
        return xy, sigma_px, parent_xy, title

    def _drill_marks(self):
        """Each node of the filter where it fired on this image, its score; the raw filter's peak."""
        s = self.state
        nodes = self.filter_nodes(s.layer, s.filter)
        g = self.geometry(s.layer)
        peak = pixel_xy(self.record.arrays[f"filter_positions/{s.layer}"][s.sample, s.filter], g["centre"], g["stride"])
        scores = self.record.arrays[f"scores/{s.layer}"][s.sample, nodes]
        return (self.position_px(s.layer, s.sample, nodes), scores, nodes, peak,
                f"filter {s.filter}: its nodes' peaks")

    def _render_part(self) -> None:
        """The clicks on the current image, and the predicted part where the localisation has one."""
        s = self.state
        clicks = [(x, y) for i, x, y in s.annotations if i == s.sample]
        localization = self.document.record(s.localization) if s.localization else None
        found = annotate.predictions_on(localization, s.sample) if localization else None
        self.part_marks.show(np.array(clicks, float), found)
        legend = annotate.legend_html(localization, found, s.sample) if localization else ""
        self.annotate_bar.show(s.annotations, s.annotating, self.graph_folder() is not None, legend)

    def _render_lod(self) -> None:
        if self.graph.edges is not None:
            self.lod.setText(f"edges drawn: {len(self.graph.drawn_edges):,} of {len(self.graph.edges.child):,}")

    # export --------------------------------------------------------------------------
    def figure_options(self) -> dict:
        return {"layer": self.state.layer}

    def figure(self):
        return figures.render(self.record, **self.figure_options())
