"""Figures of the part metrics (spec: interpretable-cnn §2.12 metric views): per layer, the
per-filter values sorted, and the filter × landmark (or part) matrix as a heat map."""
from __future__ import annotations

import numpy as np

from engine.figures._common import grid_figure


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


def render_instability(record, **_):
    """Location instability: each unit's value (bars, sorted) and D_{u,k} (units × landmarks);
    with --model2 its layer in the rows below."""
    from engine.methods.location_instability.result import rows_of  # noqa: PLC0415

    meta, a = record.meta, record.arrays
    rows = rows_of(meta)
    title = f"location instability of {meta['source']}" + (f" (below: {meta['model2']})" if meta.get("model2") else "")
    figure, axes = grid_figure(len(rows), 2, cell=2.6, title=title)
    for row, (label, prefix) in zip(axes, rows):
        layer = label.split()[-1]
        _row(row, a[f"{prefix}instability/{layer}"], a[f"{prefix}distance_std/{layer}"], meta["part_names"], label,
             "instability", "D per landmark (÷ diagonal)", "viridis_r")
    return figure


def render_interpretability(record, **_):
    """Part interpretability: each filter's P_f (bars, sorted) and the filter × part P_{f,k} heat map;
    with --model2 its layer in the rows below."""
    from engine.methods.part_interpretability.result import PartInterpretabilityResult  # noqa: PLC0415

    result = PartInterpretabilityResult.from_record(record)
    rows = [(layer, m) for layer, m in result.layers.items()] + [(f"model2 {layer}", m) for layer, m in result.layers2.items()]
    title = "part interpretability (IoU > cut)" + (f" (below: {result.model2})" if result.model2 else "")
    figure, axes = grid_figure(len(rows), 2, cell=2.6, title=title)
    for row, (label, m) in zip(axes, rows):
        _row(row, m.interpretability(), m.hit_rate, result.part_names, label, "P_f", "P_{f,k} per part", "viridis")
    return figure
