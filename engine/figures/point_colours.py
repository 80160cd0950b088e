"""Per-point colours of a pointcloud-utility cloud, shared by the pane and the exported figure.

spec: pointcloud-utility §5.8: a cloud coloured by per-point entropy (or importance) with a
colour bar, points at the σ clamp marked apart; [ours] also by part and by class, where the
record holds them. A record is read as result.py lays it out: `points` (B, N, 3), per model
`entropy`, `importance`, `sigma` (B, N), the second model's under `model2/`; part labels are
optional: `part_labels` (B, N) indexing meta `part_names`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps

# colour-by → (colour-bar label, colormap) of the continuous quantities
CONTINUOUS = {"importance": ("importance (nats kept)", "viridis"), "entropy": ("entropy H_i (nats)", "magma")}
CATEGORICAL = ("part", "class")
PALETTE = "tab10"
UNKNOWN_RGBA = (0.6, 0.6, 0.6, 1.0)   # a part label of −1
CLAMP_SHARE = 0.99                    # "at the clamp" as api.py counts it: σ ≥ 0.99 σ_max (§5.3 item 5)


@dataclass(frozen=True)
class Colouring:
    """Colours (N, 4) in [0, 1] and what explains them: a colour bar or a legend."""

    rgba: np.ndarray
    label: str
    cmap: str = ""                 # continuous: the colormap, with `limits`
    limits: tuple = (0.0, 1.0)
    legend: tuple = ()             # categorical: (name, rgba) of each category in the cloud


def model_names(record) -> list[str]:
    """"model", and "model2" when the record compares a second model."""
    return ["model", "model2"] if record.meta.get("model2") else ["model"]


def prefix(model: str) -> str:
    return "model2/" if model == "model2" else ""


def colour_choices(record) -> list[str]:
    """What this record can colour by: the per-point quantities, then part and class if known."""
    choices = list(CONTINUOUS)
    if "part_labels" in record.arrays and record.meta.get("part_names"):
        choices.append("part")
    if record.meta.get("class_names"):
        choices.append("class")
    return choices


def colouring(record, sample: int, colour_by: str, model: str = "model") -> Colouring:
    if colour_by in CONTINUOUS:
        return _continuous(record, sample, colour_by, model)
    if colour_by == "part":
        return _categorical(record.arrays["part_labels"][sample], record.meta["part_names"], "part")
    if colour_by == "class":
        count = record.arrays["points"].shape[1]
        return _categorical(np.full(count, int(record.arrays["labels"][sample])), record.meta["class_names"], "class")
    raise ValueError(f"cannot colour by {colour_by!r}; choices: {', '.join(colour_choices(record))}")


def limits(record, name: str) -> tuple[float, float]:
    """One range over every cloud and both models, so colours compare across samples and models."""
    values = np.concatenate([record.arrays[prefix(m) + name].ravel() for m in model_names(record)])
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return (lo, hi if hi > lo else lo + 1.0)


def _continuous(record, sample: int, name: str, model: str) -> Colouring:
    label, cmap = CONTINUOUS[name]
    lo, hi = limits(record, name)
    values = record.arrays[prefix(model) + name][sample]
    rgba = colormaps[cmap]((np.nan_to_num(values, nan=lo) - lo) / (hi - lo))
    return Colouring(rgba.astype(np.float32), label, cmap, (lo, hi))


def category_rgba(labels: np.ndarray) -> np.ndarray:
    colours = np.asarray(colormaps[PALETTE].colors, np.float32)
    rgba = np.concatenate([colours[np.maximum(labels, 0) % len(colours)], np.ones((len(labels), 1), np.float32)], 1)
    rgba[labels < 0] = UNKNOWN_RGBA
    return rgba


def _categorical(labels: np.ndarray, names: list, label: str) -> Colouring:
    rgba = category_rgba(labels)
    present = [int(k) for k in np.unique(labels) if k >= 0] + ([-1] if (labels < 0).any() else [])
    legend = tuple((names[k] if k >= 0 else "unknown", tuple(category_rgba(np.array([k]))[0])) for k in present)
    return Colouring(rgba, label, legend=legend)


def at_clamp(record, sample: int, model: str = "model") -> np.ndarray:
    """(N,) points whose σ sits at the clamp: fully discarded, shown with their own marker (§5.7)."""
    sigma_max = float(record.config.get("sigma_max", 0.08))
    return record.arrays[prefix(model) + "sigma"][sample] >= CLAMP_SHARE * sigma_max
