"""The result of `interpretable-training`: per masked layer β, table A, each filter's category
and whether it is silent on the other categories; the model's per-epoch training record.

Arrays `NAME/LAYER` for NAME in PER_LAYER and `images_per_category`; meta: `layers`,
`categories` (table A's columns), `data_categories` (the data's classes: mean_peak's columns)
and `epochs` (model.json's `training.epochs` rows as written, [] when it has none).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.methods._side_by_side import layer_arrays, read_layers
from engine.methods.interpretable_training.config import InterpretableTrainingConfig
from engine.results import ResultRecord
from engine.settings import from_dict, to_dict

KIND = "interpretable-training"
PER_LAYER = ("beta", "category_table", "category", "mean_peak", "silent")
LOSSES = ("classification_loss", "filter_loss")  # the mean losses per epoch in model.json


@dataclass
class LayerTraining:
    """C filters, K categories of table A, G categories of the data.

    beta:           (C,) β_f, the learned mask sharpness (§2.3, §2.7)
    category_table: (C,K) the EMA table A of mean peak activations (§2.5 step 2)
    category:       (C,) argmax_k A: each filter's category, an index into the result's categories
    mean_peak:      (C,G) mean over the data's images of each class of the filter's peak (masked output)
    silent:         (C,) 1 silent on every other class, 0 not, -1 unknown (no images of its own
                    class or of any other)
    """

    beta: np.ndarray
    category_table: np.ndarray
    category: np.ndarray
    mean_peak: np.ndarray
    silent: np.ndarray

    def silent_share(self) -> float:
        """Share of the filters that could be told whose mean peak is silent on the others (§2.12)."""
        known = self.silent >= 0
        return float((self.silent[known] == 1).mean()) if known.any() else float("nan")


@dataclass
class InterpretableTrainingResult:
    config: object
    layers: dict                 # layer → LayerTraining
    categories: list             # table A's columns as class names
    data_categories: list        # the data's classes
    images_per_category: np.ndarray  # (G,)
    epochs: list                 # model.json's training.epochs rows

    def trace(self, key: str) -> np.ndarray:
        """(E,) one per-epoch value (`kappa/LAYER`, `classification_loss`, ...); NaN where a row lacks it."""
        return np.array([row.get(key, np.nan) for row in self.epochs], dtype=float)

    def loss_traces(self) -> dict:
        """Loss name → (E,) its mean per epoch (the classification loss and the filter loss, §2.4)."""
        return {name: self.trace(name) for name in LOSSES}

    def epoch_numbers(self) -> np.ndarray:
        return np.array([row.get("epoch", i + 1) for i, row in enumerate(self.epochs)], dtype=float)

    def metrics(self) -> dict:
        return {f"silent_share/{layer}": m.silent_share() for layer, m in self.layers.items()}

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"images_per_category": self.images_per_category, **layer_arrays(self.layers, {}, PER_LAYER)}
        meta = {"layers": list(self.layers), "categories": self.categories,
                "data_categories": self.data_categories, "epochs": self.epochs}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "InterpretableTrainingResult":
        a, meta = record.arrays, record.meta
        layers, _ = read_layers(a, meta, LayerTraining, PER_LAYER)
        return cls(from_dict(InterpretableTrainingConfig, record.config), layers, meta["categories"],
                   meta["data_categories"], a["images_per_category"], meta["epochs"])
