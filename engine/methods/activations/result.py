"""The result of `activations`: feature maps, per-filter statistics, top samples per filter."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "activations"


@dataclass
class ActivationsResult:
    """All arrays per layer; N samples, C filters, S kept samples, k top samples.

    images:        (S,3,H,W) inputs of the kept samples
    maps:          layer → (S,C,h,w) their feature maps
    filter_max:    layer → (N,C) each filter's spatial maximum on each sample
    filter_mean:   layer → (N,C) its spatial mean
    topk_index:    layer → (C,k) dataset indices of each filter's top samples
    topk_maps:     layer → (C,k,h,w) that filter's map on each of them
    top_images:    (U,3,H,W) inputs of every sample that is a top sample somewhere
    top_image_index: (U,) their dataset indices
    """

    config: object
    layers: list
    sample_names: list
    labels: np.ndarray
    predictions: np.ndarray
    images: np.ndarray
    maps: dict
    filter_max: dict
    filter_mean: dict
    topk_index: dict
    topk_maps: dict
    top_images: np.ndarray
    top_image_index: np.ndarray
    class_names: list

    def metrics(self) -> dict:
        """Means over filters and samples, per layer (issue 2, names scripts rely on)."""
        out = {}
        for layer in self.layers:
            out[f"max_activation/{layer}"] = float(self.filter_max[layer].mean())
            out[f"mean_activation/{layer}"] = float(self.filter_mean[layer].mean())
        known = self.labels >= 0
        if known.any():
            out["accuracy"] = float((self.predictions[known] == self.labels[known]).mean())
        return out

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"images": self.images, "labels": self.labels, "predictions": self.predictions,
                  "top_images": self.top_images, "top_image_index": self.top_image_index}
        for name in ("maps", "filter_max", "filter_mean", "topk_index", "topk_maps"):
            arrays.update({f"{name}/{layer}": getattr(self, name)[layer] for layer in self.layers})
        meta = {"layers": self.layers, "sample_names": self.sample_names,
                "class_names": self.class_names}
        return ResultRecord(KIND, "activations", to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "ActivationsResult":
        from engine.methods.activations.config import ActivationsConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        layers, a = record.meta["layers"], record.arrays
        per_layer = {name: {layer: a[f"{name}/{layer}"] for layer in layers}
                     for name in ("maps", "filter_max", "filter_mean", "topk_index", "topk_maps")}
        return cls(from_dict(ActivationsConfig, record.config), layers, record.meta["sample_names"],
                   a["labels"], a["predictions"], a["images"], top_images=a["top_images"],
                   top_image_index=a["top_image_index"], class_names=record.meta["class_names"],
                   **per_layer)
