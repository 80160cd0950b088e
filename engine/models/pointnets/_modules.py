"""The four architectural modules of spec: pointcloud-utility §5.4, as the models switch them.

(a) `DensityWeighting` and (b) `LocalCoordinateWeighting` replace the plain max over a
    group's neighbours: a weight net on the neighbours' offsets gives 16 weights each, the
    grouped features are summed against them (a matrix product over the neighbours) and
    the max is taken over the 16 (the authors' PointConvDensity / PointConvWeight in
    Rscnn/utils/conv_sift.py, placed before the pooling as their RSConv does). They are
    alternatives there (one `block_choice`), and so here.
(c) `SetAbstraction` with several scales: PointNet++ MSG, each scale its own ball.
(d) `OrientationEncoding`: PointSIFT's residual module on a level's features.
Shapes are channels-last: points (B, N, 3), features (B, N, C), groups (B, M, K, C).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import BadInput
from engine.models.pointnets._blocks import PointwiseBlock, grouped_linear, shared_mlp
from engine.models.pointnets._grouping import ball_query, gather, octant_neighbours, planned

KDE_BANDWIDTH = 0.1     # spec §5.4 (a)
ORIENTATION_RADIUS = 0.5  # spec §5.4 (d): RS-CNN's active module


def kernel_density(xyz: torch.Tensor, bandwidth: float = KDE_BANDWIDTH) -> torch.Tensor:
    """(B, N) Gaussian kernel density of every point over its cloud, as the authors'
    `compute_density`: mean_j exp(-|x_i - x_j|² / 2h²) / (2.5 h). Differentiable in xyz
    (it is no sampling choice, so a perturbed cloud gets its own)."""
    squared = (xyz * xyz).sum(-1)
    distance2 = (squared.unsqueeze(2) + squared.unsqueeze(1) - 2 * xyz @ xyz.transpose(1, 2)).clamp(min=0)
    return torch.exp(-distance2 / (2 * bandwidth**2)).mean(-1) / (2.5 * bandwidth)


def weight_net() -> nn.Sequential:
    """3 → 8 → 8 → 16, BN and ReLU each (spec §5.4 (b); the authors' WeightNet)."""
    return shared_mlp(3, (8, 8, 16))


def _weighted_max(features: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """features (B, M, K, C) · weights (B, M, K, 16) summed over K, then the max over the 16."""
    return (features.transpose(-1, -2) @ weights).amax(-1)


class LocalCoordinateWeighting(nn.Module):
    """(b): 16 weights a neighbour from its local coordinates (offset from the centre)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight_net = weight_net()

    def forward(self, features, offsets, xyz, indices) -> torch.Tensor:
        return _weighted_max(features, self.weight_net(offsets))


class DensityWeighting(nn.Module):
    """(a): the offsets are scaled by each neighbour's density scale, an MLP 1 → 8 → 8 → 1 (BN,
    ReLU) of its kernel density over the cloud (bandwidth 0.1), before the weight net."""

    def __init__(self) -> None:
        super().__init__()
        self.density_net = shared_mlp(1, (8, 8, 1))
        self.weight_net = weight_net()

    def forward(self, features, offsets, xyz, indices) -> torch.Tensor:
        scale = self.density_net(kernel_density(xyz).unsqueeze(-1))  # (B, N, 1)
        return _weighted_max(features, self.weight_net(offsets * gather(scale, indices)))


REWEIGHTINGS = {"density": DensityWeighting, "weight": LocalCoordinateWeighting}


def reweighting_kind(density: bool, weight: bool) -> str | None:
    """Which re-weighting the two switches ask for; both at once is bad input."""
    if density and weight:
        raise BadInput("density and weight re-weight the same groups (the authors' one "
                       "block_choice, spec §5.4): switch on one of them")
    return "density" if density else "weight" if weight else None


def reweighting(kind: str | None) -> nn.Module | None:
    return REWEIGHTINGS[kind]() if kind else None


def pool_neighbours(reweight: nn.Module | None, features, offsets, xyz, indices) -> torch.Tensor:
    """A group's features (B, M, K, C) → (B, M, C): max over the neighbours, or (a)/(b)."""
    if reweight is None:
        return features.amax(-2)
    return reweight(features, offsets, xyz, indices)


class BallGrouping(nn.Module):
    """One scale of a set abstraction: the ball around each centre, the offsets and features
    of its points through a shared MLP, pooled."""

    def __init__(self, radius: float, k: int, c_in: int, widths, reweight: str | None) -> None:
        super().__init__()
        self.radius, self.k = radius, k
        self.mlp = shared_mlp(c_in + 3, widths)
        self.reweighting = reweighting(reweight)

    def forward(self, xyz, features, centres, plan, name: str) -> torch.Tensor:
        indices = planned(plan, name, xyz.shape[0], lambda: ball_query(xyz, centres, self.radius, self.k))
        offsets = gather(xyz, indices) - centres.unsqueeze(2)
        first = self.mlp[0]  # on (offset, features): W·(xyz_j, f_j) − W_xyz·centre
        per_point = xyz if features is None else torch.cat([xyz, features], -1)
        per_centre = -F.linear(centres, first.linear.weight[:, :3])
        grouped = first.activate(grouped_linear(first.linear.weight, per_point, indices, per_centre))
        return pool_neighbours(self.reweighting, self.mlp[1:](grouped), offsets, xyz, indices)


class SetAbstraction(nn.Module):
    """PointNet++'s set abstraction at given centres; several scales concatenated are (c).
    `scales` is a list of (radius, neighbours, MLP widths)."""

    def __init__(self, scales, c_in: int, reweight: str | None, name: str) -> None:
        super().__init__()
        self.scales = nn.ModuleList(BallGrouping(r, k, c_in, w, reweight) for r, k, w in scales)
        self.name = name
        self.out_channels = sum(w[-1] for _, _, w in scales)

    def forward(self, xyz, features, centres, plan=None) -> torch.Tensor:
        """(B, M, Σ widths) at `centres` (B, M, 3) from the cloud xyz (B, N, 3) and features."""
        return torch.cat([scale(xyz, features, centres, plan, f"{self.name}/r{scale.radius}")
                          for scale in self.scales], -1)


class OctantConvolutions(nn.Module):
    """Three ordered 1×2 convolutions, stride 2, over the octant axis: 8 → 4 → 2 → 1. A 1×2
    convolution over two neighbouring octants is a linear map of their features side by side."""

    def __init__(self, c_in: int, c_out: int, last_activation: bool) -> None:
        super().__init__()
        self.stages = nn.Sequential(PointwiseBlock(2 * c_in, c_out), PointwiseBlock(2 * c_out, c_out),
                                    PointwiseBlock(2 * c_out, c_out, 0.0 if last_activation else None))

    def forward(self, grouped: torch.Tensor) -> torch.Tensor:
        x = grouped  # (B, N, 8, C)
        for stage in self.stages:
            x = stage(x.reshape(*x.shape[:-2], x.shape[-2] // 2, 2 * x.shape[-1]))
        return x.squeeze(-2)


class OrientationEncoding(nn.Module):
    """(d), PointSIFT's residual module: the nearest neighbour in each octant (within 0.5),
    their offsets and features through the octant convolutions, twice (the second on the
    first's output, the same neighbours, no final ReLU), added to the input, then a ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.first = OctantConvolutions(channels + 3, channels, last_activation=True)
        self.second = OctantConvolutions(channels + 3, channels, last_activation=False)

    def forward(self, xyz: torch.Tensor, features: torch.Tensor, plan=None) -> torch.Tensor:
        indices = planned(plan, "orientation", xyz.shape[0],
                          lambda: octant_neighbours(xyz, ORIENTATION_RADIUS))
        offsets = gather(xyz, indices) - xyz.unsqueeze(2)
        encoded = self.first(torch.cat([offsets, gather(features, indices)], -1))
        encoded = self.second(torch.cat([offsets, gather(encoded, indices)], -1))
        return F.relu(encoded + features)
