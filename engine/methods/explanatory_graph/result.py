"""The result of `explanatory-graph`: the mined graph, where its nodes fired, and the metrics.

Layers are listed bottom to top. Everything graph inference needs on new images is kept
(§1.6): node parameters, edges, training-mean positions, σ_unit and score normalisers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.methods.explanatory_graph._graph import GraphLayer, LayerRecords
from engine.receptive_field import UnitGrid
from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "explanatory-graph"
NODE_ARRAYS = ("mean_pos", "sigma", "parents", "affinity", "train_mean", "unit_std")
RECORD_ARRAYS = ("positions", "scores", "best")
MONITOR_COLUMNS = ("mean_score", "mean_shift", "mean_sigma", "parent_changes")  # monitor/LAYER, per iteration
MONITOR_PUBLISHED = "em_monitor"  # the partial result a mining job publishes: {layer, rows so far, iterations}


@dataclass
class ExplanatoryGraphResult:
    """N mined images; per layer (dicts keyed by layer) K nodes, C filters, T EM iterations.

    graph:            layer → GraphLayer (node parameters and edges)
    records:          layer → LayerRecords on the mined images (positions in units (h, w))
    filter_positions: layer → (N,C,2) each raw filter's argmax unit; filter_scores (N,C) its max
    monitor:          layer → (T,4) per EM iteration: mean score, mean node shift, mean σ,
                      edges changed (MONITOR_COLUMNS)
    images:           (N,3,H,W) uint8, for patches; landmarks (N,P,2) pixel (x, y) or None;
                      positions are in these images' coordinates, also those read mirrored
    metric_values:    the named numbers (nodes/L, edges/L, instability_*/L, purity_*/L)
    """

    config: object
    layers: list
    graph: dict
    records: dict
    filter_positions: dict
    filter_scores: dict
    monitor: dict
    images: np.ndarray
    labels: np.ndarray
    landmarks: np.ndarray | None
    part_names: list
    class_names: list
    sample_names: list
    metric_values: dict
    flipped: np.ndarray | None = None  # (N,) bool: the image was read mirrored (flips)

    def metrics(self) -> dict:
        return dict(self.metric_values)

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"images": self.images, "labels": self.labels}
        for name in ("landmarks", "flipped"):
            if getattr(self, name) is not None:
                arrays[name] = getattr(self, name)
        for layer in self.layers:
            node = self.graph[layer]
            arrays.update({f"{name}/{layer}": getattr(node, name).numpy() for name in NODE_ARRAYS})
            arrays.update({f"{name}/{layer}": getattr(self.records[layer], name).numpy()
                           for name in RECORD_ARRAYS})
            arrays[f"filter_positions/{layer}"] = self.filter_positions[layer]
            arrays[f"filter_scores/{layer}"] = self.filter_scores[layer]
            arrays[f"monitor/{layer}"] = np.asarray(self.monitor[layer], np.float64)
        meta = {"layers": self.layers, "part_names": self.part_names, "class_names": self.class_names,
                "sample_names": self.sample_names,
                "geometry": {layer: geometry_of(self.graph[layer]) for layer in self.layers}}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "ExplanatoryGraphResult":
        from engine.methods.explanatory_graph.config import ExplanatoryGraphConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        layers, a = record.meta["layers"], record.arrays
        return cls(
            from_dict(ExplanatoryGraphConfig, record.config), layers, graph=graph_layers(record),
            records={l: LayerRecords(*(torch.from_numpy(a[f"{n}/{l}"]) for n in RECORD_ARRAYS)) for l in layers},
            filter_positions={l: a[f"filter_positions/{l}"] for l in layers},
            filter_scores={l: a[f"filter_scores/{l}"] for l in layers},
            monitor={l: a[f"monitor/{l}"] for l in layers}, images=a["images"], labels=a["labels"],
            landmarks=a.get("landmarks"), part_names=record.meta["part_names"],
            class_names=record.meta["class_names"], sample_names=record.meta["sample_names"],
            metric_values=dict(record.metrics), flipped=a.get("flipped"))


def geometry_of(node: GraphLayer) -> dict:
    return {"side": node.side, "channels": node.channels, "per_filter": node.per_filter,
            "centre": node.grid.centre, "stride": node.grid.stride, "walked": node.grid.walked,
            "score_norm": node.score_norm}


def graph_layers(record: ResultRecord) -> dict[str, GraphLayer]:
    """The mined graph of a saved explanatory-graph result, layer by layer, bottom to top."""
    if record.kind != KIND:
        raise ValueError(f"a {record.kind} result is not an explanatory graph")
    out = {}
    for layer in record.meta["layers"]:
        g = record.meta["geometry"][layer]
        arrays = {name: torch.from_numpy(np.asarray(record.arrays[f"{name}/{layer}"])) for name in NODE_ARRAYS}
        out[layer] = GraphLayer(layer, g["side"], g["channels"], g["per_filter"],
                                UnitGrid(g["centre"], g["stride"], g["walked"]),
                                score_norm=g["score_norm"], **arrays)
    return out
