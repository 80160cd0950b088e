"""Figure of an `explanatory-graph` result: the layered graph and the strongest nodes' patches.

spec: explanatory-graph §1.12: one band per layer, nodes grouped by filter and sized by
score, edges to parents coloured by affinity; top patches of a layer's strongest nodes.
"""
from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from engine.methods.explanatory_graph.layout import node_xy, patch, pixel_xy, strongest, top_images

SHOWN_NODES = 80  # per layer in the graph panel: the strongest, so edges stay readable


def render(record, layer: str | None = None, nodes: int = 6, patches: int = 5, **_):
    layers, geometry, a = record.meta["layers"], record.meta["geometry"], record.arrays
    layer = layer or layers[-1]
    figure = Figure(figsize=(1.0 * patches + 4.8, max(3.2, 1.1 * nodes)), layout="constrained")
    left, right = figure.subfigures(1, 2, width_ratios=[4, 1.0 * patches])
    _draw_graph(left.subplots(), layers, geometry, a)
    axes = np.atleast_2d(right.subplots(nodes, patches, squeeze=False))
    per_filter = geometry[layer]["per_filter"]
    for row, node in enumerate(strongest(a[f"scores/{layer}"], nodes)):
        for col, image_index in enumerate(top_images(a[f"scores/{layer}"], node, patches)):
            xy = pixel_xy(a[f"positions/{layer}"][image_index, node], geometry[layer]["centre"],
                          geometry[layer]["stride"])
            axes[row, col].imshow(patch(a["images"][image_index], xy).transpose(1, 2, 0), interpolation="nearest")
        axes[row, 0].set_title(f"node {node} · filter {node // per_filter}", fontsize=6, loc="left")
    for ax in axes.ravel():
        ax.set_axis_off()
    right.suptitle(f"{layer}: top patches of the strongest nodes", fontsize=8)
    left.suptitle("explanatory graph, layers bottom to top", fontsize=8)
    return figure


def _draw_graph(ax, layers, geometry, arrays) -> None:
    xy = node_xy(layers, geometry)
    shown = {layer: strongest(arrays[f"scores/{layer}"], SHOWN_NODES) for layer in layers}
    for lower, upper in zip(layers, layers[1:]):
        parents, affinity = arrays[f"parents/{lower}"], arrays[f"affinity/{lower}"]
        keep = np.isin(parents[shown[lower]], shown[upper])
        child = np.repeat(shown[lower], parents.shape[1]).reshape(-1, parents.shape[1])
        segments = np.stack([xy[lower][child[keep]], xy[upper][parents[shown[lower]][keep]]], 1)
        lines = LineCollection(segments, array=affinity[shown[lower]][keep], cmap="viridis", linewidths=0.4,
                               alpha=0.6)
        ax.add_collection(lines)
    for layer in layers:
        size = arrays[f"scores/{layer}"].mean(0)[shown[layer]]
        ax.scatter(*xy[layer][shown[layer]].T, s=8 + 40 * size / max(float(size.max()), 1e-9),
                   c="tab:orange", edgecolors="k", linewidths=0.3, zorder=3)
    ax.set_yticks(range(len(layers)), layers, fontsize=7)
    ax.set_xticks([])
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.5, len(layers) - 0.5)
    ax.set_xlabel("filters (nodes grouped by filter)", fontsize=7)
