"""The utility metrics of spec pointcloud-utility §5.3 from learned per-point σ, as pure functions.

Rotation robustness (§5.3 item 3) and neighbourhood inconsistency (item 5) read the σ the
perturbation-entropy engine calibrated; information discarding (item 1) is its mean entropy.
Every function takes torch tensors and keeps the batch dimensions in front.
"""
from __future__ import annotations

import math

import torch

from engine.models.pointnets._grouping import knn

SIGMA_CLIP = 0.079  # §5.3 item 5: σ at the ±0.08 clamp counts as "fully discarded"


def gaussian_kl(sigma_p: torch.Tensor, sigma_q: torch.Tensor) -> torch.Tensor:
    """KL(N(0, σ_p²) ‖ N(0, σ_q²)) per element."""
    ratio = (sigma_p / sigma_q) ** 2
    return 0.5 * (ratio - 1.0 - torch.log(ratio))


def js_lower_bound(sigma_a: torch.Tensor, sigma_b: torch.Tensor) -> torch.Tensor:
    """The code's lower bound on JS(N(0, σ_a²), N(0, σ_b²)) per element: the mean over both
    directions of log(2 / (1 + e^{−KL})) (§5.3 item 3, `jsd_metrics.py`); 0 when equal,
    below log 2 always."""
    def one_way(kl):
        return math.log(2.0) - torch.log1p(torch.exp(-kl))

    return 0.5 * (one_way(gaussian_kl(sigma_a, sigma_b)) + one_way(gaussian_kl(sigma_b, sigma_a)))


def normalised_sigma(sigma: torch.Tensor) -> torch.Tensor:
    """σ rescaled so each row's geometric mean is e^{−1} (§5.3 item 3): only the spatial
    distribution of σ over the points is compared, not its global scale."""
    log_sigma = torch.log(sigma)
    return torch.exp(log_sigma - log_sigma.mean(-1, keepdim=True) - 1.0)


def rotation_divergence(sigma: torch.Tensor) -> torch.Tensor:
    """Rotation (non-)robustness of one cloud from σ (R, N) learned on R rotated copies, the
    points in the same order: the JS bound summed over points, averaged over the R(R−1)/2
    pairs (§5.3 item 3). Lower is more robust; compare only at equal N (§5.7)."""
    rotations = sigma.shape[0]
    if rotations < 2:
        raise ValueError("rotation robustness needs at least two rotations")
    sigma = normalised_sigma(sigma)
    first, second = torch.triu_indices(rotations, rotations, offset=1)
    return js_lower_bound(sigma[first], sigma[second]).sum(-1).mean()


def replace_clipped(sigma: torch.Tensor, clip: float = SIGMA_CLIP) -> torch.Tensor:
    """σ (…, N) with values at the clamp (|σ| > clip) replaced by the cloud's mean |σ| (§5.3
    item 5, as `knn_consistency.py` does; §5.7 asks to show those points separately)."""
    magnitude = sigma.abs()
    mean = magnitude.mean(-1, keepdim=True).expand_as(magnitude)
    return torch.where(magnitude > clip, mean, magnitude)


def neighbourhood_inconsistency(points: torch.Tensor, sigma: torch.Tensor, k: int = 16,
                                clip: float = SIGMA_CLIP) -> torch.Tensor:
    """Per cloud (…,): the mean over points of the range max − min of log σ² over each point's
    k nearest neighbours (itself included) in the clean coordinates (§5.3 item 5). Lower is
    more consistent."""
    log_var = 2.0 * torch.log(replace_clipped(sigma, clip))
    clouds = points.reshape(-1, *points.shape[-2:])  # the models' kNN, chunked: (B, N, k), itself first
    neighbours = knn(clouds, clouds, min(k, points.shape[-2])).reshape(*points.shape[:-1], -1)
    gathered = torch.gather(log_var.unsqueeze(-2).expand(*neighbours.shape[:-1], -1), -1, neighbours)
    return (gathered.amax(-1) - gathered.amin(-1)).mean(-1)


def clipped_share(sigma: torch.Tensor, clip: float = SIGMA_CLIP) -> torch.Tensor:
    """Per cloud, the share of points whose σ sits at the clamp: fully discarded (§5.7)."""
    return (sigma.abs() > clip).to(sigma.dtype).mean(-1)
