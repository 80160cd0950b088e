"""The result of `location-instability`: per layer, D_{u,k} for each measured unit and landmark."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "location-instability"
PER_LAYER = ("units", "positions", "scores", "distance_std", "category", "instability")


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

    def metrics(self) -> dict:
        from engine.methods.explanatory_graph._metrics import nanmean  # noqa: PLC0415

        out = {f"instability/{layer}": float(nanmean(m.instability)) for layer, m in self.layers.items()}
        if np.isfinite(self.accuracy):
            out["accuracy"] = self.accuracy
        return out

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"images": self.images, "landmarks": self.landmarks}
        for layer, m in self.layers.items():
            arrays.update({f"{name}/{layer}": getattr(m, name) for name in PER_LAYER})
        meta = {"layers": list(self.layers), "source": self.source, "part_names": self.part_names,
                "categories": self.categories, "sample_names": self.sample_names,
                "diagonal": self.diagonal, "accuracy": self.accuracy}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "LocationInstabilityResult":
        from engine.methods.location_instability.config import LocationInstabilityConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        a, meta = record.arrays, record.meta
        layers = {layer: LayerInstability(*(a[f"{name}/{layer}"] for name in PER_LAYER)) for layer in meta["layers"]}
        return cls(from_dict(LocationInstabilityConfig, record.config), meta["source"], layers,
                   meta["part_names"], meta["categories"], a["images"], a["landmarks"],
                   meta["sample_names"], meta["diagonal"], meta["accuracy"])
