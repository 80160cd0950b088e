"""`interpretable-training`: what training left in an interpretable CNN, and how silent its filters are.

spec: interpretable-cnn §2.12 "training dashboards". From the model: each masked layer's β_f
(§2.3, learned per filter §2.7), its filter→category table A and each filter's category
argmax_k A (§2.5 step 2), and model.json's per-epoch record (κ = k·mag/t, §2.5 step 4, and the
two losses). Measured on the data: each filter's mean peak of its masked output over each
class's images; the filter is silent on the other categories when every other class's mean is
below `silent_ratio` × its own class's. Every masked layer is shown; `layers` may name only them.
"""
from __future__ import annotations

import numpy as np

from engine.errors import BadInput, choices
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.interpretable_training._silence import mean_peaks, silence
from engine.methods.interpretable_training.config import InterpretableTrainingConfig
from engine.methods.interpretable_training.result import InterpretableTrainingResult, LayerTraining
from engine.methods.location_instability._maps import layer_maps
from engine.models.interpretable import InterpretableConv


def compute(inputs: MethodInputs, config: InterpretableTrainingConfig,
            progress: Progress) -> InterpretableTrainingResult:
    model, data = inputs.model, inputs.data
    layers = masked_layers(model, inputs.layers)
    categories = table_categories(model.class_names, next(iter(layers.values())).categories)
    own = own_classes(categories, data)
    peaks = collect_peaks(model, data.images, list(layers), config.batch_size, progress.child(0.0, 0.95))
    classes = len(data.class_names)
    measured = {name: measure_layer(layer, peaks[name], data.labels, own, classes, config.silent_ratio)
                for name, layer in layers.items()}
    labelled = data.labels[data.labels >= 0]
    result = InterpretableTrainingResult(config, measured, categories, list(data.class_names),
                                         np.bincount(labelled, minlength=classes), epoch_rows(model.description))
    progress.step(1.0, 1.0, "training dashboard ready")
    return result


def masked_layers(model, requested: list[str]) -> dict[str, InterpretableConv]:
    """Name → masked layer, in forward order; BadInput for a model without one (§2.2)."""
    found = {name: m for name, m in model.module.named_modules() if isinstance(m, InterpretableConv)}
    if not found:
        raise BadInput(f"{model.spec} has no interpretable layer (masked filters, spec §2.2); the "
                       "training dashboard reads an interpretable CNN, e.g. demo:partworld-icnn")
    others = [name for name in requested if name not in found]
    if others:
        raise BadInput(f"layer {others[0]} is not an interpretable layer; the training dashboard shows "
                       f"every masked layer: {choices(found)}")
    return found


def table_categories(class_names: list[str], columns: int) -> list[str]:
    """Class names of table A's columns: the model's classes, or with one column (single-category
    training, the class against the rest as labels 0 and 1, §2.6) its class, label 1."""
    if columns == len(class_names):
        return list(class_names)
    if columns == 1 and len(class_names) == 2:
        return [class_names[1]]
    raise BadInput(f"the interpretable layers have {columns} categories but the model names "
                   f"{len(class_names)} classes; cannot tell which class a filter belongs to")


def own_classes(categories: list[str], data) -> np.ndarray:
    """Each table column's index among the data's classes: silence is measured against them."""
    if not (data.labels >= 0).any():
        raise BadInput(f"{data.spec or 'the data'} has no class labels; silence on other categories is "
                       "measured per class (labelled data, e.g. demo:partworld)")
    missing = [c for c in categories if c not in data.class_names]
    if missing:
        raise BadInput(f"the model's category {missing[0]!r} is no class of {data.spec or 'the data'} "
                       f"({choices(data.class_names)}); measure on data of the classes it was trained on")
    return np.array([data.class_names.index(c) for c in categories])


def collect_peaks(model, images: np.ndarray, layers: list[str], batch_size: int, progress) -> dict:
    """Per layer, (N,C) each filter's peak of its masked output on each image."""
    found = {layer: [] for layer in layers}
    for _, maps in layer_maps(model, images, layers, batch_size, progress):
        for layer in layers:
            found[layer].append(maps[layer].max((2, 3)))
    return {layer: np.concatenate(p) for layer, p in found.items()}


def measure_layer(layer: InterpretableConv, peaks: np.ndarray, labels: np.ndarray, own: np.ndarray,
                  classes: int, ratio: float) -> LayerTraining:
    """β, table A and the categories as the model holds them; mean peaks and silence on the data."""
    category = layer.filter_categories().cpu().numpy()
    mean_peak = mean_peaks(peaks, labels, classes)
    return LayerTraining(layer.beta.detach().cpu().numpy().astype(np.float32),
                         layer.category_table.detach().cpu().numpy().astype(np.float32),
                         category, mean_peak, silence(mean_peak, own[category], ratio))


def epoch_rows(description: dict) -> list[dict]:
    """model.json's `training.epochs` (one row an epoch, `training._epoch_row`); [] without one."""
    rows = (description.get("training") or {}).get("epochs", [])
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
