"""What the part-metric views show (spec: interpretable-cnn §2.8, §2.12 "metric views").

Each measured layer of the model, then of the side-by-side model (--model2), is one
`LayerRow`: its units, each unit's value and group, and the unit × landmark matrix D_{u,k}
(location instability) or the filter × part matrix P_{f,k} (part interpretability).
`summary` is both models' means and accuracies with their ratio or gain. The figure
(parts.py) and the part-metrics pane read the same rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PartMetric:
    """How one kind names and colours its numbers."""

    value: str           # metric name: `value/LAYER`, `value_model2/LAYER`
    value_label: str     # a unit's value, as the views title it
    group: str           # what a unit is assigned: its category, or its best part
    matrix_label: str
    cmap: str            # low is good for instability (reversed), high for interpretability
    compared: str        # the metric comparing the two models
    compared_label: str


METRICS = {
    "location-instability": PartMetric("instability", "instability", "category", "D per landmark (÷ diagonal)",
                                       "viridis_r", "instability_ratio", "ratio (model ÷ model2)"),
    "part-interpretability": PartMetric("interpretability", "P_f", "part", "P_{f,k} per part",
                                        "viridis", "interpretability_gain", "gain (model − model2)"),
}


@dataclass
class LayerRow:
    """One measured layer: U units, P landmarks or parts."""

    label: str           # "LAYER", or "model2 LAYER" for the side-by-side model's
    layer: str
    model: str           # the spec of the model it belongs to
    units: np.ndarray    # (U,) filter (or graph node) indices
    groups: list         # (U,) each unit's category or assigned part ("" where none)
    values: np.ndarray   # (U,) instability or P_f
    matrix: np.ndarray   # (U,P) D_{u,k} or P_{f,k}
    columns: list        # (P,) landmark or part names


def layer_rows(record) -> list[LayerRow]:
    """The model's layers, then model2's, of a location-instability or part-interpretability record."""
    reader = _instability_rows if record.kind == "location-instability" else _interpretability_rows
    return reader(record)


def _instability_rows(record) -> list[LayerRow]:
    from engine.methods.location_instability.result import rows_of  # noqa: PLC0415

    meta, a, rows = record.meta, record.arrays, []
    for label, prefix in rows_of(meta):
        layer = label.split()[-1]
        groups = [meta["categories"][int(c)] for c in a[f"{prefix}category/{layer}"]]
        rows.append(LayerRow(label, layer, meta["model2"] if prefix else record.model, a[f"{prefix}units/{layer}"],
                             groups, a[f"{prefix}instability/{layer}"], a[f"{prefix}distance_std/{layer}"],
                             list(meta["part_names"])))
    return rows


def _interpretability_rows(record) -> list[LayerRow]:
    from engine.methods.part_interpretability.result import PartInterpretabilityResult  # noqa: PLC0415

    result, rows = PartInterpretabilityResult.from_record(record), []
    for second, layers in ((False, result.layers), (True, result.layers2)):
        for layer, m in layers.items():
            groups = [result.part_names[p] if p >= 0 else "" for p in m.part()]
            label, model = (f"model2 {layer}", result.model2) if second else (layer, record.model)
            rows.append(LayerRow(label, layer, model, np.arange(len(groups)), groups, m.interpretability(),
                                 m.hit_rate, list(result.part_names)))
    return rows


def summary(record) -> tuple[list[str], list[list]]:
    """(header, rows): per layer of both models its spec, mean value and accuracy; then the
    ratio or gain between them when the record has --model2's layer (NaN: not measured)."""
    metric, metrics = METRICS[record.kind], record.metrics
    header = ["model", "layer", f"mean {metric.value}", "accuracy"]
    rows = []
    for row in layer_rows(record):
        second = row.label != row.layer
        key = f"{metric.value}_model2/{row.layer}" if second else f"{metric.value}/{row.layer}"
        accuracy = metrics.get("accuracy_model2" if second else "accuracy", float("nan"))
        rows.append([row.model, row.layer, metrics.get(key, float("nan")), accuracy])
    if metric.compared in metrics:
        rows.append([metric.compared_label, "", metrics[metric.compared], float("nan")])
    return header, rows
