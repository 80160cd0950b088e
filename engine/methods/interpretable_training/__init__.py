"""The interpretable CNN's training dashboard: κ, β, table A, silent filters (spec: interpretable-cnn §2.12)."""
from engine.methods.base import Method
from engine.methods.interpretable_training.api import compute
from engine.methods.interpretable_training.config import InterpretableTrainingConfig
from engine.methods.interpretable_training.result import KIND, InterpretableTrainingResult

METHOD = Method("interpretable-training", KIND, "an interpretable CNN's training: κ and losses per epoch, "
                "β per filter, the filter→category table A, and the share of filters silent on other "
                "categories (measured on the data)",
                InterpretableTrainingConfig, InterpretableTrainingResult, compute)
