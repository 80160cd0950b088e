"""Edges: which upper nodes move with a node (PARENTS), and what they predict for it.

spec: explanatory-graph §1.5 PARENTS and the E_STEP's parent terms, after the reference's
getCurDistribution, with P2 (parent displacements rescaled to the child's grid by the
stride ratio) and P3 (the border test on the parent's own map; displacements scaled by
stride alone) fixed. λ_V is the geometric mean of the parents' Gaussians, density and
all, as §1.3 describes it; the reference multiplies in each parent's 1/σ_U at full power,
which would make λ scale as σ^−M and let the nodes with the tightest parents win every
competition [ours].
"""
from __future__ import annotations

import math

import torch

from engine.methods.explanatory_graph._estep import Prior
from engine.methods.explanatory_graph._graph import GraphLayer, LayerRecords

_PAIR_ELEMENTS = 2**24  # bound on one (images × nodes × candidates) block


def displacements(records: LayerRecords, mean: torch.Tensor | None = None) -> torch.Tensor:
    """D(I) = p(I) − mean_I p, (N,K,2); `mean` is the training mean at inference (§1.6)."""
    mean = records.positions.mean(0) if mean is None else mean
    return records.positions - mean[None]


def parent_candidates(upper: GraphLayer, records: LayerRecords, config) -> torch.Tensor:
    """Upper nodes that may be parents: the most-moving half, away from the border, by score."""
    moves = displacements(records)
    spread = moves.var(0).sum(-1) if len(moves) > 1 else torch.zeros(upper.nodes)
    still = spread.argsort()[:math.ceil(upper.nodes * config.min_var_rate)]
    keep = torch.ones(upper.nodes, dtype=torch.bool)
    keep[still] = False
    mean = records.positions.mean(0)
    to_border = torch.minimum(mean + 0.5, upper.side - 0.5 - mean).amin(-1)
    keep &= to_border >= config.edge_cut_rate * upper.side        # P3: the parent's own map side
    total = records.scores.sum(0)
    ranked = torch.where(keep, total, torch.tensor(-math.inf)).argsort(descending=True)
    return ranked[:min(config.parent_candidates, int(keep.sum()))]


def select_parents(child: GraphLayer, child_records: LayerRecords, upper: GraphLayer,
                   upper_records: LayerRecords, config) -> tuple[torch.Tensor, torch.Tensor]:
    """Pa(V): the M candidates U with the largest Σ_I π_V(I)·exp(−‖D_V − D_U‖²/2b_V), in pixels."""
    candidates = parent_candidates(upper, upper_records, config)
    if not len(candidates):
        return torch.zeros(child.nodes, 0, dtype=torch.long), torch.zeros(child.nodes, 0)
    d_upper = displacements(upper_records)[:, candidates] * upper.grid.stride   # (N,U,2) pixels
    d_child = displacements(child_records) * child.grid.stride                  # (N,K,2)
    images, count = d_upper.shape[:2]
    child_sq, upper_sq = d_child.pow(2).sum(-1), d_upper.pow(2).sum(-1)             # (N,K), (N,U)
    # b_V, the mean over (U, I) of ‖D_V − D_U‖², in closed form: no (N,K,U) pass for it
    scale = 2 * (child_sq.mean(0) + upper_sq.mean()
                 - 2 * (d_child * d_upper.mean(1, keepdim=True)).sum(-1).mean(0)).clamp_min(1e-12)
    chunk = max(1, _PAIR_ELEMENTS // (images * count))
    picks, scores = [], []
    for start in range(0, child.nodes, chunk):
        part = slice(start, start + chunk)
        sq = torch.baddbmm(child_sq[:, part, None] + upper_sq[:, None], d_child[:, part],
                           d_upper.transpose(1, 2), alpha=-2)                           # (N,k,U)
        terms = sq.div_(-scale[None, part, None]).exp_().mul_(child_records.best[:, part, None])
        top = terms.sum(0).topk(min(config.parents, count), dim=1)
        picks.append(candidates[top.indices])
        scores.append(top.values)
    return torch.cat(picks), torch.cat(scores)


def parent_prior(child: GraphLayer, upper: GraphLayer, upper_moves: torch.Tensor) -> Prior:
    """Δ_V, s_V, λ_V for a batch from its parents' displacements `upper_moves` (B,K_up,2)."""
    ratio = upper.grid.stride / child.grid.stride                   # P2: into child units
    moves = upper_moves[:, child.parents] * ratio                   # (B,K,M,2)
    sigma = upper.sigma[child.parents] * ratio                      # (K,M)
    count = child.parents.shape[1]
    weight = 1 / (count * sigma**2)
    shift = (weight[None, ..., None] * moves).sum(2) / weight.sum(1)[None, :, None]
    spread = weight.sum(1).rsqrt().expand(len(moves), -1)
    misfit = ((shift[:, :, None] - moves).pow(2).sum(-1) * weight[None] / 2).sum(2)
    log_lambda = spread.log() - sigma.log().mean(1)[None] - misfit
    return Prior(shift, spread, log_lambda.exp())
