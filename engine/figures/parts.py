"""Figures of the part metrics (spec: interpretable-cnn §2.12 metric views): per layer, the
per-filter values sorted, and the filter × landmark (or part) matrix as a heat map."""
from __future__ import annotations

import numpy as np

from engine.figures._common import grid_figure
from engine.figures.part_rows import METRICS, layer_rows


def _row(axes, values, matrix, columns, layer, value_name, matrix_name, cmap):
    """Bars of `values` (best first by the colormap's sense, NaN last) beside `matrix`'s rows in that order."""
    bars, heat = axes
    sign = 1.0 if cmap.endswith("_r") else -1.0  # instability: low is good; interpretability: high
    order = np.argsort(np.where(np.isnan(values), np.inf, sign * values), kind="stable")
    bars.set_axis_on()
    bars.bar(range(len(order)), np.nan_to_num(values[order]), color="tab:blue", width=1.0)
    bars.axhline(float(np.nanmean(values)) if np.isfinite(values).any() else 0.0, color="k", lw=0.8)
    bars.set_title(f"{layer}: {value_name} per unit (mean —)", fontsize=7)
    bars.tick_params(labelsize=5)
    heat.set_axis_on()
    image = heat.imshow(matrix[order], aspect="auto", cmap=cmap, interpolation="nearest")
    heat.set_xticks(range(len(columns)), [c.split("/")[-1] for c in columns], rotation=90, fontsize=4)
    heat.set_yticks([])
    heat.set_title(f"{layer}: {matrix_name}", fontsize=7)
    return image


def _render(record, title: str):
    """One row a measured layer (the model's, then --model2's): values beside their matrix."""
    metric = METRICS[record.kind]
    rows = layer_rows(record)
    figure, axes = grid_figure(len(rows), 2, cell=2.6, title=title)
    for axes_row, row in zip(axes, rows):
        _row(axes_row, row.values, row.matrix, row.columns, row.label, metric.value_label, metric.matrix_label,
             metric.cmap)
    return figure


def render_instability(record, **_):
    """Location instability: each unit's value (bars, sorted) and D_{u,k} (units × landmarks);
    with --model2 its layer in the rows below."""
    meta = record.meta
    model2 = f" (below: {meta['model2']})" if meta.get("model2") else ""
    return _render(record, f"location instability of {meta['source']}{model2}")


def render_interpretability(record, **_):
    """Part interpretability: each filter's P_f (bars, sorted) and the filter × part P_{f,k} heat map;
    with --model2 its layer in the rows below."""
    model2 = f" (below: {record.meta['model2']})" if record.meta.get("model2") else ""
    return _render(record, f"part interpretability (IoU > cut){model2}")
