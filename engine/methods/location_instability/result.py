"""The result of `location-instability`: per layer, D_{u,k} for each measured unit and landmark.

With `--model2` the second model's layer is kept beside (arrays `model2/NAME/LAYER`), and the
metrics gain `instability_model2/LAYER2`, `accuracy_model2` and `instability_ratio` (the first
layer's mean over model2's: run the interpretable CNN as --model, its ordinary twin as --model2).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.methods._side_by_side import layer_arrays, model2_meta, read_layers, side_by_side, stored_float
from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "location-instability"
PER_LAYER = ("units", "positions", "scores", "distance_std", "category", "instability")


def rows_of(meta) -> list[tuple[str, str]]:
    """(label, array prefix) per shown layer: the model's, then the side-by-side model's (--model2)."""
    return ([(layer, "") for layer in meta["layers"]]
            + [(f"model2 {layer}", "model2/") for layer in meta.get("layers2", [])])


@dataclass
class LayerInstability:
    """U measured units (filters or nodes), N images, P landmarks.

    units:        (U,) their indices among the layer's filters (or the graph layer's nodes)
    positions:    (N,U,2) pixel (x, y) of each unit on each image
    scores:       (N,U) its peak (or node score), what ranks the images
    distance_std: (U,P) D_{u,k}, over the image diagonal; NaN under 2 images (§2.8 step 3)
    category:     (U,) index into the result's categories: where the unit is measured (step 6)
    instability:  (U,) mean of D_{u,k} over that category's landmarks
    """

    units: np.ndarray
    positions: np.ndarray
    scores: np.ndarray
    distance_std: np.ndarray
    category: np.ndarray
    instability: np.ndarray


@dataclass
class LocationInstabilityResult:
    config: object
    source: str                 # "filters" or "nodes" (of the graph in config.graph)
    layers: dict                # layer → LayerInstability
    part_names: list
    categories: list
    images: np.ndarray          # (N,3,H,W) uint8, as analysed (object crops by default)
    landmarks: np.ndarray       # (N,P,2) pixel (x, y), NaN where absent
    sample_names: list
    diagonal: float
    accuracy: float
    model2: str = ""            # the side-by-side model's spec (--model2); "" without one
    layers2: dict = field(default_factory=dict)   # its default layer → LayerInstability
    accuracy2: float = float("nan")

    def metrics(self) -> dict:
        from engine.methods.explanatory_graph._metrics import nanmean  # noqa: PLC0415

        def mean(layers):
            return {layer: float(nanmean(m.instability)) for layer, m in layers.items()}

        return side_by_side("instability", mean(self.layers), mean(self.layers2), self.accuracy, self.accuracy2,
                            lambda a, b: a / b if b > 0 else float("nan"), "instability_ratio")

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"images": self.images, "landmarks": self.landmarks}
        arrays.update(layer_arrays(self.layers, self.layers2, PER_LAYER))
        meta = {"layers": list(self.layers), "source": self.source, "part_names": self.part_names,
                "categories": self.categories, "sample_names": self.sample_names,
                "diagonal": self.diagonal, "accuracy": self.accuracy,
                **model2_meta(self.model2, self.layers2, self.accuracy2)}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "LocationInstabilityResult":
        from engine.methods.location_instability.config import LocationInstabilityConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        a, meta = record.arrays, record.meta
        layers, layers2 = read_layers(a, meta, LayerInstability, PER_LAYER)
        return cls(from_dict(LocationInstabilityConfig, record.config), meta["source"], layers,
                   meta["part_names"], meta["categories"], a["images"], a["landmarks"],
                   meta["sample_names"], meta["diagonal"], meta["accuracy"],
                   meta.get("model2", ""), layers2, stored_float(meta.get("accuracy2")))

