"""Figure of an `activations` result: a layer's strongest filters, each with its top samples."""
from __future__ import annotations

import numpy as np

from engine.figures._common import grid_figure, overlay


def strongest_filters(filter_max: np.ndarray, count: int) -> list[int]:
    """Filters ordered by their mean peak response over samples, strongest first."""
    return [int(i) for i in np.argsort(-filter_max.mean(0), kind="stable")[:count]]


def render(record, layer: str | None = None, filters=None, top: int = 6,
           cmap: str = "inferno", limits=None, count: int = 8):
    layer = layer or record.meta["layers"][-1]
    arrays = record.arrays
    filters = list(filters) if filters else strongest_filters(arrays[f"filter_max/{layer}"], count)
    topk_index, topk_maps = arrays[f"topk_index/{layer}"], arrays[f"topk_maps/{layer}"]
    rows = {int(d): r for r, d in enumerate(arrays["top_image_index"])}
    top = min(top, topk_index.shape[1])
    figure, axes = grid_figure(len(filters), top, title=f"{layer}: top samples per filter")
    for row, f in enumerate(filters):
        for col in range(top):
            image = arrays["top_images"][rows[int(topk_index[f, col])]]
            overlay(axes[row, col], image, topk_maps[f, col], cmap, limits)
        axes[row, 0].set_axis_on()
        axes[row, 0].set_xticks([]), axes[row, 0].set_yticks([])
        axes[row, 0].set_ylabel(f"filter {f}", fontsize=7)
    return figure
