"""A straightforward E-step, one node (and one pair of nodes) at a time, as the reference's
C++ loops run it (spec: explanatory-graph §1.5, §1.9): the known answer the batched
E-step is tested against and the baseline its benchmark is measured against.
"""
from __future__ import annotations

import math

import numpy as np


def _gauss(d, sigma):
    return np.exp(-d**2 / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma)


def node_terms(x, node_filter, centre, half, offsets, spread, weight, smoothing):
    """One node on one image: q (J,J) and e (J,J) around its expected position `centre` (h, w)."""
    side = x.shape[-1]
    base = np.round(centre)
    e = np.zeros((len(offsets), len(offsets)))
    for i, dh in enumerate(offsets):
        for j, dw in enumerate(offsets):
            total = 0.0
            for uh in range(-half, half + 1):
                for uw in range(-half, half + 1):
                    r, c = int(base[0]) + uh, int(base[1]) + uw
                    if 0 <= r < side and 0 <= c < side:
                        dy = np.clip(uh - (dh + centre[0] - base[0]), -3 * smoothing, 3 * smoothing)
                        dx = np.clip(uw - (dw + centre[1] - base[1]), -3 * smoothing, 3 * smoothing)
                        total += _gauss(dy, smoothing) * _gauss(dx, smoothing) * x[node_filter, r, c]
            e[i, j] = total
    g = _gauss(np.asarray(offsets), spread)
    return weight * g[:, None] * g[None, :], e


def competition(q, centres, offsets, per_filter):
    """Q (K,J,J): for each node and candidate, Σ over its filter's nodes of q at their nearest candidate."""
    nodes, count = offsets.shape
    out = np.zeros((nodes, count, count))
    for v in range(nodes):
        first = (v // per_filter) * per_filter
        for i in range(count):
            for j in range(count):
                h, w = centres[v, 0] + offsets[v, i], centres[v, 1] + offsets[v, j]
                for other in range(first, first + per_filter):
                    lo, hi = centres[other] + offsets[other, 0], centres[other] + offsets[other, -1]
                    if not (lo[0] - 1e-5 <= h <= hi[0] + 1e-5 and lo[1] - 1e-5 <= w <= hi[1] + 1e-5):
                        continue
                    dh = np.abs(centres[other, 0] + offsets[other] - h)
                    dw = np.abs(centres[other, 1] + offsets[other] - w)
                    out[v, i, j] += q[other, np.argmin(dh), np.argmin(dw)]
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
