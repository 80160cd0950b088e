"""Knowledge consistency between two networks (spec: knowledge-consistency §4)."""
from engine.methods.base import Method
from engine.methods.consistency.api import compute
from engine.methods.consistency.config import ConsistencyConfig
from engine.methods.consistency.result import KIND, ConsistencyResult

METHOD = Method("consistency", KIND, "what --model2's layer shares with --model's at each order of "
                "nonlinearity (variance of orders 0…K and of the residual, both directions: blind spots "
                "and unreliable features)", ConsistencyConfig, ConsistencyResult, compute, needs_model2=True)
