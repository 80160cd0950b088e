"""Figure of an `explainer` result (spec: concepts-bias-trees §6): the training losses per epoch,
the interpretable share p and the reconstruction error per image (training and held-out), each
filter's location instability (the explainer's against the performer's), and on one kept image
the explainer's strongest interpretable filters beside the performer's."""
from __future__ import annotations

import numpy as np

from engine.figures._common import grid_figure, overlay, show_image
from engine.figures.activations import strongest_filters

SHOWN = 3  # filters of each layer on the kept image
TRAIN_COLOUR, HELD_COLOUR = "tab:blue", "tab:orange"


def draw_curve(ax, result) -> None:
    from engine.methods.explainer.result import LOSS_TERMS  # noqa: PLC0415

    ax.set_axis_on()
    epochs = np.arange(1, len(result.curve) + 1)
    for column, name in enumerate(LOSS_TERMS):
        ax.plot(epochs, result.curve[:, column], lw=0.8, label=name)
    ax.set_xlabel("epoch", fontsize=6)
    ax.legend(fontsize=5)
    ax.tick_params(labelsize=5)
    ax.set_title("training losses", fontsize=7)


def draw_split(ax, values: np.ndarray, held: np.ndarray, title: str) -> None:
    """A histogram of a per-image value, training and held-out images apart."""
    ax.set_axis_on()
    bins = np.linspace(float(values.min()), float(values.max()) + 1e-9, 16)
    ax.hist([values[~held], values[held]], bins=bins, color=[TRAIN_COLOUR, HELD_COLOUR], label=["train", "held out"])
    ax.legend(fontsize=5)
    ax.tick_params(labelsize=5)
    ax.set_title(title, fontsize=7)


def draw_instability(ax, result) -> None:
    ax.set_axis_on()
    for values, label, colour in ((result.instability_performer, f"performer {result.layer}", "0.5"),
                                  (result.instability_explainer, "explainer", "tab:red")):
        finite = np.sort(values[np.isfinite(values)])
        ax.plot(np.linspace(0, 1, len(finite)), finite, color=colour, label=f"{label} (mean {finite.mean():.3f})")
    ax.set_xlabel("filters, sorted", fontsize=6)
    ax.legend(fontsize=5)
    ax.tick_params(labelsize=5)
    ax.set_title("location instability per filter", fontsize=7)


def draw_filter(ax, result, layer: str, sample: int, filt: int) -> None:
    maps = result.view.maps[layer][sample, filt]
    overlay(ax, result.view.images[sample], maps, limits=(0.0, float(maps.max()) or 1.0))
    ax.set_title(f"{layer} #{filt}", fontsize=6)


def render(record, sample: int = 0, **_):
    from engine.methods.explainer.result import ExplainerResult  # noqa: PLC0415

    result = ExplainerResult.from_record(record)
    view = result.view
    sample = int(np.clip(sample, 0, len(view.images) - 1))
    figure, axes = grid_figure(2, 1 + 2 * SHOWN, cell=1.9, title=f"explainer of {result.layer} → {result.target_layer}")
    draw_curve(axes[0, 0], result)
    draw_split(axes[0, 1], result.share, result.held_out, "interpretable share p")
    draw_split(axes[0, 2], result.reconstruction_error, result.held_out, "reconstruction error")
    draw_instability(axes[0, 3], result)
    show_image(axes[1, 0], view.images[sample])
    p = float(result.share[sample])
    axes[1, 0].set_title(f"{view.sample_names[sample]}: p = {p:.2f}", fontsize=6)
    for column, layer in enumerate(reversed(view.layers)):  # the explainer's filters, then the performer's
        for k, filt in enumerate(strongest_filters(view.filter_max[layer], SHOWN)):
            draw_filter(axes[1, 1 + column * SHOWN + k], result, layer, sample, filt)
    return figure
