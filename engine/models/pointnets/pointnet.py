"""PointNet for classification (Qi et al. 2017), the spec's baseline without local structure.

Shared MLPs 64-64-64-128-1024 on every point (conv1…conv5), a max over the points, then
the common head (fc512 → fc256 → classes). Max-pooling makes it independent of the point
order and, in form, of the point count; it still takes only the count it was trained on
(`num_points`), since the spec's measures compare clouds of equal N (§5.7 "Batch-size
dependence") and the max over more points is a larger feature.

T-nets (`tnets`, default off): the input 3×3 and feature 64×64 transforms of the paper,
each a small PointNet whose output starts at the identity. Off by default because a
T-net is a learned, input-dependent alignment, a module of its own beside the four
switches of §5.4, which would blur the rotation-robustness comparisons, and it doubles
the cost on the CPU. The paper's orthogonality regulariser of the feature transform is
left out [ours]; starting at the identity keeps it near one in our short trainings.
Orientation encoding (§5.4 (d)) is the one switch that applies without local groups: it
acts on conv2's per-point features, where the feature T-net would.
"""
from __future__ import annotations

import torch
from torch import nn

from engine.models.pointnets._blocks import PointClassifier, PointwiseBlock, shared_mlp
from engine.models.pointnets._modules import OrientationEncoding

ARCH = "pointnet"
WIDTHS = (64, 64, 64, 128, 1024)


class TNet(nn.Module):
    """A k×k transform from the cloud's features (B, N, k): shared MLP 64-128-1024, max,
    FC 512-256, a linear layer to k² that starts at zero, plus the identity."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.mlp = shared_mlp(k, (64, 128, 1024))
        self.fc = shared_mlp(1024, (512, 256))
        self.transform = nn.Linear(256, k * k)
        nn.init.zeros_(self.transform.weight)
        nn.init.zeros_(self.transform.bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        k = features.shape[-1]
        matrix = self.transform(self.fc(self.mlp(features).amax(1))).view(-1, k, k)
        return features @ (matrix + torch.eye(k, device=features.device))


class PointNet(PointClassifier):
    """PointNet classification; layers conv1…conv5 (B, N, C), fc512, fc256, classifier."""

    arch = ARCH

    def __init__(self, num_classes: int = 11, num_points: int = 1024, tnets: bool = False,
                 orientation: bool = False) -> None:
        super().__init__()
        self.num_points = num_points
        self.input_tnet = TNet(3) if tnets else None
        self.conv1 = PointwiseBlock(3, WIDTHS[0])
        self.conv2 = PointwiseBlock(WIDTHS[0], WIDTHS[1])
        self.feature_tnet = TNet(WIDTHS[1]) if tnets else None
        self.orientation = OrientationEncoding(WIDTHS[1]) if orientation else None
        self.conv3 = PointwiseBlock(WIDTHS[1], WIDTHS[2])
        self.conv4 = PointwiseBlock(WIDTHS[2], WIDTHS[3])
        self.conv5 = PointwiseBlock(WIDTHS[3], WIDTHS[4])
        named = ["conv1", "conv2", *(["orientation"] if orientation else []), "conv3", "conv4", "conv5"]
        self.add_head(WIDTHS[4], num_classes, named)

    def global_feature(self, points: torch.Tensor, plan) -> torch.Tensor:
        x = points if self.input_tnet is None else self.input_tnet(points)
        x = self.conv2(self.conv1(x))
        if self.feature_tnet is not None:
            x = self.feature_tnet(x)
        if self.orientation is not None:
            x = self.orientation(points, x, plan)
        return self.conv5(self.conv4(self.conv3(x))).amax(1)
