"""The E-step of one layer on a batch of images, every node at once.

spec: explanatory-graph §1.5 E_STEP, realised as the reference's getProb_local_mex and
getOtherProb do (§1.3 table): per node V a 6×6 grid of candidate offsets δ around its
expected position c_V; evidence e(δ), the Gaussian-smoothed map mass at c_V + δ; the
deformation prior q(δ) = λ_V·N(δ_h; s_V)·N(δ_w; s_V); the competition Q(δ) of the nodes of
the same filter at that position (§1.9: one gather over the node pairs whose spans overlap).
Nothing loops over nodes, candidates or images.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

_TOO_FAR = 3.0  # Gaussian truncation, in σ (tooFar)
_COMPETITION_ELEMENTS = 2**26  # images a chunk: at most this many (node, candidate, rival) triples


@dataclass
class Window:
    """Each node's search geometry: half-range h_V, candidate offsets (K,J), their spacing."""

    half: torch.Tensor
    offsets: torch.Tensor
    spacing: torch.Tensor

    def to(self, device) -> "Window":
        return Window(self.half.to(device), self.offsets.to(device), self.spacing.to(device))


@dataclass
class Prior:
    """Per image and node: the parent-predicted shift Δ_V (B,K,2), spread s_V (B,K), λ_V (B,K)."""

    shift: torch.Tensor
    spread: torch.Tensor
    weight: torch.Tensor

    def to(self, device) -> "Prior":
        return Prior(self.shift.to(device), self.spread.to(device), self.weight.to(device))


@dataclass
class EStep:
    """What one batch gives: per image and node position (B,K,2), score S (B,K), best π (B,K);
    summed over the batch, the M-step's statistics A (K,), B (K,2), C (K,) and ΣS (K,)."""

    positions: torch.Tensor
    scores: torch.Tensor
    best: torch.Tensor
    resp_evidence: torch.Tensor
    resp_shift: torch.Tensor
    spread_stat: torch.Tensor
    score_sum: torch.Tensor


def search_window(sigma: torch.Tensor, side: int, config) -> Window:
    """h_V = round(min(max_range·n/2, deform_ratio·σ_V)); J bin centres of [−h, h] (getBasicSettings)."""
    half = torch.minimum(torch.full_like(sigma, config.max_range * side / 2),
                         config.deform_ratio * sigma).round()
    count = min(config.candidates, side)
    edges = torch.linspace(-1.0, 1.0, count + 1, device=sigma.device)
    centres = (edges[:-1] + edges[1:]) / 2
    return Window(half.long(), half[:, None] * centres[None], 2 * half / count)


def top_prior(images: int, nodes: int, side: int, config) -> Prior:
    """No parents: Δ = 0, s = init_delta·n, λ = 1 (§1.5)."""
    return Prior(torch.zeros(images, nodes, 2), torch.full((images, nodes), config.init_delta * side),
                 torch.ones(images, nodes))


def _gauss(d: torch.Tensor, sigma) -> torch.Tensor:
    return torch.exp(-d**2 / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma)


def evidence(x: torch.Tensor, filters: torch.Tensor, centre: torch.Tensor, window: Window,
             smoothing: float) -> torch.Tensor:
    """e_V(δ) (B,K,J,J): the map mass around c_V + δ under a Gaussian of σ = smoothing, floored at
    3σ like getProb_local's tooSmall (per axis, so it factorises), over units within h_V."""
    batch, _, side, _ = x.shape
    reach = int(window.half.max())
    base = centre.round()
    units = torch.arange(-reach, reach + 1, dtype=centre.dtype, device=centre.device)
    padded = F.pad(x, (reach, reach, reach, reach)).flatten(1)
    width = side + 2 * reach
    rows = (base[..., 0, None] + reach + units).long()          # (B,K,W) in the padded map
    cols = (base[..., 1, None] + reach + units).long()
    index = filters[None, :, None, None] * width**2 + rows[..., :, None] * width + cols[..., None, :]
    patch = padded.gather(1, index.flatten(1)).view(*index.shape)  # (B,K,W,W)
    inside = (units.abs()[None] <= window.half[:, None]).to(x.dtype)  # (K,W)

    def along(axis: int) -> torch.Tensor:                          # (B,K,J,W)
        frac = centre[..., axis] - base[..., axis]
        d = units - (window.offsets[None, :, :, None] + frac[..., None, None])
        floor = _TOO_FAR * smoothing
        return _gauss(d.clamp(-floor, floor), smoothing) * inside[None, :, None, :]

    return torch.einsum("bkiu,bkuv,bkjv->bkij", along(0), patch, along(1))


def deformation(window: Window, prior: Prior) -> torch.Tensor:
    """q_V(δ) = λ_V·N(δ_h; 0, s_V)·N(δ_w; 0, s_V), (B,K,J,J)."""
    s = prior.spread[..., None]
    g = _gauss(window.offsets[None], s)                            # (B,K,J)
    return prior.weight[..., None, None] * g[..., :, None] * g[..., None, :]


