"""How much of the target each order explains, and where (spec: knowledge-consistency §4.4).

Var(x^(k)) and Var(x^Δ) as Variance.py measures them: the mean over samples, channels and
positions of the squared deviation from each channel's dataset mean; x^Δ = f_B − g(f_A).
ρ = Var(·) / Var(f_B). Per location [ours, §4.8 "spatial energy maps"]: the same squared
deviation averaged over channels only, one map per image and component.
"""
from __future__ import annotations

import numpy as np
import torch

from engine.jobs import Progress
from engine.methods.consistency._network import ReconstructionNet
from engine.methods.consistency._training import centred_variance


def split(net: ReconstructionNet, source: torch.Tensor, target: torch.Tensor, batch_size: int,
          progress: Progress) -> tuple[torch.Tensor, np.ndarray]:
    """(N, K+2, C_B, h, w): the order-0…K components of g(source), then the residual target − g;
    and (K,) the share of each stage's ReLUs on over these images."""
    parts, on = [], torch.zeros(net.order)
    with torch.no_grad():
        for chunk in source.split(batch_size):
            progress.check()
            chunk_parts, chunk_on = net.components(chunk)
            parts.append(chunk_parts)
            on += chunk_on.cpu() * len(chunk) / len(source)
    parts = torch.cat(parts)
    return torch.cat([parts, (target - parts.sum(1))[:, None]], 1), on.numpy()


def variance_ratios(components: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """(K+2,) ρ_0…ρ_K, ρ_Δ: each component's variance over the target's (raw: they need not sum to 1)."""
    whole = centred_variance(target)
    return np.array([centred_variance(components[:, k]) / whole for k in range(components.shape[1])])


def energy(values: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
    """(N, ..., h, w) mean over channels (dim −3) of the squared deviation from `reference`'s
    channel means (over its samples and positions): where the variance sits."""
    mean = reference.double().mean((0, 2, 3)).view(-1, 1, 1)
    return ((values.double() - mean) ** 2).mean(-3).float().cpu().numpy()


def component_energy(components: torch.Tensor, kept: int) -> np.ndarray:
    """(M, K+2, h, w): each component's energy on the first `kept` images, over its channel means
    on all of them."""
    return np.stack([energy(components[:kept, k], components[:, k]) for k in range(components.shape[1])], 1)
