"""Concept contributions: a logit distilled into Σ α_i(I)·y_i(I) + b (spec: concepts-bias-trees §3)."""
from engine.methods.base import Method
from engine.methods.concepts.api import compute
from engine.methods.concepts.config import ConceptsConfig
from engine.methods.concepts.result import KIND, ConceptsResult

METHOD = Method("concepts", KIND, "explain one output (`target`) by concept predictors (--model2's outputs, or "
                "the model's own other outputs): per image Σ α_i·y_i + b, the unexplained residual, and the "
                "gradient priors w", ConceptsConfig, ConceptsResult, compute, accepts_model2=True)
