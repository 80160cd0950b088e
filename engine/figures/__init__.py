"""Publication figures: one renderer per result kind → a matplotlib `Figure` (Agg, no pyplot).

The GUI's Export and the CLI's `export` both call `render`, so they give the same figure.
"""
from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from engine.errors import BadInput, choices
from engine.figures import (activations, attribution, concepts, consistency, dataset_bias, decision_tree, explainer,
                            graph, information, parts, point_cloud, training, transplant)
from engine.results import ResultRecord

RENDERERS = {"activations": activations.render, "attribution": attribution.render,
             "information": information.render, "explanatory-graph": graph.render,
             "graph-inference": graph.render_inference, "part-localization": graph.render_localization,
             "location-instability": parts.render_instability,
             "part-interpretability": parts.render_interpretability,
             "consistency": consistency.render, "concepts": concepts.render,
             "interpretable-training": training.render, "pointcloud-utility": point_cloud.render,
             "decision-tree": decision_tree.render,
             "dataset-bias": dataset_bias.render, "explainer": explainer.render,
             "transplant": transplant.render}
FIGURE_FORMATS = ("png", "svg", "pdf")


def render(record: ResultRecord, **options) -> Figure:
    """The figure of a result; `options` are the pane's choices (layer, filter, ...)."""
    if record.kind not in RENDERERS:
        raise BadInput(f"no figure for results of kind {record.kind!r}; kinds with figures: "
                       f"{choices(RENDERERS)}")
    return RENDERERS[record.kind](record, **options)


def save_figure(figure: Figure, path: str | Path, fmt: str, dpi: int = 150) -> Path:
    if fmt not in FIGURE_FORMATS:
        raise BadInput(f"unknown figure format {fmt!r}; valid: {choices(FIGURE_FORMATS)}")
    figure.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight")
    return Path(path)
