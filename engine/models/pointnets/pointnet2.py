"""PointNet++ for classification (Qi et al. 2017), single-scale (SSG) and multi-scale (MSG).

The paper's layout at CPU size: N/2 and N/8 centres by farthest-point sampling (512 and
128 for 1024 points) and the paper's radii, with the neighbour counts and MLP widths
halved [ours, so that the demo trains on two CPU cores in minutes]:

    SSG  sa1: r 0.2, 16 nbrs, 32-32-64     sa2: r 0.4, 32 nbrs, 64-64-128
    MSG  sa1: + r 0.1, 8 nbrs, 16-16-32    sa2: + r 0.2, 16 nbrs, 32-32-64
              + r 0.4, 32 nbrs, 32-48-64        + r 0.8, 64 nbrs, 64-64-128
    sa3: every remaining centre, 128-256-512, max → the global feature (512)

Multi-scale (§5.4 (c)) is the `multiscale` switch: MSG is SSG plus the two extra scales
of each level (scales.1 and scales.2; scales.0 is SSG's own), so the state dicts differ by
exactly those keys; the layers after a level see the wider concatenation. `density` or
`weight` (§5.4 (a), (b)) re-weights every group before its pooling; `orientation`
(§5.4 (d)) encodes sa1's output at its centres. Layers sa1, sa2, sa3 are the spec's
l1, l2 and global_feature. The centre counts follow `num_points`, so a model takes only
clouds of the size it was built for.
"""
from __future__ import annotations

import torch
from torch import nn

from engine.models.pointnets._blocks import PointClassifier, shared_mlp
from engine.models.pointnets._grouping import farthest_point_sample, gather, planned
from engine.models.pointnets._modules import OrientationEncoding, SetAbstraction, reweighting_kind

SSG_ARCH, MSG_ARCH = "pointnet2-ssg", "pointnet2-msg"
# (radius, neighbours, MLP widths); SSG's own scale first, so that its keys are MSG's scales.0
SA1_SCALES = [(0.2, 16, (32, 32, 64)), (0.1, 8, (16, 16, 32)), (0.4, 32, (32, 48, 64))]
SA2_SCALES = [(0.4, 32, (64, 64, 128)), (0.2, 16, (32, 32, 64)), (0.8, 64, (64, 64, 128))]
SA3_WIDTHS = (128, 256, 512)


class GroupAll(nn.Module):
    """The last set abstraction: one group of every centre, (B, M, C) → shared MLP → max (B, W)."""

    def __init__(self, c_in: int, widths) -> None:
        super().__init__()
        self.mlp = shared_mlp(c_in, widths)

    def forward(self, grouped: torch.Tensor) -> torch.Tensor:
        return self.mlp(grouped).amax(1)


class PointNet2(PointClassifier):
    """PointNet++ classification; layers sa1, [orientation], sa2, sa3, fc512, fc256, classifier."""

    def __init__(self, num_classes: int = 11, num_points: int = 1024, multiscale: bool = False,
                 density: bool = False, weight: bool = False, orientation: bool = False) -> None:
        super().__init__()
        self.arch = MSG_ARCH if multiscale else SSG_ARCH
        self.num_points, self.centres = num_points, (num_points // 2, num_points // 8)
        used = slice(None) if multiscale else slice(1)
        reweight = reweighting_kind(density, weight)
        self.sa1 = SetAbstraction(SA1_SCALES[used], 0, reweight, "sa1")
        self.orientation = OrientationEncoding(self.sa1.out_channels) if orientation else None
        self.sa2 = SetAbstraction(SA2_SCALES[used], self.sa1.out_channels, reweight, "sa2")
        self.sa3 = GroupAll(self.sa2.out_channels + 3, SA3_WIDTHS)
        named = ["sa1", *(["orientation"] if orientation else []), "sa2", "sa3"]
        self.add_head(SA3_WIDTHS[-1], num_classes, named)

    def global_feature(self, points: torch.Tensor, plan) -> torch.Tensor:
        xyz1 = self._centres(points, self.centres[0], plan, "sa1")
        features = self.sa1(points, None, xyz1, plan)
        if self.orientation is not None:
            features = self.orientation(xyz1, features, plan)
        xyz2 = self._centres(xyz1, self.centres[1], plan, "sa2")
        features = self.sa2(xyz1, features, xyz2, plan)
        return self.sa3(torch.cat([xyz2, features], -1))

    @staticmethod
    def _centres(xyz: torch.Tensor, count: int, plan, name: str) -> torch.Tensor:
        indices = planned(plan, f"{name}/centres", xyz.shape[0], lambda: farthest_point_sample(xyz, count))
        return gather(xyz, indices)


MULTISCALE = {SSG_ARCH: False, MSG_ARCH: True}  # the architecture's name fixes switch (c)


def build_ssg(**arch_args) -> PointNet2:
    return PointNet2(**{"multiscale": False, **arch_args})


def build_msg(**arch_args) -> PointNet2:
    return PointNet2(**{"multiscale": True, **arch_args})
