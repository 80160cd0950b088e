"""DGCNN for classification (Wang et al. 2019): EdgeConv on a graph rebuilt at every layer.

Four EdgeConv layers (edge1…edge4), each over the k = 20 nearest neighbours in its own
input features (xyz for edge1), edge features (x_j − x_i, x_i) through a shared layer
with leaky ReLU 0.2, pooled over the neighbours; their outputs concatenated → conv5 →
max and mean over the points → the common head. Widths 32-32-64-128 and conv5 512, half
the paper's 64-64-128-256 and 1024 [ours, for the CPU]; k stays 20.

Fixed sampling for a dynamic graph (spec §5.2, the authors' `dgcnn_noisy_fixsample`,
whose code is not public): the graph is DGCNN's only discrete choice, so a
`SamplingPlan` records all four kNN graphs, edge1's on the clean xyz and the later ones
in the clean cloud's features, and the perturbed cloud reuses them; its features still
flow through those edges, differentiably. Without the plan each layer's graph follows
the perturbed features and jumps wherever a neighbour's rank changes.

Switches: `density` / `weight` (§5.4 (a), (b)) re-weight every EdgeConv's neighbours
before the pooling, from their xyz offsets (neighbours found in feature space have xyz
too); `orientation` (§5.4 (d)) encodes edge1's output over xyz octants. There are no
scales to add (`multiscale` is PointNet++'s). Like every point model here it takes the
point count it was built for (k = 20 is a neighbourhood of that density).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.pointnets._blocks import PointClassifier, PointwiseBlock, grouped_linear
from engine.models.pointnets._grouping import gather, knn, planned
from engine.models.pointnets._modules import (OrientationEncoding, pool_neighbours, reweighting,
                                              reweighting_kind)

ARCH = "dgcnn"
NEIGHBOURS = 20
WIDTHS = (32, 32, 64, 128)
EMBEDDING = 512
SLOPE = 0.2  # DGCNN's leaky ReLU


class EdgeConv(nn.Module):
    """One EdgeConv layer: (B, N, C_in) features → (B, N, C_out), its graph from `plan`."""

    def __init__(self, c_in: int, c_out: int, reweight: str | None, name: str) -> None:
        super().__init__()
        self.block = PointwiseBlock(2 * c_in, c_out, SLOPE)
        self.reweighting = reweighting(reweight)
        self.name = name

    def forward(self, xyz: torch.Tensor, features: torch.Tensor, plan=None) -> torch.Tensor:
        indices = planned(plan, self.name, xyz.shape[0], lambda: knn(features, features, NEIGHBOURS))
        # the block's linear map on (x_j − x_i, x_i) is W_a·x_j + (W_b − W_a)·x_i
        w_a, w_b = self.block.linear.weight.split(features.shape[-1], dim=1)
        edges = self.block.activate(grouped_linear(w_a, features, indices, F.linear(features, w_b - w_a)))
        offsets = gather(xyz, indices) - xyz.unsqueeze(2)
        return pool_neighbours(self.reweighting, edges, offsets, xyz, indices)


class DGCNN(PointClassifier):
    """DGCNN classification; layers edge1, [orientation], edge2…edge4, conv5, fc512, fc256, classifier."""

    arch = ARCH

    def __init__(self, num_classes: int = 11, num_points: int = 1024, density: bool = False,
                 weight: bool = False, orientation: bool = False) -> None:
        super().__init__()
        self.num_points = num_points
        reweight = reweighting_kind(density, weight)
        widths = (3, *WIDTHS)
        self.edge1 = EdgeConv(widths[0], widths[1], reweight, "edge1")
        self.orientation = OrientationEncoding(widths[1]) if orientation else None
        for i in range(2, len(widths)):
            setattr(self, f"edge{i}", EdgeConv(widths[i - 1], widths[i], reweight, f"edge{i}"))
        self.conv5 = PointwiseBlock(sum(WIDTHS), EMBEDDING, SLOPE)
        named = ["edge1", *(["orientation"] if orientation else []), "edge2", "edge3", "edge4", "conv5"]
        self.add_head(2 * EMBEDDING, num_classes, named)

    def global_feature(self, points: torch.Tensor, plan) -> torch.Tensor:
        x = self.edge1(points, points, plan)
        if self.orientation is not None:
            x = self.orientation(points, x, plan)
        outputs = [x]
        for layer in (self.edge2, self.edge3, self.edge4):
            outputs.append(layer(points, outputs[-1], plan))
        embedded = self.conv5(torch.cat(outputs, -1))
        return torch.cat([embedded.amax(1), embedded.mean(1)], -1)
