"""Few-shot transfer of detectors to a part, and the nearest-neighbour baseline.

spec: explanatory-graph §1.7 [ours]: from the annotated images, each detector's mean
displacement Δ̄_V to the part and its spread; keep the top detectors by
mean_a S_V(I_a)·exp(−var_a Δ_V / 2ρ²) (one shot: ‖Δ_V‖ < ρ instead); on a new image the
part is Σ_V S_V (p̂_V + Δ̄_V) / Σ_V S_V, "or a weighted median for robustness": per axis,
the vote where the votes' cumulative score first reaches half their total. The same rule runs
on graph nodes and on raw filter peaks (the issue's baseline).

§1.7 step 3 [code] as `zqs1022/partGraphForCNN` computes it: `produceMap.m` makes the
prediction the mode of the votes (each adds a truncated kernel exp(−‖x − vote‖/‖δ‖) on a
window around it, the map's argmax wins), and `step_inference.m` reads each new image as it
is and mirrored and keeps the reading with the better total score: the mean over the kept
detectors of super_loc·(−‖ĉ − vote‖² / 2‖δ‖²) plus their own (log) score.
"""
from __future__ import annotations

import numpy as np

# getLossPara_normal.m at the reference's 224 px crops: δ = (35, 35) px, super_loc = 5;
# configurations.m: SearchRange = 0.3 · 224, the vote window's half side SearchRange / 6
DELTA_SHARE, WINDOW_SHARE, SUPER_LOC = 35 / 224, 0.3 / 6, 5.0
MIRROR_X = np.array([-1.0, 1.0])    # a displacement (x, y) learned on the image, on its mirror


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


def votes(positions, scores, images, chosen, mean_delta, mirrored: bool = False):
    """The kept detectors' votes p̂_V + Δ̄_V on `images` (T,k,2) and their scores (T,k); on
    `mirrored` readings (positions found on the mirror, in the image's coordinates) Δ̄_x flips."""
    delta = mean_delta * MIRROR_X if mirrored else mean_delta
    return positions[images][:, chosen] + delta[None], scores[images][:, chosen]


def consensus(votes, scores, how: str, size: tuple[int, int]) -> np.ndarray:
    """(T,2) one prediction an image from votes (T,k,2): their score-weighted mean, per axis the
    weighted median, or the vote map's mode; `size` (height, width) of the images."""
    total = scores.sum(1, keepdims=True)
    weight = np.where(total > 0, scores / np.where(total > 0, total, 1), 1.0 / scores.shape[1])
    if how == "median":
        return weighted_median(votes, weight)
    mean = (weight[..., None] * votes).sum(1)
    return vote_mode(votes, scores > 0, size, fallback=mean) if how == "mode" else mean


def weighted_median(votes, weight) -> np.ndarray:
    """(T,2) per image and axis, the smallest vote whose cumulative weight reaches half: votes
    (T,k,2), weight (T,k) summing to 1 per image."""
    order = np.argsort(votes, axis=1, kind="stable")                        # (T,k,2)
    ranked = np.take_along_axis(votes, order, 1)
    cumulative = np.cumsum(np.take_along_axis(np.repeat(weight[..., None], 2, -1), order, 1), 1)
    first = (cumulative >= 0.5 - 1e-12).argmax(1)                           # (T,2)
    return np.take_along_axis(ranked, first[:, None], 1)[:, 0]


def vote_mode(votes, fired, size: tuple[int, int], fallback) -> np.ndarray:
    """(T,2) produceMap's argmax: every fired vote adds exp(−‖o‖/‖δ‖) − its window's minimum at
    each offset o of a (2r+1)² window around the rounded vote, inside the image; the votes' own
    scores do not weigh them there (they cancel in the reference). `fallback` where no vote lands."""
    height, width = size
    r = round(WINDOW_SHARE * (height + width) / 2)
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1].reshape(2, -1)
    gain = np.exp(-np.hypot(dx, dy) / delta_norm(size))
    gain -= gain.min()
    x = np.round(votes[..., 0])[..., None] + dx                               # (T,k,O)
    y = np.round(votes[..., 1])[..., None] + dy
    inside = fired[..., None] & (x >= 0) & (x < width) & (y >= 0) & (y < height)
    t = np.broadcast_to(np.arange(len(votes))[:, None, None], x.shape)
    vote_map = np.zeros((len(votes), height * width))
    np.add.at(vote_map, (t[inside], (y * width + x)[inside].astype(int)), np.broadcast_to(gain, x.shape)[inside])
    peak = vote_map.argmax(1)
    mode = np.stack([peak % width, peak // width], 1).astype(float)
    return np.where(vote_map.any(1)[:, None], mode, fallback)


def reading_score(votes, scores, centre, size: tuple[int, int]) -> np.ndarray:
    """(T,) produceMap's MEAN_GenDisL_est: the mean over kept detectors of the log-Gaussian
    agreement of their vote with the prediction (super_loc-weighted) plus their log score."""
    agreement = -((votes - centre[:, None]) ** 2).sum(-1) / (2 * delta_norm(size) ** 2)
    return (SUPER_LOC * agreement + np.log(np.maximum(scores, 1e-12))).mean(1)


def delta_norm(size: tuple[int, int]) -> float:
    """‖δ‖ px on images of `size`: δ = (35, 35) px at the reference's 224 px, with the side."""
    return float(np.sqrt(2) * DELTA_SHARE * (size[0] + size[1]) / 2)


def predict(plain, mirror, images, chosen, mean_delta, how: str, size: tuple[int, int]):
    """(T,2) predictions on `images` and (T,) whether the mirror was read: `plain` and `mirror`
    (or None) are (positions, scores) of the detectors on the images and on their mirrors."""
    vote, score = votes(*plain, images, chosen, mean_delta)
    centre = consensus(vote, score, how, size)
    if mirror is None:
        return centre, np.zeros(len(images), bool)
    vote_m, score_m = votes(*mirror, images, chosen, mean_delta, mirrored=True)
    centre_m = consensus(vote_m, score_m, how, size)
    flip = reading_score(vote_m, score_m, centre_m, size) > reading_score(vote, score, centre, size)
    return np.where(flip[:, None], centre_m, centre), flip


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
