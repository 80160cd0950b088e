"""Units of the perturbation-entropy engine: how one σ per unit spreads over the input.

spec: information §1.1 — an input is split into n units (image cells, tokens, points);
unit i has d_i scalar dimensions, all perturbed with the same σ_i.
"""
from __future__ import annotations

import math

import torch

HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


class ImageCells:
    """σ on a g×g grid over a (C, H, W) image; a cell's pixels and channels share one σ.

    spec: information §3.1 (deepinfo: 16×16 grid, 14×14 px × 3 channels a cell). Cells
    are nearest-neighbour blocks, so H and W need not be multiples of g.
    """

    def __init__(self, image_shape: tuple[int, int, int], grid: int) -> None:
        c, h, w = image_shape
        self.input_shape = tuple(image_shape)
        self.unit_shape = (grid, grid)
        self.rows = torch.arange(h) * grid // h      # pixel row → cell row
        self.cols = torch.arange(w) * grid // w
        counts = torch.zeros(grid, grid)
        counts.index_put_((self.rows[:, None].expand(h, w), self.cols[None, :].expand(h, w)),
                          torch.ones(h, w), accumulate=True)
        self.dims = counts * c                       # d_i: pixels × channels of each cell

    def unit_mean(self, values: torch.Tensor) -> torch.Tensor:
        """(L, B, g, g) → (L, B)."""
        return values.mean((2, 3))

    def expand(self, sigma: torch.Tensor) -> torch.Tensor:
        """(R, g, g) → (R, 1, H, W), broadcastable over channels."""
        rows, cols = self.rows.to(sigma.device), self.cols.to(sigma.device)
        return sigma[:, rows[:, None], cols[None, :]].unsqueeze(1)

    def downsample_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """(B, H, W) bool → (B, g, g) fraction of each cell inside the mask."""
        g = self.unit_shape[0]
        b = mask.shape[0]
        flat = (self.rows[:, None] * g + self.cols[None, :]).reshape(-1)
        sums = torch.zeros(b, g * g).index_add_(1, flat, mask.reshape(b, -1).float())
        return (sums / (self.dims.reshape(-1) / self.input_shape[0])).reshape(b, g, g)


class TokenRows:
    """One σ per token row of an (n, K) embedding matrix (spec: information §2.1).

    `mask` (B, n) marks real tokens: padding gets no noise and no say in the entropy term
    (spec §2.6: "masked tokens get no σ").
    """

    def __init__(self, n_tokens: int, width: int, mask: torch.Tensor | None = None) -> None:
        self.input_shape = (n_tokens, width)
        self.unit_shape = (n_tokens,)
        self.dims = torch.full((n_tokens,), float(width))
        self.mask = mask

    def expand(self, sigma: torch.Tensor) -> torch.Tensor:
        """(R, n) with rows ordered (layer, sample) → (R, n, 1), zero on padding."""
        if self.mask is None:
            return sigma.unsqueeze(-1)
        mask = self.mask.to(sigma.dtype).repeat(sigma.shape[0] // self.mask.shape[0], 1)
        return (sigma * mask).unsqueeze(-1)

    def unit_mean(self, values: torch.Tensor) -> torch.Tensor:
        """(L, B, n) → (L, B): the mean over each sentence's real tokens."""
        if self.mask is None:
            return values.mean(-1)
        mask = self.mask.to(values.dtype)
        return (values * mask).sum(-1) / mask.sum(-1).clamp(min=1)


class PointUnits:
    """One σ per point of an (N, 3) cloud (spec: information §1.2, Shen 2021: d = 3)."""

    def __init__(self, n_points: int, coords: int = 3) -> None:
        self.input_shape = (n_points, coords)
        self.unit_shape = (n_points,)
        self.dims = torch.full((n_points,), float(coords))

    def unit_mean(self, values: torch.Tensor) -> torch.Tensor:
        return values.mean(-1)

    def expand(self, sigma: torch.Tensor) -> torch.Tensor:
        return sigma.unsqueeze(-1)


def entropy(log_sigma: torch.Tensor, dims: torch.Tensor) -> torch.Tensor:
    """H_i = d_i·(½·log 2πe + log σ_i) nats (spec: information §1.1)."""
    return dims.to(log_sigma.device) * (HALF_LOG_2PI_E + log_sigma)
