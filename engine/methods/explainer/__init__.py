"""Explainer networks: a performer's layer disentangled into part features and rebuilt, without
labels (spec: concepts-bias-trees §6)."""
from engine.methods.base import Method
from engine.methods.explainer.api import compute, below_default
from engine.methods.explainer.config import ExplainerConfig
from engine.methods.explainer.result import KIND, ExplainerResult

METHOD = Method("explainer", KIND, "train, without labels, an explainer of one conv layer: interpretable filters "
                "(the part features) and an ordinary track mixed by a per-image weight, rebuilding a higher "
                "layer; explained share, reconstruction error, the performer's accuracy from the rebuilt "
                "features, filter instability against the performer's", ExplainerConfig, ExplainerResult,
                compute, default_layers=below_default)
