"""Figure of an `information` result: entropy maps of each layer on one colour scale, and the
foreground/background entropy curve over layers (spec: information §3.10)."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from engine.figures._common import overlay, show_image


def shared_limits(record, layers) -> tuple[float, float]:
    """One colour scale for every layer shown: the 2nd–98th percentile of their entropies."""
    values = np.concatenate([record.arrays[f"entropy/{l}"].ravel() for l in layers])
    lo, hi = np.nanpercentile(values, [2, 98])
    return float(lo), float(hi if hi > lo else lo + 1)


def regions(record) -> tuple[np.ndarray, tuple[str, str]] | None:
    """The ground-truth split of the units, and its two names: the object's cells (PartWorld)
    or the label-deciding words (KeywordText); None without ground truth."""
    if "foreground_share" in record.arrays:
        return record.arrays["foreground_share"] >= 0.5, ("foreground", "background")
    if "keyword_masks" in record.arrays:
        return record.arrays["keyword_masks"], ("keywords", "other words")
    return None


def region_curve(record, layers) -> tuple[list, list]:
    """Mean entropy per unit inside the ground-truth region and outside it, per layer."""
    inside = regions(record)[0]
    fg = [float(np.nanmean(record.arrays[f"entropy/{l}"][inside])) for l in layers]
    bg = [float(np.nanmean(record.arrays[f"entropy/{l}"][~inside])) for l in layers]
    return fg, bg


def render(record, layers=None, samples=None, count: int = 4, cmap: str = "inferno"):
    if record.meta.get("inputs") == "text":
        return render_text(record, layers, samples, count, cmap)
    a, layers = record.arrays, list(layers or record.meta["layers"])
    samples = list(samples) if samples is not None else list(range(min(count, len(a["images"]))))
    curve = "foreground_share" in a
    cols = len(layers) + 1
    figure = Figure(figsize=(1.5 * cols + 1.0, 1.5 * len(samples) + (2.0 if curve else 0.3)),
                    layout="constrained")
    grid = figure.add_gridspec(len(samples) + (1 if curve else 0), cols,
                               height_ratios=[1] * len(samples) + ([1.3] if curve else []))
    limits = shared_limits(record, layers)
    image_axes = _draw_maps(figure, grid, record, layers, samples, limits, cmap)
    unit = "per pixel dimension" if record.meta.get("mode") == "reconstruction" else "per cell"
    figure.colorbar(image_axes[-1].images[-1], ax=image_axes, shrink=0.6, label=f"entropy {unit} (nats)")
    if curve:
        _draw_curve(figure.add_subplot(grid[-1, :]), record, layers)
    coarse = " · coarse budget" if record.meta.get("coarse") else ""
    what = ("uncertainty of the input rebuilt from each layer" if record.meta.get("mode") == "reconstruction"
            else "input information discarded")
    figure.suptitle(f"{what}, D/D_ref = {record.meta.get('tau')}{coarse}", fontsize=9)
    return figure


def _draw_maps(figure: Figure, grid, record, layers, samples, limits, cmap) -> list:
    a, axes = record.arrays, []
    for row, i in enumerate(samples):
        ax = figure.add_subplot(grid[row, 0])
        show_image(ax, a["images"][i])
        ax.set_axis_off()
        for col, layer in enumerate(layers, start=1):
            ax = figure.add_subplot(grid[row, col])
            overlay(ax, a["images"][i], a[f"entropy/{layer}"][i], cmap, limits, alpha=0.75)
            ax.set_axis_off()
            flag = "" if a[f"calibrated_rows/{layer}"][i] else " (uncalibrated)"
            if row == 0 or flag:
                ax.set_title(f"{layer}{flag}", fontsize=7, color="crimson" if flag else "black")
            axes.append(ax)
    return axes


def _draw_curve(ax, record, layers) -> None:
    fg, bg = region_curve(record, layers)
    ax.plot(layers, fg, "o-", label="foreground")
    ax.plot(layers, bg, "s-", label="background")
    ax.set_ylabel("mean entropy per cell (nats)", fontsize=7)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)


def layer_token_matrix(record, layers, sample: int) -> tuple[np.ndarray, list[str]]:
    """(layers, tokens) entropies of one sentence, and its words."""
    words = record.meta["words"][sample]
    matrix = np.stack([record.arrays[f"entropy/{l}"][sample, :len(words)] for l in layers])
    return matrix, words


def render_text(record, layers=None, samples=None, count: int = 4, cmap: str = "inferno"):
    """Per sentence, a layer × token matrix on one colour scale; keywords' labels in red."""
    layers = list(layers or record.meta["layers"])
    samples = list(samples) if samples is not None else list(range(min(count, len(record.meta["words"]))))
    width = max(len(record.meta["words"][i]) for i in samples)
    figure = Figure(figsize=(0.45 * width + 2.0, (0.3 * len(layers) + 0.9) * len(samples) + 0.5),
                    layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(samples), 1, squeeze=False)[:, 0])
    lo, hi = shared_limits(record, layers)
    keywords = record.arrays.get("keyword_masks")
    for ax, i in zip(axes, samples):
        matrix, words = layer_token_matrix(record, layers, i)
        shown = ax.imshow(matrix, cmap=cmap, vmin=lo, vmax=hi, aspect="auto", interpolation="nearest")
        ax.set_yticks(range(len(layers)), layers, fontsize=7)
        ax.set_xticks(range(len(words)), words, rotation=60, ha="right", fontsize=7)
        for j, label in enumerate(ax.get_xticklabels()):
            if keywords is not None and keywords[i, j]:
                label.set_color("crimson")
    figure.colorbar(shown, ax=list(axes), shrink=0.8, label="entropy per token (nats)")
    figure.suptitle(f"input information discarded per token, D/D_ref = {record.meta.get('tau')} "
                    "(keywords in red)", fontsize=9)
    return figure
