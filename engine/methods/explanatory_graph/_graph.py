"""What a mined graph is: per layer, its nodes' parameters; per image, where they fired.

spec: explanatory-graph §1.2 outputs and §1.6 (what inference on a new image needs).
Positions are in the layer's unit coordinates (row h, column w), 0-based; node k belongs
to filter k // per_filter.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.receptive_field import UnitGrid


@dataclass
class GraphLayer:
    """The nodes of one conv layer.

    mean_pos:   (K,2) the node's mean position p̄_V (its "coord")
    sigma:      (K,) its learned deformation σ_V, in units
    parents:    (K,M) indices of its parents in the layer above (M = 0 on the top layer)
    affinity:   (K,M) the parent-selection affinity of each edge
    train_mean: (K,2) the mean of its inferred positions over the training images: children
                measure this node's displacement from it (§1.6)
    unit_std:   (C,n,n) the σ_unit the maps were divided by
    score_norm: the global mean score the training scores were divided by (P6)
    """

    name: str
    side: int
    channels: int
    per_filter: int
    grid: UnitGrid
    mean_pos: torch.Tensor
    sigma: torch.Tensor
    unit_std: torch.Tensor
    parents: torch.Tensor | None = None
    affinity: torch.Tensor | None = None
    train_mean: torch.Tensor | None = None
    score_norm: float = 1.0

    def __post_init__(self) -> None:
        if self.parents is None:  # no edges yet: (K, 0)
            self.parents = torch.zeros(self.nodes, 0, dtype=torch.long)
            self.affinity = torch.zeros(self.nodes, 0)

    @property
    def nodes(self) -> int:
        return self.channels * self.per_filter

    @property
    def filters(self) -> torch.Tensor:
        return torch.arange(self.nodes) // self.per_filter

    @property
    def has_parents(self) -> bool:
        return self.parents.numel() > 0


@dataclass
class LayerRecords:
    """Per image: each node's inferred position (N,K,2), score S_V (N,K) and best term π_V (N,K)."""

    positions: torch.Tensor
    scores: torch.Tensor
    best: torch.Tensor

    @classmethod
    def empty(cls, images: int, nodes: int) -> "LayerRecords":
        return cls(torch.zeros(images, nodes, 2), torch.zeros(images, nodes), torch.zeros(images, nodes))

    def put(self, start: int, positions, scores, best) -> None:
        stop = start + len(positions)
        self.positions[start:stop], self.scores[start:stop], self.best[start:stop] = positions, scores, best
