"""Two models measured on the same data (ordinary vs interpretable): how a result keeps both.

The part metrics (location-instability, part-interpretability) store the second model's
per-layer arrays under `model2/NAME/LAYER`, its layers and accuracy in meta, and name its
metrics `NAME_model2/LAYER`; one set of helpers writes and reads that layout for both.
"""
from __future__ import annotations

import numpy as np


def side_by_side(name: str, values: dict, values2: dict, correct: float, correct2: float,
                 compare, compared: str) -> dict:
    """The metrics of both models: `name/LAYER`, `accuracy`; with a second model also
    `name_model2/LAYER2`, `accuracy_model2` and `compared` = compare(first layer's, model2's first)."""
    out = {f"{name}/{layer}": v for layer, v in values.items()}
    out.update({f"{name}_model2/{layer}": v for layer, v in values2.items()})
    if values and values2:
        out[compared] = float(compare(next(iter(values.values())), next(iter(values2.values()))))
    if np.isfinite(correct):
        out["accuracy"] = correct
    if values2 and np.isfinite(correct2):
        out["accuracy_model2"] = correct2
    return out


def layer_arrays(layers: dict, layers2: dict, names: tuple) -> dict:
    """Each layer's fields `names` as arrays `NAME/LAYER`, the second model's as `model2/NAME/LAYER`."""
    arrays = {}
    for prefix, per_layer in (("", layers), ("model2/", layers2)):
        for layer, m in per_layer.items():
            arrays.update({f"{prefix}{name}/{layer}": getattr(m, name) for name in names})
    return arrays


def read_layers(arrays: dict, meta: dict, cls, names: tuple) -> tuple[dict, dict]:
    """(layers, layers2) rebuilt as `cls(*fields)` from what `layer_arrays` wrote."""
    def read(prefix: str, layers: list) -> dict:
        return {layer: cls(*(arrays[f"{prefix}{name}/{layer}"] for name in names)) for layer in layers}

    return read("", meta["layers"]), read("model2/", meta.get("layers2", []))


def model2_meta(model2: str, layers2: dict, accuracy2: float) -> dict:
    return {"model2": model2, "layers2": list(layers2),
            "accuracy2": accuracy2 if np.isfinite(accuracy2) else None}  # JSON has no NaN


def stored_float(value) -> float:
    """A stored float; NaN where it was stored as null."""
    return float("nan") if value is None else float(value)
