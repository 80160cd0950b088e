"""Figure of a `transplant` result (spec: concepts-bias-trees §6): pixel accuracy and IoU of each
variant on the new category's held-out images (the labelled images each used in brackets), and
one held-out image with its foreground and every variant's segmentation."""
from __future__ import annotations

import numpy as np

from engine.figures._common import grid_figure, show_image


def variant_label(name: str, labelled: int) -> str:
    return f"{name} ({labelled})" if labelled >= 0 else name


def draw_scores(ax, result) -> None:
    rows = result.scores()
    x = np.arange(len(rows))
    ax.set_axis_on()
    ax.bar(x - 0.2, [r[2] for r in rows], width=0.4, label="pixel accuracy")
    ax.bar(x + 0.2, [r[3] for r in rows], width=0.4, label="IoU")
    ax.set_xticks(x, [variant_label(r[0], r[1]) for r in rows], rotation=60, fontsize=5, ha="right")
    ax.set_ylim(0, 1)
    ax.tick_params(labelsize=5)
    ax.legend(fontsize=5)
    ax.set_title(f"{result.new_category}: held-out segmentation", fontsize=7)


def draw_map(ax, values: np.ndarray, title: str) -> None:
    ax.imshow(values, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title, fontsize=6)


def render(record, sample: int = 0, **_):
    from engine.methods.transplant.result import TransplantResult  # noqa: PLC0415

    result = TransplantResult.from_record(record)
    sample = int(np.clip(sample, 0, len(result.images) - 1))
    figure, axes = grid_figure(1, 3 + len(result.variants), cell=1.8, title="network transplanting")
    draw_scores(axes[0, 0], result)
    show_image(axes[0, 1], result.images[sample].astype(np.float32) / 255.0)
    axes[0, 1].set_title(result.sample_names[sample], fontsize=6)
    draw_map(axes[0, 2], result.truth[sample], "foreground")
    for k, (name, labelled) in enumerate(zip(result.variants, result.labelled)):
        draw_map(axes[0, 3 + k], result.probability[sample, k], variant_label(name, labelled))
    return figure
