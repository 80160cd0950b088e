"""The result of `graph-inference`: where every node of a saved graph fires on new images."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "graph-inference"


@dataclass
class GraphInferenceResult:
    """N images; per layer (bottom to top) K nodes.

    positions: layer → (N,K,2) inferred positions in the layer's units (h, w)
    scores:    layer → (N,K) S_V over the graph's training normaliser (P6: comparable to
               the scores of the mined images)
    geometry:  layer → {side, channels, per_filter, centre, stride, ...} as the graph's
    """

    config: object
    layers: list
    positions: dict
    scores: dict
    geometry: dict
    images: np.ndarray
    landmarks: np.ndarray | None
    part_names: list
    sample_names: list

    def metrics(self) -> dict:
        return {f"mean_score/{layer}": float(self.scores[layer].mean()) for layer in self.layers}

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"images": self.images}
        if self.landmarks is not None:
            arrays["landmarks"] = self.landmarks
        for layer in self.layers:
            arrays[f"positions/{layer}"], arrays[f"scores/{layer}"] = self.positions[layer], self.scores[layer]
        meta = {"layers": self.layers, "geometry": self.geometry, "part_names": self.part_names,
                "sample_names": self.sample_names}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "GraphInferenceResult":
        from engine.methods.graph_inference.config import GraphInferenceConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        layers, a, m = record.meta["layers"], record.arrays, record.meta
        return cls(from_dict(GraphInferenceConfig, record.config), layers,
                   {l: a[f"positions/{l}"] for l in layers}, {l: a[f"scores/{l}"] for l in layers},
                   m["geometry"], a["images"], a.get("landmarks"), m["part_names"], m["sample_names"])