def competition(q: torch.Tensor, centre: torch.Tensor, window: Window, per_filter: int) -> torch.Tensor:
    """Q_V(δ) (B,K,J,J): Σ over the nodes V' of V's filter of q_V' at its candidate nearest to
    c_V + δ, 0 outside V''s candidate span (getOtherProb). Chunked over images."""
    rows = max(1, _COMPETITION_ELEMENTS // (q[0].numel() * per_filter))
    return torch.cat([_competition(q[i:i + rows], centre[i:i + rows], window, per_filter)
                      for i in range(0, len(q), rows)])


def _competition(q, centre, window: Window, per_filter: int) -> torch.Tensor:
    """Only pairs (V, V') whose candidate spans overlap can compete: those pairs are listed,
    each gives one J×J block — V''s q, zero-padded to (J+1)×(J+1), read at the slot nearest
    each candidate of V (slot J outside V''s span) — and the blocks are summed per V."""
    batch, nodes, count, _ = q.shape
    eps = 1e-5
    first, last = window.offsets[:, 0], window.offsets[:, -1]
    low = (centre + first[None, :, None]).view(batch, -1, per_filter, 2)
    high = (centre + last[None, :, None]).view(batch, -1, per_filter, 2)
    overlap = ((low[:, :, :, None] <= high[:, :, None] + eps) & (high[:, :, :, None] >= low[:, :, None] - eps)).all(-1)
    b, f, v, w = overlap.nonzero(as_tuple=True)                    # the pairs (B,F,P,P' → list)
    mine, other = f * per_filter + v, f * per_filter + w
    spacing = window.spacing.clamp_min(1e-6)

    def slots(axis: int) -> torch.Tensor:                          # (pairs, J) slot of V' in 0..J
        rel = centre[b, mine, axis, None] + window.offsets[mine] - centre[b, other, axis, None]
        slot = ((rel - first[other, None]) / spacing[other, None]).round().clamp(0, count - 1)
        inside = (rel >= first[other, None] - eps) & (rel <= last[other, None] + eps)
        return torch.where(inside, slot, float(count)).long()

    wide = count + 1
    padded = F.pad(q, (0, 1, 0, 1)).reshape(-1)
    block = ((b * nodes + other) * wide * wide)[:, None, None] + slots(0)[:, :, None] * wide + slots(1)[:, None, :]
    out = torch.zeros(batch * nodes, count, count, dtype=q.dtype, device=q.device)
    out.index_add_(0, b * nodes + mine, padded[block])
    return out.view(batch, nodes, count, count)


@dataclass
class Inferred:
    """One batch, top-down inference alone: position (B,K,2), score S_V (B,K), best π_V (B,K)."""

    positions: torch.Tensor
    scores: torch.Tensor
    best: torch.Tensor


def _infer(x, mean_pos, per_filter: int, window: Window, prior: Prior, config):
    side = x.shape[-1]
    filters = torch.arange(len(mean_pos), device=x.device) // per_filter
    centre = (mean_pos[None] + prior.shift).clamp(0, side - 1)
    e = evidence(x, filters, centre, window, config.map_delta * side)
    q = deformation(window, prior)
    qe = q * e
    count = q.shape[-1]
    best, where = qe.flatten(2).max(2)  # δ* = argmax q·e; π_V = its value
    offset = torch.stack([_pick(window.offsets, where // count), _pick(window.offsets, where % count)], -1)
    return Inferred(centre + offset, qe.sum((2, 3)), best), centre, e, q, qe


def infer(x: torch.Tensor, mean_pos: torch.Tensor, per_filter: int, window: Window,
          prior: Prior, config) -> Inferred:
    """Every node's position and score on a batch of maps x (B,C,n,n), no M-step (§1.6)."""
    return _infer(x, mean_pos, per_filter, window, prior, config)[0]


def e_step(x: torch.Tensor, mean_pos: torch.Tensor, per_filter: int, window: Window,
           prior: Prior, config) -> EStep:
    """Infer every node on a batch of maps x (B,C,n,n) and return the M-step's statistics."""
    inferred, centre, e, q, qe = _infer(x, mean_pos, per_filter, window, prior, config)
    count = q.shape[-1]
    tau = config.valid_tau * q.sum((2, 3)).mean(1)                  # per image (validTau)
    r = q / (competition(q, centre, window, per_filter) + tau[:, None, None, None]).clamp_min(1e-7)
    re = r * e
    inv_var = prior.spread[..., None, None] ** -2                   # logDer = δ / s_V²
    grid = torch.arange(count, dtype=x.dtype, device=x.device) - (count - 1) / 2
    spread = grid[:, None] ** 2 + grid[None, :] ** 2                # (j − j̄)², j̄ the grid's middle
    return EStep(
        positions=inferred.positions, scores=inferred.scores, best=inferred.best,
        resp_evidence=re.sum((0, 2, 3)),
        resp_shift=torch.stack([(re * inv_var * window.offsets[None, :, :, None]).sum((0, 2, 3)),
                                (re * inv_var * window.offsets[None, :, None, :]).sum((0, 2, 3))], -1),
        spread_stat=(qe * spread).sum((0, 2, 3)), score_sum=inferred.scores.sum(0))


def _pick(offsets: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """offsets (K,J) at index (B,K) → (B,K)."""
    return offsets[None].expand(len(index), -1, -1).gather(2, index[..., None])[..., 0]
