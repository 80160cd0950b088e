"""The metrics of a grown tree on held-out images, per depth (spec §4.2 [ours] definitions)."""
from __future__ import annotations

import numpy as np

from engine.methods.decision_tree._tree import Tree

PER_DEPTH = ("fidelity", "part_error", "jaccard", "prediction_error")


def paths(tree: Tree, g: np.ndarray) -> np.ndarray:
    """(N, depth) each image's node at depths 1…depth, its leaf repeated below a short path."""
    found = tree.paths(g)
    depth = max(int(tree.depths().max()), 1)
    return np.array([p + [p[-1]] * (depth - len(p)) for p in found], np.int64)


def hypotheses(tree: Tree, nodes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """h_v(x_I) for each image's node."""
    return (tree.weights[nodes] * x).sum(1) + tree.bias[nodes]


def fidelity(h_logit, logit, other) -> float:
    """The share where the tree's decision (h_v in logits beats the best other logit) is the CNN's."""
    return float(((h_logit > other) == (logit > other)).mean())


def jaccard(rho: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(N,) Σ min(ρ⁺, ρ*⁺) / Σ max(ρ⁺, ρ*⁺); 1 where both have no positive contribution."""
    a, b = np.maximum(rho, 0), np.maximum(truth, 0)
    top = np.maximum(a, b).sum(1)
    return np.where(top > 0, np.minimum(a, b).sum(1) / np.where(top > 0, top, 1), 1.0)


def at_depth(tree, nodes, parts, held, negatives) -> list[float]:
    """The four PER_DEPTH numbers with each held-out image at its node `nodes` (positives first)."""
    n = len(held.x)
    h = hypotheses(tree, nodes, np.concatenate([held.x, negatives.x]))
    norm = np.concatenate([held.norm, negatives.norm])
    agree = fidelity(h * norm, np.concatenate([held.logit, negatives.logit]),
                     np.concatenate([held.other, negatives.other]))
    rho, truth = tree.weights[nodes[:n]] * held.x, held.g * held.x
    part_error = np.abs((rho - truth) @ parts.T).sum(1) / np.maximum(np.abs(held.target), 1e-12)
    spread = np.ptp(held.target) if n > 1 and np.ptp(held.target) > 0 else 1.0
    return [agree, float(part_error.mean()), float(jaccard(rho, truth).mean()),
            float(np.abs(h[:n] - held.target).mean() / spread)]


def per_depth(tree: Tree, parts: np.ndarray, held, negatives) -> tuple[np.ndarray, np.ndarray]:
    """((N_pos, depth) paths of the held-out positives, (depth, 4) PER_DEPTH at depths 1…depth)."""
    route = paths(tree, np.concatenate([held.g, negatives.g]))
    table = np.array([at_depth(tree, route[:, t], parts, held, negatives) for t in range(route.shape[1])])
    return route[:len(held.x)], table
