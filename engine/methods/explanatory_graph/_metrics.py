"""How well nodes (or raw filters) stay on one part: location instability and a purity proxy.

spec: explanatory-graph §1.8. Instability after computeStability: rank the nodes by the
mean of their top-T scores, keep the top `nodes`; per node, its top-T images; per
landmark k, the std (N−1) over the images having k of the distance from the node's
inferred position to k; mean over landmarks, over nodes, over the image diagonal. The
raw-filter baseline is the same with a filter's argmax unit and its maximum.
interpretable-cnn §2.8 measures filters by the same distance and std, but picks each
landmark's top images among those showing it (`instability_table(among_having=True)`),
keeps 100 of them and every filter; both protocols share `instability_table`.
Purity [ours, §1.8]: of a node's top-T positions, the share whose nearest landmark
within `radius` is the node's majority part; a position near no landmark counts against
it (a node firing on background half the time is not pure).
"""
from __future__ import annotations

import numpy as np


def ranked_units(scores: np.ndarray, nodes: int, images: int) -> np.ndarray:
    """The `nodes` units (columns of scores (N,K)) with the largest mean top-`images` score."""
    top = -np.sort(-scores, axis=0)[:images]
    return np.argsort(-top.mean(0), kind="stable")[:nodes]


def _top_distances(positions, scores, landmarks, units, images) -> np.ndarray:
    """(k,T,P) distances from each kept unit's top-T positions to every landmark (NaN: absent)."""
    best = np.argsort(-scores[:, units], axis=0, kind="stable")[:images].T      # (k,T)
    where = positions[best, units[:, None]]                                     # (k,T,2)
    return np.linalg.norm(landmarks[best] - where[:, :, None, :], axis=-1)


def _having_distances(positions, scores, landmarks, images) -> np.ndarray:
    """(U,T,P) like `_top_distances` for every unit, but the top-T images of landmark k are
    ranked among the images showing k (interpretable-cnn §2.8 step 3); NaN pads short lists.
    [ours] An image where the unit is silent (score ≤ 0: a post-ReLU map of zeros, whose arg-max
    is the first cell) gives it no position, so it is not among its top images either: else a
    filter that never fires sits in a corner on every image and looks perfectly steady."""
    n, units = scores.shape
    out = np.full((units, min(images, n), landmarks.shape[1]), np.nan)
    live = scores > 0
    for k in range(landmarks.shape[1]):
        counted = np.isfinite(landmarks[:, k]).all(1)[:, None] & live          # (N,U)
        ranked = np.where(counted, scores, -np.inf)
        best = np.argsort(-ranked, axis=0, kind="stable")[:images]             # (T,U)
        d = np.linalg.norm(landmarks[best, k] - positions[best, np.arange(units)], axis=-1)
        out[:, :, k] = np.where(np.take_along_axis(counted, best, 0), d, np.nan).T
    return out


def _std_over_images(d) -> np.ndarray:
    """std (N−1, MATLAB `var`) over axis 1 of the non-NaN entries; NaN where fewer than 2."""
    count = np.sum(~np.isnan(d), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(d, axis=1) / count
        var = np.nansum((d - mean[:, None]) ** 2, axis=1) / (count - 1)
    return np.where(count >= 2, np.sqrt(np.where(count >= 2, var, 0.0)), np.nan)


def instability_table(positions, scores, landmarks, images: int, among_having: bool = False) -> np.ndarray:
    """(U,P) D_{u,k}: std over unit u's top-`images` images of ‖p_k(I) − p̂_u(I)‖, in pixels.

    positions (N,U,2) and landmarks (N,P,2) in pixels (x, y), scores (N,U). among_having:
    rank the images showing k (§2.8); else rank all, then drop those lacking k (§1.8).
    """
    if among_having:
        return _std_over_images(_having_distances(positions, scores, landmarks, images))
    units = np.arange(scores.shape[1])
    return _std_over_images(_top_distances(positions, scores, landmarks, units, images))


def location_instability(positions, scores, landmarks, nodes: int, images: int,
                         diagonal: float) -> float:
    """Mean over the top units of mean_k std_I ‖p_k(I) − p̂_V(I)‖, over the diagonal (§1.8)."""
    units = ranked_units(scores, nodes, images)
    table = instability_table(positions[:, units], scores[:, units], landmarks, images)
    return float(nanmean(nanmean(table, axis=1)) / diagonal)


def purity(positions, scores, landmarks, nodes: int, images: int, radius: float) -> float:
    """Mean over the top units of the share of their top-T positions on their majority part."""
    units = ranked_units(scores, nodes, images)
    d = _top_distances(positions, scores, landmarks, units, images)
    nearest = np.nanargmin(np.where(np.isnan(d), np.inf, d), axis=2)            # (k,T)
    close = np.take_along_axis(np.nan_to_num(d, nan=np.inf), nearest[..., None], 2)[..., 0] <= radius
    label = np.where(close, nearest, -1)
    shares = []
    for row in label:
        parts = row[row >= 0]
        shares.append(np.bincount(parts).max() / len(row) if len(parts) else 0.0)
    return float(np.mean(shares))


def nanmean(a, axis=None):
    """Mean over the non-NaN entries; NaN (no warning) where there are none."""
    a = np.asarray(a, dtype=float)
    count = np.sum(~np.isnan(a), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(a, axis=axis) / count


def filter_peaks(maps) -> tuple[np.ndarray, np.ndarray]:
    """Raw filters as parts: per image and filter, the argmax unit (N,C,2) (h, w) and the max (N,C)."""
    n, c, _, side = maps.shape
    flat = maps.reshape(n, c, -1)
    where = flat.argmax(-1)
    return np.stack([where // side, where % side], -1).astype(np.float32), flat.max(-1)

