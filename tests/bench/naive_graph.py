"""A straightforward E-step, one node (and one pair of nodes) at a time as the reference's
C++ loops run it (spec: explanatory-graph §1.5, §1.9), NumPy within a node: the known
answer the batched E-step is tested against and the baseline its benchmark measures.
"""
from __future__ import annotations

import math

import numpy as np


def _gauss(d, sigma):
    return np.exp(-d**2 / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma)


def node_terms(x, node_filter, centre, half, offsets, spread, weight, smoothing):
    """One node on one image: q (J,J) and e (J,J) around its expected position `centre` (h, w)."""
    side = x.shape[-1]
    base = np.round(centre).astype(int)
    units = np.arange(-half, half + 1)
    rows, cols = base[0] + units, base[1] + units
    patch = np.zeros((len(units), len(units)))
    inside_r, inside_c = (rows >= 0) & (rows < side), (cols >= 0) & (cols < side)
    patch[np.ix_(inside_r, inside_c)] = x[node_filter][np.ix_(rows[inside_r], cols[inside_c])]
    floor = 3 * smoothing
    gh = _gauss(np.clip(units[None] - (offsets[:, None] + centre[0] - base[0]), -floor, floor), smoothing)
    gw = _gauss(np.clip(units[None] - (offsets[:, None] + centre[1] - base[1]), -floor, floor), smoothing)
    e = gh @ patch @ gw.T
    g = _gauss(np.asarray(offsets), spread)
    return weight * g[:, None] * g[None, :], e


def competition(q, centres, offsets, per_filter):
    """Q (K,J,J): for each node and candidate, Σ over its filter's nodes of q at their nearest candidate."""
    nodes, count = offsets.shape
    out = np.zeros((nodes, count, count))
    for v in range(nodes):
        first = (v // per_filter) * per_filter
        h, w = centres[v, 0] + offsets[v], centres[v, 1] + offsets[v]
        for other in range(first, first + per_filter):
            grid_h, grid_w = centres[other, 0] + offsets[other], centres[other, 1] + offsets[other]
            ok_h = (h >= grid_h[0] - 1e-5) & (h <= grid_h[-1] + 1e-5)
            ok_w = (w >= grid_w[0] - 1e-5) & (w <= grid_w[-1] + 1e-5)
            near_h = np.abs(grid_h[None] - h[:, None]).argmin(1)
            near_w = np.abs(grid_w[None] - w[:, None]).argmin(1)
            out[v] += q[other][np.ix_(near_h, near_w)] * np.outer(ok_h, ok_w)
    return out


def e_step_image(x, mean_pos, per_filter, half, offsets, shift, spread, weight, smoothing, valid_tau):
    """One image: per node position (K,2), score (K,), and responsibilities r (K,J,J)."""
    nodes = len(mean_pos)
    side = x.shape[-1]
    centres = np.clip(mean_pos + shift, 0, side - 1)
    q = np.zeros((nodes, offsets.shape[1], offsets.shape[1]))
    e = np.zeros_like(q)
    for v in range(nodes):
        q[v], e[v] = node_terms(x, v // per_filter, centres[v], int(half[v]), offsets[v], spread[v],
                                weight[v], smoothing)
    qe = q * e
    best = qe.reshape(nodes, -1).argmax(1)
    positions = centres + np.stack([offsets[np.arange(nodes), best // q.shape[1]],
                                    offsets[np.arange(nodes), best % q.shape[1]]], -1)
    tau = valid_tau * q.sum((1, 2)).mean()
    r = q / np.maximum(competition(q, centres, offsets, per_filter) + tau, 1e-7)
    return positions, qe.sum((1, 2)), r
