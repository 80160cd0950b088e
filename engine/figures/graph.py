"""Figure of an `explanatory-graph` result: the layered graph and the strongest nodes' patches.

spec: explanatory-graph §1.12: one band per layer, nodes grouped by filter and sized by
score, edges to parents coloured by affinity; top patches of a layer's strongest nodes.
"""
from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from engine.figures._common import grid_figure
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


MARKERS = {"graph": ("o", "tab:orange"), "filter_peak": ("s", "tab:blue"), "nearest_neighbour": ("^", "tab:green")}


def render_inference(record, images: int = 8, nodes: int | None = None, **_):
    """A saved graph on new images: each layer's strongest nodes where they fired."""
    layers, geometry, a = record.meta["layers"], record.meta["geometry"], record.arrays
    nodes = nodes or record.config.get("shown_nodes", 10)
    count = min(images, len(a["images"]))
    figure, axes = grid_figure(2, (count + 1) // 2, cell=1.6, title="graph inference: strongest nodes a layer")
    colours = ["tab:orange", "tab:cyan", "tab:pink", "tab:olive", "tab:purple"]
    for i, ax in enumerate(axes.ravel()[:count]):
        ax.imshow(a["images"][i].transpose(1, 2, 0), interpolation="nearest")
        for layer, colour in zip(layers, colours):
            top = np.argsort(-a[f"scores/{layer}"][i], kind="stable")[:nodes]
            xy = pixel_xy(a[f"positions/{layer}"][i, top], geometry[layer]["centre"], geometry[layer]["stride"])
            ax.scatter(*xy.T, s=10, c=colour, edgecolors="k", linewidths=0.3, label=layer if i == 0 else None)
    axes.ravel()[0].legend(fontsize=5, loc="lower left")
    return figure


def _localization_label(metrics: dict, distance_key: str) -> str:
    """The bar's distance, with the detection and centre-in-box rates where the data had part masks."""
    from engine.methods.part_localization.result import RATES, rate_name  # noqa: PLC0415

    text = f"{metrics.get(distance_key, np.nan):.3f}"
    detection, inside = (metrics.get(rate_name(rate, distance_key), np.nan) for rate in RATES)
    if np.isfinite(detection) and np.isfinite(inside):
        text += f"\ndet. {detection:.2f}\nin box {inside:.2f}"
    return text


def render_localization(record, part: str | None = None, images: int = 6, **_):
    """Few-shot part localisation: mean normalized distance per method, and test images of one part
    with the truth (white cross) and each method's prediction."""
    parts, a = record.meta["parts"], record.arrays
    index = parts.index(part) if part in parts else 0
    test = a[f"test/{index}"]
    count = min(images, len(test))
    figure = Figure(figsize=(2.2 + 1.5 * ((count + 1) // 2), 3.4), layout="constrained")
    left, right = figure.subfigures(1, 2, width_ratios=[2.2, 1.5 * ((count + 1) // 2)])
    bars = left.subplots()
    names = list(MARKERS)
    from engine.methods.part_localization.result import METRIC_NAMES  # noqa: PLC0415

    keys = tuple(METRIC_NAMES.values())
    values = [record.metrics.get(key, np.nan) for key in keys]
    drawn = bars.bar(range(3), values, color=[MARKERS[n][1] for n in names])
    bars.bar_label(drawn, [_localization_label(record.metrics, key) for key in keys], fontsize=5)
    bars.margins(y=0.3)
    bars.set_xticks(range(3), ["graph nodes", "filter peaks", "nearest\nneighbour"], fontsize=6)
    bars.set_ylabel("normalized distance (mean over parts)", fontsize=6)
    bars.tick_params(labelsize=6)
    axes = np.atleast_2d(right.subplots(2, (count + 1) // 2, squeeze=False))
    for ax in axes.ravel():
        ax.set_axis_off()
    for k, ax in enumerate(axes.ravel()[:count]):
        ax.imshow(a["images"][test[k]].transpose(1, 2, 0), interpolation="nearest")
        ax.scatter(*a[f"truth/{index}"][k], marker="x", c="white", s=30, linewidths=1.2)
        for name, (marker, colour) in MARKERS.items():
            ax.scatter(*a[f"prediction/{index}/{name}"][k], marker=marker, c=colour, s=14, edgecolors="k",
                       linewidths=0.3)
    right.suptitle(f"{parts[index]}: {int(record.metrics['shots'])} shots; truth ×", fontsize=8)
    return figure
