"""Graph inference: a saved explanatory graph run on new images (spec: explanatory-graph §1.6)."""
from engine.methods.base import Method
from engine.methods.graph_inference.api import compute
from engine.methods.graph_inference.config import GraphInferenceConfig
from engine.methods.graph_inference.result import KIND, GraphInferenceResult

METHOD = Method("graph-inference", KIND, "a saved explanatory graph's node positions and scores on new images",
                GraphInferenceConfig, GraphInferenceResult, compute)
