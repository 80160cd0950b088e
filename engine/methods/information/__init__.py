"""Information discarding: entropy of the input information a layer uses (spec: information)."""
from engine.methods.base import Method
from engine.methods.information.api import compute
from engine.methods.information.config import InformationConfig
from engine.methods.information.result import KIND, InformationResult

METHOD = Method("information", KIND, "entropy of the input information each layer uses, per image cell or token",
                InformationConfig, InformationResult, compute, input_kinds=("image", "text"), shards=True)
