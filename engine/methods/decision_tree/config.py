"""Settings of `decision-tree` (spec: concepts-bias-trees §4.2-4.3)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.settings import setting


@dataclass(frozen=True)
class DecisionTreeConfig:
    category: str = setting("", "the target category whose logit the tree explains (empty: the first class)")
    train_share: float = setting(0.5, "the tree grows on this first share of the category's images; the rest, "
                                 "and every other image, are held out for the metrics [ours]")
    neighbours: int = setting(5, "k: a child of the root is only merged with its k nearest in cos(g) "
                              "[ours, §4.3]", "children")
    lasso_scale: float = setting(1e-6, "λ = this·√|Ω_u| of the LASSO that picks a node's filters (§4.2)")
    epsilon: float = setting(0.01, "the identity check moves x_I to (1+ε)·x_I along its ray (§4.2)")
    batch_size: int = setting(32, "images per forward and backward pass", "images")
