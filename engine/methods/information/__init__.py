"""Information discarding: entropy of the input information a layer uses (spec: information)."""
from engine.methods.base import Method
from engine.methods.information.api import compute
from engine.methods.information.config import InformationConfig
from engine.methods.information.result import KIND, InformationResult

METHOD = Method("information", KIND, "per-cell entropy of the input information each layer uses",
                InformationConfig, InformationResult, compute, input_kinds=("image", "text"))
