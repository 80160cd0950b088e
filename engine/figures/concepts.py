"""Figure of a `concepts` result (spec: concepts-bias-trees §3.3 "Analyzer"): for one image, the
image and the waterfall b → each α_i·y_i → explained ŷ_exp → residual → ŷ; over the data, the
concepts' importance (mean |α_i·y_i|), ŷ against ŷ_exp (training and held-out images), and the
prior w against the learned α. The concept-bars pane draws the same from these helpers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from engine.figures._common import show_image

UP, DOWN, TOTAL, RESIDUAL = (0.2, 0.55, 0.3), (0.8, 0.25, 0.2), (0.55, 0.55, 0.55), (0.95, 0.6, 0.1)
TRAIN_COLOUR, HELD_COLOUR = (0.3, 0.45, 0.8), (0.9, 0.45, 0.1)


@dataclass
class Waterfall:
    labels: list        # "b", the concepts, "explained", "residual", "ŷ"
    bottoms: np.ndarray  # where each bar starts
    heights: np.ndarray  # its signed length
    colours: list        # RGB


def waterfall(result, sample: int) -> Waterfall:
    """The bars of one image's waterfall: each step starts where the previous one ended; the
    explained output and ŷ are totals from 0 (§3.3)."""
    steps = np.concatenate([[result.bias], result.contribution[sample]])
    ends = np.cumsum(steps)
    explained, yhat = float(result.explained[sample]), float(result.yhat[sample])
    bottoms = np.concatenate([ends - steps, [0.0, explained, 0.0]])
    heights = np.concatenate([steps, [explained, yhat - explained, yhat]])
    colours = [UP if h >= 0 else DOWN for h in steps] + [TOTAL, RESIDUAL, TOTAL]
    return Waterfall(["b", *result.concept_names, "explained", "residual", "ŷ"], bottoms, heights, colours)


def importance_order(result) -> np.ndarray:
    """Concept indices, the most important (largest mean |α_i·y_i|) first."""
    return np.argsort(-result.importance(), kind="stable")


def split_colours(result) -> list:
    return [HELD_COLOUR if held else TRAIN_COLOUR for held in result.held_out]


def render(record, sample: int = 0):
    from engine.methods.concepts.result import ConceptsResult  # noqa: PLC0415

    result = ConceptsResult.from_record(record)
    figure = Figure(figsize=(15.0, 3.4), layout="constrained")
    axes = figure.subplots(1, 5, width_ratios=(0.8, 1.6, 1.2, 1, 1))
    show_image(axes[0], result.images[sample].astype(np.float32) / 255.0)
    axes[0].set_axis_off()
    axes[0].set_title(f"{result.sample_names[sample]} ({'held out' if result.held_out[sample] else 'training'})",
                      fontsize=7)
    _waterfall(axes[1], result, sample)
    _importance(axes[2], result)
    _scatter(axes[3], result, sample)
    _prior(axes[4], result, sample)
    m = record.metrics
    figure.suptitle(f"concept contributions to {result.target} of {record.model}: held-out explained share "
                    f"{m['explained_share']:.3f}, relative deviation {m['relative_deviation']:.3f}, "
                    f"contribution entropy {m['contribution_entropy']:.2f} nats", fontsize=9)
    return figure


def _style(ax, title: str) -> None:
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=6)


def _waterfall(ax, result, sample: int) -> None:
    bars = waterfall(result, sample)
    ax.bar(range(len(bars.labels)), bars.heights, bottom=bars.bottoms, color=bars.colours, width=0.7)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(range(len(bars.labels)), bars.labels, rotation=60, fontsize=6)
    ax.set_ylabel("standardised ŷ", fontsize=7)
    _style(ax, "b → α_i·y_i → explained → residual → ŷ")


def _importance(ax, result) -> None:
    order = importance_order(result)
    ax.barh(range(len(order)), result.importance()[order], color=TOTAL)
    ax.set_yticks(range(len(order)), [result.concept_names[i] for i in order], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("mean |α_i·y_i|", fontsize=7)
    _style(ax, "concept importance (all images)")


def _scatter(ax, result, sample: int) -> None:
    ax.scatter(result.explained, result.yhat, s=8, c=split_colours(result))
    ax.scatter(result.explained[sample], result.yhat[sample], s=60, facecolors="none", edgecolors="k")
    _diagonal(ax, result.explained, result.yhat)
    ax.set_xlabel("explained Σ α_i·y_i + b", fontsize=7)
    ax.set_ylabel("ŷ", fontsize=7)
    _style(ax, "ŷ against explained\n(blue: training, orange: held out)")


def _prior(ax, result, sample: int) -> None:
    ax.scatter(result.prior.ravel(), result.alpha.ravel(), s=4, color=TOTAL)
    ax.scatter(result.prior[sample], result.alpha[sample], s=14, color=HELD_COLOUR)
    _diagonal(ax, result.prior, result.alpha)
    ax.set_xlabel("prior w_i", fontsize=7)
    ax.set_ylabel("learned α_i", fontsize=7)
    _style(ax, "prior w against learned α\n(orange: this image)")


def _diagonal(ax, x: np.ndarray, y: np.ndarray) -> None:
    """The line y = x over both value ranges: where a perfect explanation (or prior) lies."""
    low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
    ax.plot([low, high], [low, high], color="k", lw=0.5)
