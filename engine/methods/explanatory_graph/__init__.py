"""Explanatory graph: the part patterns inside conv filters and their edges (spec: explanatory-graph)."""
from engine.methods.base import Method
from engine.methods.explanatory_graph.api import compute
from engine.methods.explanatory_graph.config import ExplanatoryGraphConfig
from engine.methods.explanatory_graph.result import KIND, ExplanatoryGraphResult

METHOD = Method("explanatory-graph", KIND, "part patterns mined inside conv filters, top-down, with their spatial edges",
                ExplanatoryGraphConfig, ExplanatoryGraphResult, compute, shards=True)
