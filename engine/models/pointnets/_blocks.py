"""What every point model is built from: the shared-MLP layer and the classification head.

Features are channels-last, (B, N, C) a point or (B, M, K, C) a group, so one layer, a
bias-free linear map, BatchNorm and an activation on the last axis, serves as PointNet's
shared MLP (a 1×1 convolution), as the ordered 1×2 octant convolutions (on two octants'
features side by side) and as the fully connected layers after global pooling.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import BadInput
from engine.models.pointnets._grouping import gather

FC512 = "fc512"  # spec §5.2: the first FC layer after global pooling, after BN and ReLU


class PointwiseBlock(nn.Module):
    """Linear (no bias) → BatchNorm over every leading position → leaky ReLU.

    `slope` is the leaky slope: 0.0 is a ReLU, 0.2 DGCNN's, None no activation.
    """

    def __init__(self, c_in: int, c_out: int, slope: float | None = 0.0) -> None:
        super().__init__()
        self.linear = nn.Linear(c_in, c_out, bias=False)
        self.norm = nn.BatchNorm1d(c_out)
        self.slope = slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activate(self.linear(x))

    def activate(self, y: torch.Tensor) -> torch.Tensor:
        """BatchNorm and activation of the linear map's output `y` (..., C_out)."""
        y = self.norm(y.reshape(-1, y.shape[-1])).reshape(y.shape)
        if self.slope is None:
            return y
        return F.relu(y) if self.slope == 0 else F.leaky_relu(y, self.slope)


def grouped_linear(weight: torch.Tensor, per_point: torch.Tensor, indices: torch.Tensor,
                   per_centre: torch.Tensor) -> torch.Tensor:
    """A linear map of grouped inputs, W·(u_j) + v_i for neighbour j of centre i, computed as
    gather(u·Wᵀ) + v: once a point instead of once a neighbour (k times less work, the same
    numbers up to rounding). per_point (B, N, C_in), indices (B, M, K), per_centre (B, M, C_out)."""
    return gather(F.linear(per_point, weight), indices) + per_centre.unsqueeze(2)


def shared_mlp(c_in: int, widths, slope: float | None = 0.0) -> nn.Sequential:
    """PointwiseBlocks of the given widths, one after another."""
    layers, last = [], c_in
    for width in widths:
        layers.append(PointwiseBlock(last, width, slope))
        last = width
    return nn.Sequential(*layers)


class PointClassifier(nn.Module):
    """The point models' common frame: a cloud (B, N, 3) → `global_feature(points, plan)`
    (B, W) → fc512 → fc256 → dropout → classifier (PointNet's head, used by all of them,
    so that `fc512` is the same endpoint everywhere). Subclasses build their layers, then
    call `add_head`, so that modules are registered in the order they run (forward_to
    stops after the deepest layer asked for by that order)."""

    default_layer = FC512

    def add_head(self, width: int, num_classes: int, layer_names: list[str]) -> None:
        self.fc512 = PointwiseBlock(width, 512)
        self.fc256 = PointwiseBlock(512, 256)
        self.dropout = nn.Dropout(0.3)  # PointNet's keep ratio 0.7 before the last layer
        self.classifier = nn.Linear(256, num_classes)
        self.layer_names = (*layer_names, FC512, "fc256", "classifier")

    def global_feature(self, points: torch.Tensor, plan) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, points: torch.Tensor, plan=None) -> torch.Tensor:
        """Logits (B, classes); `plan` (a SamplingPlan) records or reuses every sampling choice."""
        self.check_cloud(points)
        pooled = self.fc256(self.fc512(self.global_feature(points, plan)))
        return self.classifier(self.dropout(pooled))

    def check_cloud(self, points: torch.Tensor) -> None:
        """A model built for N points takes (B, N, 3); anything else is bad input."""
        if points.ndim != 3 or points.shape[1:] != (self.num_points, 3):
            raise BadInput(f"{self.arch} takes clouds of {self.num_points} points, (B, "
                           f"{self.num_points}, 3) as it was trained; got {tuple(points.shape)}")
