"""Feature maps of chosen layers, per-filter max and mean, top-k samples per filter."""
from engine.methods.activations.api import compute
from engine.methods.activations.config import ActivationsConfig
from engine.methods.activations.result import KIND, ActivationsResult
from engine.methods.base import Method

METHOD = Method("activations", KIND, "feature maps, per-filter max/mean, top-k samples per filter",
                ActivationsConfig, ActivationsResult, compute)
