"""Figure of a `baseline` result: rows of samples, the image then one column per attribution."""
from __future__ import annotations

import numpy as np

from engine.figures._common import grid_figure, overlay, show_image


def render(record, samples=None, cmap: str = "inferno", count: int = 6):
    a, meta = record.arrays, record.meta
    samples = list(samples) if samples is not None else list(range(min(count, len(a["images"]))))
    names = meta["baselines"]
    figure, axes = grid_figure(len(samples), len(names) + 1, title="attributions (Captum)")
    classes = meta.get("class_names") or []
    for row, i in enumerate(samples):
        show_image(axes[row, 0], a["images"][i])
        target = int(a["targets"][i])
        axes[row, 0].set_title(classes[target] if target < len(classes) else str(target), fontsize=7)
        for col, name in enumerate(names, start=1):
            heat = a[f"attribution/{name}"][i]
            bound = float(np.abs(heat).max()) or 1.0
            signed = name in ("integrated_gradients", "occlusion")
            overlay(axes[row, col], a["images"][i], heat, "RdBu_r" if signed else cmap,
                    (-bound, bound) if signed else (0, bound))
            if row == 0:
                axes[row, col].set_title(name.replace("_", " "), fontsize=7)
    return figure
