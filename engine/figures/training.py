"""Figure of an `interpretable-training` result, the training dashboard (spec: interpretable-cnn
§2.12): κ and the losses per epoch, the silent share per layer, β_f's histogram and the
filter→category table A of one layer. The GUI pane draws the same panels from these helpers."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


NO_EPOCHS = "model.json holds no per-epoch record (training.epochs)"
BETA_BINS = 12


def beta_histogram(beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(counts, edges) of β_f over BETA_BINS bins spanning its values (a width of 0.1 when all agree)."""
    lo, hi = float(beta.min()), float(beta.max())
    span = (lo, hi) if hi > lo else (lo - 0.05, hi + 0.05)
    return np.histogram(beta, bins=BETA_BINS, range=span)


def category_matrix(layer) -> tuple[np.ndarray, np.ndarray]:
    """(K,C) table A with each filter's column scaled to its maximum, and the filter order shown:
    by category, the filters most sure of theirs first, so each category is one block."""
    table = layer.category_table
    scaled = table / np.maximum(table.max(1, keepdims=True), 1e-12)
    sureness = np.sort(scaled, 1)[:, -2] if table.shape[1] > 1 else np.zeros(len(table))
    order = np.lexsort((sureness, layer.category))  # within a category: lowest runner-up first
    return scaled[order].T, order


def render(record, layer: str | None = None):
    from engine.methods.interpretable_training.result import InterpretableTrainingResult  # noqa: PLC0415

    result = InterpretableTrainingResult.from_record(record)
    layer = layer or list(result.layers)[-1]
    figure = Figure(figsize=(11, 6), layout="constrained")
    grid = figure.add_gridspec(2, 3)
    _epochs(figure.add_subplot(grid[0, 0]), figure.add_subplot(grid[0, 1]), result)
    _silent_bars(figure.add_subplot(grid[0, 2]), result)
    _beta(figure.add_subplot(grid[1, 0]), result.layers[layer].beta, layer)
    matrix_ax = figure.add_subplot(grid[1, 1:])
    image = _matrix(matrix_ax, result.layers[layer], result.categories, layer)
    figure.colorbar(image, ax=matrix_ax, shrink=0.8, label="A ÷ the filter's largest")
    figure.suptitle(f"training of {record.model}", fontsize=9)
    return figure


def _epochs(kappa_ax, loss_ax, result) -> None:
    """κ per epoch per masked layer (§2.5 step 4) and the two mean losses per epoch."""
    for ax, title in ((kappa_ax, "filter-loss strength κ per epoch"), (loss_ax, "losses per epoch")):
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_xlabel("epoch", fontsize=7)
    if not result.epochs:
        for ax in (kappa_ax, loss_ax):
            ax.text(0.5, 0.5, NO_EPOCHS, ha="center", va="center", fontsize=7, wrap=True,
                    transform=ax.transAxes)
        return
    epochs = result.epoch_numbers()
    for layer in result.layers:
        kappa_ax.plot(epochs, result.trace(f"kappa/{layer}"), marker="o", label=layer)
    for name, trace in result.loss_traces().items():
        loss_ax.plot(epochs, trace, marker="o", label=name.replace("_", " "))
    for ax in (kappa_ax, loss_ax):
        ax.legend(fontsize=6)


def _silent_bars(ax, result) -> None:
    shares = [m.silent_share() for m in result.layers.values()]
    bars = ax.bar(range(len(shares)), np.nan_to_num(shares), color="tab:green")
    ax.bar_label(bars, [f"{s:.2f}" for s in shares], fontsize=6)
    ax.set_xticks(range(len(shares)), list(result.layers), fontsize=6)
    ax.set_ylim(0, 1)
    ax.set_title(f"share of filters silent on other categories (< {result.config.silent_ratio:g} × own)",
                 fontsize=8)
    ax.tick_params(labelsize=6)


def _beta(ax, beta: np.ndarray, layer: str) -> None:
    counts, edges = beta_histogram(beta)
    ax.stairs(counts, edges, fill=True, color="tab:blue")
    ax.set_title(f"{layer}: β_f of {len(beta)} filters", fontsize=8)
    ax.set_xlabel("β_f", fontsize=7)
    ax.tick_params(labelsize=6)


def _matrix(ax, layer_training, categories: list[str], layer: str):
    matrix, _ = category_matrix(layer_training)
    image = ax.imshow(matrix, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks(range(len(categories)), categories, fontsize=6)
    ax.set_xlabel("filters, by category", fontsize=7)
    ax.set_title(f"{layer}: filter→category table A", fontsize=8)
    ax.tick_params(labelsize=6)
    return image
