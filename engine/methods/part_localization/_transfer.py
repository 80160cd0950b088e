"""Few-shot transfer of detectors to a part, and the nearest-neighbour baseline.

spec: explanatory-graph §1.7 [ours]: from the annotated images, each detector's mean
displacement Δ̄_V to the part and its spread; keep the top detectors by
mean_a S_V(I_a)·exp(−var_a Δ_V / 2ρ²) (one shot: ‖Δ_V‖ < ρ instead); on a new image the
part is Σ_V S_V (p̂_V + Δ̄_V) / Σ_V S_V, "or a weighted median for robustness": per axis,
the vote where the votes' cumulative score first reaches half their total. The same rule runs
on graph nodes and on raw filter peaks (the issue's baseline).
"""
from __future__ import annotations

import numpy as np


def fit(positions, scores, annotated, targets, keep: int, radius: float):
    """Detectors kept for a part and their mean displacement: (indices (k,), Δ̄ (k,2))."""
    delta = targets[:, None, :] - positions[annotated]             # (A,K,2)
    mean_delta = delta.mean(0)
    strength = scores[annotated]
    if len(annotated) >= 2:
        spread = ((delta - mean_delta) ** 2).sum(-1).mean(0)
        weight = strength.mean(0) * np.exp(-spread / (2 * radius**2))
    else:
        weight = strength[0] * (np.linalg.norm(delta[0], axis=-1) < radius)
    chosen = np.argsort(-weight, kind="stable")[:keep]
    return chosen, mean_delta[chosen]


def predict(positions, scores, images, chosen, mean_delta, consensus: str = "mean") -> np.ndarray:
    """(T,2) score-weighted consensus (mean or median) of the kept detectors' votes on `images`."""
    votes = positions[images][:, chosen] + mean_delta[None]        # (T,k,2)
    weight = scores[images][:, chosen]
    total = weight.sum(1, keepdims=True)
    weight = np.where(total > 0, weight / np.where(total > 0, total, 1), 1.0 / weight.shape[1])
    if consensus == "median":
        return weighted_median(votes, weight)
    return (weight[..., None] * votes).sum(1)


def weighted_median(votes, weight) -> np.ndarray:
    """(T,2) per image and axis, the smallest vote whose cumulative weight reaches half: votes
    (T,k,2), weight (T,k) summing to 1 per image."""
    order = np.argsort(votes, axis=1, kind="stable")                        # (T,k,2)
    ranked = np.take_along_axis(votes, order, 1)
    cumulative = np.cumsum(np.take_along_axis(np.repeat(weight[..., None], 2, -1), order, 1), 1)
    first = (cumulative >= 0.5 - 1e-12).argmax(1)                           # (T,2)
    return np.take_along_axis(ranked, first[:, None], 1)[:, 0]


def nearest_neighbour(features, unit_xy, annotated, targets, images) -> np.ndarray:
    """Baseline: the unit whose conv feature is nearest (cosine) to the mean annotated one.

    features (N,D,U) one vector a unit, unit_xy (U,2) their pixel centres."""
    unit = np.linalg.norm(unit_xy[None] - targets[:, None], axis=-1).argmin(1)   # (A,)
    template = features[annotated, :, unit].mean(0)                             # (D,)
    template /= np.linalg.norm(template) + 1e-12
    candidates = features[images]                                              # (T,D,U)
    norms = np.linalg.norm(candidates, axis=1) + 1e-12
    similarity = np.einsum("d,tdu->tu", template, candidates) / norms
    return unit_xy[similarity.argmax(1)]
