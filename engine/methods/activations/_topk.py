"""A running top-k over a stream of batches: per filter, the k samples with the largest peak."""
from __future__ import annotations

import torch


class RunningTopK:
    """Keeps, per filter, the k best (peak value, sample index, map) seen so far."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.values = self.index = self.maps = None

    def update(self, maps: torch.Tensor, first_index: int) -> None:
        """maps: (B,C,h,w) of samples first_index..first_index+B-1."""
        b, c = maps.shape[:2]
        peaks = maps.flatten(2).amax(2).T                     # (C,B)
        index = torch.arange(first_index, first_index + b).expand(c, b)
        per_filter = maps.transpose(0, 1)                      # (C,B,h,w)
        if self.values is not None:
            peaks = torch.cat([self.values, peaks], 1)
            index = torch.cat([self.index, index], 1)
            per_filter = torch.cat([self.maps, per_filter], 1)
        keep = peaks.topk(min(self.k, peaks.shape[1]), dim=1).indices  # ties: lowest position first
        self.values = peaks.gather(1, keep)
        self.index = index.gather(1, keep)
        self.maps = per_filter[torch.arange(c)[:, None], keep]
