"""Figure of a `consistency` result (spec: knowledge-consistency §4.8): stacked bars of the
held-out fractions of orders 0…K and the residual for each layer pair and direction, the
training curves of one pair, and for one kept image the maps of A's and B's features and of
each component of the chosen direction. The consistency pane draws the same from these helpers.
"""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from engine.figures._common import overlay, show_image

ENERGY_COLORMAP, CHANNEL_COLORMAP = "inferno", "RdBu_r"
ARROWS = {"a_to_b": "A→B", "b_to_a": "B→A"}
OTHER = {"a_to_b": "b_to_a", "b_to_a": "a_to_b"}


def component_colours(order: int) -> list[tuple]:
    """RGB of orders 0…K (blues, darkest for the linear order) and of the residual (grey)."""
    blues = matplotlib.colormaps["Blues"](np.linspace(0.9, 0.35, order + 1))[:, :3]
    return [tuple(c) for c in blues] + [(0.6, 0.6, 0.6)]


def bar_rows(result) -> tuple[list[str], np.ndarray]:
    """Bar labels ("conv4 A→B", …) and their (bars, K+2) held-out fractions, pair by pair."""
    labels, rows = [], []
    for pair in result.pairs:
        for direction, arrow in ARROWS.items():
            labels.append(f"{pair.label} {arrow}")
            rows.append(getattr(pair, direction).fractions())
    return labels, np.array(rows)


@dataclass
class MapPanel:
    title: str
    values: np.ndarray   # (h, w)
    scale: str           # "source" or "target": panels of one scale share their colour limits


def map_panels(result, pair, direction: str, sample: int, channel: int = -1) -> list[MapPanel]:
    """A's and B's features, then the direction's components, on kept image `sample`: their
    energy (channel −1), or the target's channel `channel` (the source stays its energy)."""
    from engine.methods.consistency.result import component_labels  # noqa: PLC0415

    rebuilt = getattr(pair, direction)
    source = getattr(pair, OTHER[direction]).target_energy[sample]  # the other direction rebuilds the source
    if channel < 0:
        target, parts, suffix = rebuilt.target_energy[sample], rebuilt.energy[sample], ""
    else:
        parts, suffix = rebuilt.components[sample, :, channel], f" ch {channel}"
        target = parts.sum(0)

    def feature_panel(model: str, layer: str, scale: str) -> MapPanel:
        values, note = (target, suffix) if scale == "target" else (source, "")
        return MapPanel(f"{model} {layer}{note}", values, scale)

    a_is_target = direction == "b_to_a"
    panels = [feature_panel("A", pair.layer_a, "target" if a_is_target else "source"),
              feature_panel("B", pair.layer_b, "source" if a_is_target else "target")]
    labels = component_labels(len(rebuilt.gates))
    return panels + [MapPanel(label, part, "target") for label, part in zip(labels, parts)]


def limits(panels: list[MapPanel], channel: int) -> dict:
    """Colour limits per scale: 0…max for energies, ±max|value| for one channel (diverging)."""
    out = {}
    for scale in {p.scale for p in panels}:
        values = np.concatenate([p.values.ravel() for p in panels if p.scale == scale])
        top = float(np.abs(values).max()) or 1.0
        out[scale] = (0.0, top) if channel < 0 or scale == "source" else (-top, top)
    return out


def colormap_of(panel: MapPanel, channel: int) -> str:
    return CHANNEL_COLORMAP if channel >= 0 and panel.scale == "target" else ENERGY_COLORMAP


def render(record, pair: str | None = None, direction: str = "a_to_b", sample: int = 0, channel: int = -1):
    from engine.methods.consistency.result import ConsistencyResult  # noqa: PLC0415

    result = ConsistencyResult.from_record(record)
    shown = next((p for p in result.pairs if p.label == pair), result.pairs[0])
    panels = map_panels(result, shown, direction, sample, channel)
    figure = Figure(figsize=(max(11.0, 1.6 * (len(panels) + 1)), 6.2), layout="constrained")
    top, bottom = figure.subfigures(2, 1, height_ratios=(1.3, 1))  # the maps' columns ignore the plots'
    plots = top.subplots(1, 2, width_ratios=(2, 1))
    _bars(plots[0], result)
    _curves(plots[1], shown)
    _maps(list(bottom.subplots(1, len(panels) + 1)), result, panels, sample, channel)
    figure.suptitle(f"knowledge consistency: A = {record.model}, B = {result.model2}; maps: {shown.label} "
                    f"{ARROWS[direction]}, {result.sample_names[sample]}", fontsize=9)
    return figure


def _bars(ax, result) -> None:
    """Held-out fractions stacked: orders 0…K from the bottom, the residual on top (§4.8)."""
    from engine.methods.consistency.result import component_labels  # noqa: PLC0415

    labels, rows = bar_rows(result)
    bottom = np.zeros(len(rows))
    for k, (name, colour) in enumerate(zip(component_labels(result.config.max_order),
                                           component_colours(result.config.max_order))):
        ax.bar(range(len(rows)), rows[:, k], bottom=bottom, color=colour, label=name, width=0.7)
        bottom += rows[:, k]
    ax.set_xticks(range(len(rows)), labels, fontsize=6)
    ax.set_ylim(0, 1.12)  # room for the legend above the bars
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("share of the target's variance (held out)", fontsize=7)
    ax.set_title("A→B residual: blind spots of A · B→A residual: unreliable features of A", fontsize=8)
    ax.legend(fontsize=6, loc="upper center", ncol=len(rows[0]), frameon=False)
    ax.tick_params(labelsize=6)


def _curves(ax, pair) -> None:
    """Held-out MSE (÷ Var(target)) per epoch of both directions, their gates p_i in the legend."""
    for direction, arrow in ARROWS.items():
        measured = getattr(pair, direction)
        gates = ", ".join(f"{p:.2f}" for p in measured.gates)
        ax.plot(np.arange(1, len(measured.curve) + 1), measured.curve[:, 2], label=f"{arrow} (p = {gates})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch", fontsize=7)
    ax.set_title(f"{pair.label}: held-out MSE ÷ Var(target)", fontsize=8)
    ax.legend(fontsize=6)
    ax.tick_params(labelsize=6)


def _maps(axes, result, panels: list[MapPanel], sample: int, channel: int) -> None:
    image = result.images[sample].astype(np.float32) / 255.0
    show_image(axes[0], image)
    axes[0].set_title(result.sample_names[sample], fontsize=7)
    scales = limits(panels, channel)
    for ax, panel in zip(axes[1:], panels):
        overlay(ax, image, panel.values, colormap_of(panel, channel), scales[panel.scale])
        ax.set_title(panel.title, fontsize=7)
    for ax in axes:
        ax.set_axis_off()
