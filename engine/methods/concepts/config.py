"""Settings of `concepts` (spec: concepts-bias-trees §3.2-3.3)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.settings import setting


@dataclass(frozen=True)
class ConceptsConfig:
    target: str = setting("", "the performer's output explained (one of its class names); empty: the first")
    concepts: tuple[str, ...] = setting(
        (), "the concept predictors' outputs used (comma-separated names): --model2's when given, else the "
        "performer's own other outputs; empty: all of them (§3.1)")
    epochs: int = setting(150, "training epochs of the explainer g_θ", "epochs")
    lr: float = setting(3e-3, "Adam's learning rate of g_θ and b")
    batch_size: int = setting(16, "images per step (also per batch of the gradient priors)", "images")
    width: int = setting(16, "channels of g_θ's first convolution (doubled in the second and third)", "channels")
    prior_weight: float = setting(1.0, "λ at the start of training: the weight of the prior loss (§3.2 step 5)")
    prior_decades: float = setting(2.0, "decades λ falls over training, log-uniformly (large early, annealed; "
                                   "§3.2 step 5 [ours])", "decades")
    ridge: float = setting(1e-3, "ridge of the prior least squares, as a share of the mean squared norm of "
                           "the concepts' gradients (§3.2 step 3)")
    held_out: float = setting(0.25, "share of the images held out: g_θ learns from the others and the metrics "
                              "are measured on these; the last images of the data")
