"""Figure of an `activations` result: a layer's strongest filters, each with its top samples;
for an interpretable layer and one sample, that filter's raw map, template, masked map and
μ̂'s receptive-field centre on the image (spec: interpretable-cnn §2.12)."""
from __future__ import annotations

import numpy as np

from engine.figures._common import grid_figure, overlay, show_image

TEMPLATE_CMAP = "RdBu_r"   # the template spans [−1, 1]: blue below zero, red above
MARKER_COLOUR = "#00e5ff"


def strongest_filters(filter_max: np.ndarray, count: int) -> list[int]:
    """Filters ordered by their mean peak response over samples, strongest first."""
    return [int(i) for i in np.argsort(-filter_max.mean(0), kind="stable")[:count]]


def render(record, layer: str | None = None, filters=None, top: int = 6,
           cmap: str = "inferno", limits=None, count: int = 8, sample: int | None = None):
    layer = layer or record.meta["layers"][-1]
    arrays = record.arrays
    filters = list(filters) if filters else strongest_filters(arrays[f"filter_max/{layer}"], count)
    if sample is not None and layer in record.meta.get("masked_grids", {}):
        return render_masked(record, layer, int(filters[0]), int(sample), cmap, limits)
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


def render_masked(record, layer: str, filt: int, sample: int, cmap: str = "inferno", limits=None):
    """Raw map, chosen template, masked map (the raw map's limits) and the image with μ̂'s RF centre."""
    from engine.methods.activations.result import masked_view  # noqa: PLC0415

    view = masked_view(record, layer, sample, filt)
    lo, hi = limits if limits else view.levels()
    name = record.meta["sample_names"][sample]
    figure, axes = grid_figure(1, 4, cell=1.9, title=f"{layer} · filter {filt} · {name}")
    panels = ((view.raw, "raw map x", cmap, (lo, hi)), (view.template, "template T_μ̂", TEMPLATE_CMAP, (-1, 1)),
              (view.masked, "masked relu(x·T_μ̂)", cmap, (lo, hi)))
    for ax, (heat, title, colours, (vmin, vmax)) in zip(axes[0], panels):
        ax.imshow(heat, cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(title, fontsize=7)
    ax = axes[0, 3]
    show_image(ax, view.image)
    ax.plot(*view.outline.T, color=MARKER_COLOUR, lw=0.8)
    ax.scatter(*view.rf_centre, s=80, marker="+", linewidths=1.5, color=MARKER_COLOUR)
    height, width = view.image.shape[1:]
    ax.set_xlim(-0.5, width - 0.5), ax.set_ylim(height - 0.5, -0.5)  # the diamond may reach past the image
    ax.set_title("RF centre of μ̂", fontsize=7)
    return figure
