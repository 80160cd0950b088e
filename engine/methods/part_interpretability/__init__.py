"""Part interpretability of filters: IoU of their top-0.5 % regions with part masks (spec: interpretable-cnn §2.8)."""
from engine.methods.base import Method
from engine.methods.part_interpretability.api import compute
from engine.methods.part_interpretability.config import PartInterpretabilityConfig
from engine.methods.part_interpretability.result import KIND, PartInterpretabilityResult

METHOD = Method("part-interpretability", KIND, "how often each filter's strongest region covers one part "
                "(IoU with part masks, network dissection as the interpretable-CNN paper adapts it)",
                PartInterpretabilityConfig, PartInterpretabilityResult, compute,
                accepts_model2=True)
