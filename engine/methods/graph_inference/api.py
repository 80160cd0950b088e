"""`graph-inference`: a saved explanatory graph's node positions and scores on new images.

spec: explanatory-graph §1.6: features over the graph's own σ_unit, E-step inference
top-down (each layer from its just-inferred parents), no M-step.
"""
from __future__ import annotations

from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.explanatory_graph.api import analysed, to_uint8
from engine.methods.explanatory_graph.result import geometry_of
from engine.methods.explanatory_graph.saved import infer_saved, open_graph
from engine.methods.graph_inference.config import GraphInferenceConfig
from engine.methods.graph_inference.result import GraphInferenceResult


def compute(inputs: MethodInputs, config: GraphInferenceConfig, progress: Progress) -> GraphInferenceResult:
    saved, data = open_graph(config.graph, inputs.model), analysed(inputs.data, config.crop)
    records, _ = infer_saved(saved, inputs.model, data.images, config.batch_size, progress)
    progress.step(1.0, 1.0, "nodes inferred")
    return GraphInferenceResult(
        config, saved.layers, {l: records[l].positions.numpy() for l in saved.layers},
        {l: records[l].scores.numpy() for l in saved.layers},
        {l: geometry_of(saved.graph[l]) for l in saved.layers}, to_uint8(data.images),
        data.landmarks, list(data.part_names), list(data.names))
