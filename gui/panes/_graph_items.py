"""The layered explanatory graph as pyqtgraph items, with level of detail for 10⁴+ nodes.

spec: explanatory-graph §1.12: one band per conv layer, nodes grouped by filter, node size
by mean score, edges to parents coloured by affinity. Every edge is laid out once
(`edge_set`); a change of the view's range only chooses which of them the few line items
draw (`edges_to_draw`): all edges of the nodes in view when they fit the budget, else the
strongest of them. One line item per affinity colour bin, drawn with connect="pairs".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QTimer
from PySide6.QtWidgets import QGraphicsView

from engine.methods.explanatory_graph.layout import node_xy
from gui.panes._imaging import lut

EDGE_BUDGET = 20_000      # segments drawn at most (software GL and raster stay interactive)
COLOUR_BINS = 8           # affinity colour steps: one line item each
PICK_RADIUS_PX = 8        # a click this close to a node picks it
NODE_COLOURS = ("#f39c12", "#f8c471")   # alternate filters, so the filter groups read apart
REDRAW_DELAY_MS = 15      # range changes of one drag gesture coalesce into one redraw


@dataclass(frozen=True)
class EdgeSet:
    """Every child → parent edge of a record, in drawing coordinates."""

    segments: np.ndarray    # (E,2,2): child (x, y), parent (x, y)
    child: np.ndarray       # (E,) index of the child in the flat node list
    parent: np.ndarray      # (E,) index of the parent in the flat node list
    strength: np.ndarray    # (E,) what decimation keeps first: affinity × child's mean score
    colour_bin: np.ndarray  # (E,) 0 … COLOUR_BINS-1 of the affinity colour scale
    limits: tuple           # affinity at the ends of the colour scale


@dataclass(frozen=True)
class NodeSet:
    """Every node of a record, bottom layer first: where it is drawn and how big."""

    layers: list
    xy: np.ndarray          # (K_total,2) drawing coordinates
    layer_index: np.ndarray  # (K_total,) band of each node
    node: np.ndarray        # (K_total,) index of each node in its layer
    offsets: dict           # layer → first flat index of its nodes
    mean_score: np.ndarray  # (K_total,)

    def flat(self, layer: str, nodes) -> np.ndarray:
        return self.offsets[layer] + np.asarray(nodes)


def node_set(record) -> NodeSet:
    layers, a = record.meta["layers"], record.arrays
    xy = node_xy(layers, record.meta["geometry"])
    counts = [len(xy[layer]) for layer in layers]
    offsets = dict(zip(layers, np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)))
    return NodeSet(layers, np.concatenate([xy[layer] for layer in layers]),
                   np.repeat(np.arange(len(layers)), counts), np.concatenate([np.arange(c) for c in counts]),
                   offsets, np.concatenate([a[f"scores/{layer}"].mean(0) for layer in layers]))


def edge_set(record, nodes: NodeSet) -> EdgeSet:
    """Edges of each layer to its parents in the layer above (the top layer has none)."""
    a, layers = record.arrays, nodes.layers
    child, parent, affinity = [], [], []
    for lower, upper in zip(layers, layers[1:]):
        parents = a[f"parents/{lower}"]
        child.append(nodes.flat(lower, np.repeat(np.arange(len(parents)), parents.shape[1])))
        parent.append(nodes.flat(upper, parents.ravel()))
        affinity.append(a[f"affinity/{lower}"].ravel())
    child, parent, affinity = (np.concatenate(v) if v else np.zeros(0, int) for v in (child, parent, affinity))
    # colour scale over the middle 96 % so one outlier does not wash every edge into one colour
    lo, hi = (np.percentile(affinity, [2, 98]) if len(affinity) else (0.0, 1.0))
    hi = hi if hi > lo else lo + 1.0
    bins = np.clip(((affinity - lo) / (hi - lo) * COLOUR_BINS).astype(int), 0, COLOUR_BINS - 1)
    return EdgeSet(np.stack([nodes.xy[child], nodes.xy[parent]], 1), child, parent,
                   affinity * nodes.mean_score[child], bins, (float(lo), float(hi)))


def nodes_in_view(nodes: NodeSet, view: tuple) -> np.ndarray:
    """(K_total,) bool: the node lies inside view ((x0, x1), (y0, y1))."""
    (x0, x1), (y0, y1) = view
    x, y = nodes.xy[:, 0], nodes.xy[:, 1]
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def edges_to_draw(edges: EdgeSet, visible: np.ndarray, budget: int = EDGE_BUDGET,
                  always: np.ndarray | None = None) -> np.ndarray:
    """Indices of the edges to draw, at most `budget`: first those touching an `always` node (the
    selected one), then those with an end on a visible node, the strongest first."""
    own = np.zeros(len(edges.child), bool)
    if always is not None:
        own = always[edges.child] | always[edges.parent]
    room = max(budget - int(own.sum()), 0)
    index = np.flatnonzero((visible[edges.child] | visible[edges.parent]) & ~own)
    if len(index) > room:
        index = index[np.argpartition(-edges.strength[index], room - 1)[:room]] if room else index[:0]
    return np.union1d(index, np.flatnonzero(own))


class GraphView(pg.PlotWidget):
    """Nodes, edges, the highlighted filter and the selected node; pan and zoom by the view box."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="#16161c")
        # whole-viewport repaints: with pyqtgraph's minimal updates, the repaint after a graph
        # arrived had an exposed region of three rectangles (the plot area and two slivers the
        # layout's settling touched), and Qt's raster engine strokes a path against a clip of more
        # than one rectangle about 55x slower: 0.05-0.5 s an edge item, about 1 s of GUI stall
        # (tests/bench/graph_pane.py measures both the stall and the clip's cost)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.nodes: NodeSet | None = None
        self.edges: EdgeSet | None = None
        self.drawn_edges = np.zeros(0, int)
        self.drawn_for: tuple | None = None   # (view, selected node) the line items hold the edges of
        self.selected_flat: int | None = None
        self.plotItem.hideAxis("bottom")
        self.plotItem.setMenuEnabled(False)
        self.plotItem.hideButtons()
        table = lut("viridis")[(np.arange(COLOUR_BINS) * 255) // max(COLOUR_BINS - 1, 1)]
        self.edge_items = [pg.PlotCurveItem(pen=pg.mkPen((*rgb, 150), width=1), connect="pairs",
                                            skipFiniteCheck=True) for rgb in table.tolist()]
        self.node_item = pg.ScatterPlotItem(pen=None, pxMode=True)
        self.filter_item = pg.ScatterPlotItem(pen=pg.mkPen("#00e5ff", width=1.5), brush=None, pxMode=True)
        self.selected_item = pg.ScatterPlotItem(pen=pg.mkPen("w", width=2.5), brush=None, size=16, pxMode=True)
        for item in (*self.edge_items, self.node_item, self.filter_item, self.selected_item):
            self.addItem(item)
        self.redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_DELAY_MS)
        self.redraw_timer.timeout.connect(self.redraw_edges)
        self.getViewBox().sigRangeChanged.connect(lambda *_: self.redraw_timer.start())

    def set_graph(self, record) -> None:
        """Lay out a record's graph (once per record) and frame all of it. The edges are drawn by the
        pane's selection (show_marks), or else by the range change's redraw timer: drawing them here
        too uploaded every edge twice as a graph arrived."""
        self.nodes = nodes = node_set(record)
        self.edges = edge_set(record, nodes)
        self.selected_flat = self.drawn_for = None
        self.node_item.setData(pos=nodes.xy, size=self._node_sizes(nodes), brush=self._node_brushes(record, nodes))
        self.getAxis("left").setTicks([list(enumerate(nodes.layers))])
        self.frame_all()

    def _node_sizes(self, nodes: NodeSet) -> np.ndarray:
        """3 … 11 px by mean score, relative to the strongest node of the same layer (as the figure);
        in half-pixel steps, since pyqtgraph renders one symbol image per distinct size and brush."""
        top = np.array([nodes.mean_score[nodes.layer_index == b].max() for b in range(len(nodes.layers))])
        size = 3.0 + 8.0 * nodes.mean_score / np.maximum(top[nodes.layer_index], 1e-9)
        return np.round(size * 2) / 2

    def _node_brushes(self, record, nodes: NodeSet) -> list:
        per_filter = np.array([record.meta["geometry"][l]["per_filter"] for l in nodes.layers])
        parity = (nodes.node // per_filter[nodes.layer_index]) % 2
        brushes = [pg.mkBrush(c) for c in NODE_COLOURS]
        return [brushes[p] for p in parity]

    def frame_all(self) -> None:
        self.setRange(xRange=(0.0, 1.0), yRange=(-0.5, len(self.nodes.layers) - 0.5), padding=0.02)

    # level of detail -------------------------------------------------------------------
    def view(self) -> tuple:
        return tuple(tuple(r) for r in self.getViewBox().viewRange())

    def redraw_edges(self) -> None:
        """Hand the edges of what is in view (within the budget) to the line items; nothing when they
        hold those already (a range change that moved nothing: a second upload and repaint of every edge)."""
        wanted = (self.view(), self.selected_flat)
        if self.nodes is None or self.drawn_for == wanted:
            return
        self.drawn_for = wanted
        always = None
        if self.selected_flat is not None:
            always = np.zeros(len(self.nodes.xy), bool)
            always[self.selected_flat] = True
        self.drawn_edges = edges_to_draw(self.edges, nodes_in_view(self.nodes, self.view()), always=always)
        bins = self.edges.colour_bin[self.drawn_edges]
        for b, item in enumerate(self.edge_items):
            chosen = self.drawn_edges[bins == b]
            points = self.edges.segments[chosen].reshape(-1, 2)
            item.setData(points[:, 0], points[:, 1], connect="pairs", skipFiniteCheck=True)

    def drawn_segments(self) -> int:
        """Segments the line items hold now (two points each)."""
        return sum(len(item.xData) // 2 for item in self.edge_items if item.xData is not None)

    # marks -------------------------------------------------------------------------------
    def show_marks(self, layer: str | None, filter_nodes, node: int | None) -> None:
        """Ring the highlighted filter's nodes and the selected node; its edges always drawn."""
        if self.nodes is None:
            return
        rings = self.nodes.xy[self.nodes.flat(layer, filter_nodes)] if layer and len(filter_nodes) else np.zeros((0, 2))
        self.filter_item.setData(pos=rings, size=12)
        flat = int(self.nodes.flat(layer, node)) if layer and node is not None else None
        self.selected_item.setData(pos=self.nodes.xy[[flat]] if flat is not None else np.zeros((0, 2)))
        if flat != self.selected_flat:
            self.selected_flat = flat
            self.redraw_edges()

    def node_at(self, x: float, y: float) -> tuple[str, int] | None:
        """(layer, node) of the node nearest view point (x, y), within PICK_RADIUS_PX pixels."""
        if self.nodes is None:
            return None
        px, py = self.getViewBox().viewPixelSize()
        distance = np.hypot((self.nodes.xy[:, 0] - x) / px, (self.nodes.xy[:, 1] - y) / py)
        nearest = int(np.argmin(distance))
        if distance[nearest] > PICK_RADIUS_PX:
            return None
        return self.nodes.layers[self.nodes.layer_index[nearest]], int(self.nodes.node[nearest])

    def node_point(self, layer: str, node: int) -> QPointF:
        x, y = self.nodes.xy[self.nodes.flat(layer, node)]
        return QPointF(float(x), float(y))
