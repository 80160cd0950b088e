"""Settings of `graph-inference` (spec: explanatory-graph §1.6)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.methods.explanatory_graph.config import crop_setting
from engine.settings import setting


@dataclass(frozen=True)
class GraphInferenceConfig:
    graph: str = setting("", "result folder of the explanatory-graph run whose nodes are inferred")
    crop: str = crop_setting()
    batch_size: int = setting(32, "images per inference batch", "images")
    shown_nodes: int = setting(10, "strongest nodes a layer marked on each image of the figure", "nodes")
