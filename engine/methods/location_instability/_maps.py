"""What both part metrics read from a model: a layer's 2-D maps batch by batch, and accuracy.

Shared by location-instability and part-interpretability (spec: interpretable-cnn §2.8);
landmark and part groups are the part names' "category/part" prefixes (PartWorld's).
"""
from __future__ import annotations

import numpy as np
import torch

from engine.errors import BadInput, choices
from engine.layers import forward_to


def check_maps(layer: str, output: torch.Tensor) -> None:
    """§2.8 measures conv filters: a layer must give (B,C,h,w) maps."""
    if output.dim() != 4:
        raise BadInput(f"layer {layer} is not a conv layer (its output is {tuple(output.shape)}); "
                       "this method reads 2-D feature maps")


def layer_maps(model, images: np.ndarray, layers: list[str], batch_size: int, progress):
    """Yield (start, {layer: (B,C,h,w) float32 maps as the layer outputs them}) over `images`."""
    for start in range(0, len(images), batch_size):
        progress.step(start, len(images), f"features {start}/{len(images)}")
        with torch.no_grad():
            out = forward_to(model.module, model.prepare(images[start:start + batch_size]), layers)
        for layer in layers:
            check_maps(layer, out[layer])
        yield start, {layer: out[layer].float().cpu().numpy() for layer in layers}


def accuracy(model, data, batch_size: int, progress) -> float:
    """Share of the labelled images the model classifies right (NaN without labels)."""
    known = np.flatnonzero(data.labels >= 0)
    if not len(known):
        return float("nan")
    predictions = []
    for start in range(0, len(known), batch_size):
        progress.step(start, len(known), f"accuracy {start}/{len(known)}")
        with torch.no_grad():
            logits = model.module(model.prepare(data.images[known[start:start + batch_size]]))
        predictions.append(logits.argmax(1).cpu().numpy())
    return float((np.concatenate(predictions) == data.labels[known]).mean())


def require(data, what: str) -> None:
    """BadInput in one line where the data lacks the ground truth a metric needs."""
    field = {"landmarks": data.landmarks, "part masks": data.part_masks}[what]
    if field is None or not data.part_names:
        raise BadInput(f"{data.spec or 'this data'} has no part {what.split()[-1]}: the part metrics need "
                       f"data with {what}, e.g. demo:partworld")


def part_groups(part_names: list[str], class_name: str = "") -> dict[str, np.ndarray]:
    """Category → indices of its parts, from the "category/part" names; only `class_name` if given."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(part_names):
        groups.setdefault(name.split("/")[0] if "/" in name else "", []).append(i)
    if class_name and class_name not in groups:
        raise BadInput(f"class_name={class_name!r} names no category of the data's parts; "
                       f"valid: {choices(groups)}")
    return {c: np.array(p) for c, p in groups.items() if not class_name or c == class_name}
