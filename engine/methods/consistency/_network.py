"""The reconstruction network g_θ of knowledge consistency and its exact split into orders.

spec: knowledge-consistency §4.2, the released recursive form with K = `order` gates:
x = f_A over its std, z_0 = x, h_i = W_i z_i, u_{i+1} = p_i·R(N(h_i)), z_{i+1} = x + u_{i+1},
g(f_A) = W_K z_K; convolutions without bias, Kaiming-normal; p_i = sigmoid(q_i), q_i = 0 at
the start. With the ReLU masks and the stds of one forward frozen, g is linear in x, and the
path through k ReLUs is the order-k component ("exact decomposition"). Different channel
counts [ours, §4.7]: W_0…W_{K-1} keep A's width and only W_K maps to B's, so the skip x + u
always adds tensors of A's width and needs no projection. [ours] The output is W_K z times
a fixed number, B's overall std on the training images (`output_std`): g starts at the target's
scale whatever the layer's, so that Adam's steps, relative to the weights, fit any layer alike.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

FLAT = 1e-5  # a std below this (a constant map) divides by 1, as the released code does for 1×1 maps


class Scale(nn.Module):
    """N(·)'s divisor: a per-channel std, no mean removed, no gradient through it (§4.2).

    instance: each sample's spatial std (the released code); global [ours, §4.7]: the std over
    samples and positions, the batch's while training and its running average (BatchNorm's
    momentum) once trained, or a fixed one given by `set_std` (f_A's dataset std).
    """

    def __init__(self, channels: int, mode: str, momentum: float = 0.1) -> None:
        super().__init__()
        self.mode, self.momentum, self.fixed = mode, momentum, False
        self.register_buffer("running_var", torch.ones(channels))

    def set_std(self, std: torch.Tensor) -> None:
        self.running_var.copy_(std**2)
        self.fixed = True

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            if self.mode == "instance":
                std = h.std((2, 3), keepdim=True) if h.shape[2] * h.shape[3] > 1 else torch.ones_like(h[:, :, :1, :1])
            elif self.training and not self.fixed:
                var = h.var((0, 2, 3))
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)
                std = var.sqrt().view(1, -1, 1, 1)
            else:
                std = self.running_var.sqrt().view(1, -1, 1, 1)
            return torch.where(std > FLAT, std, torch.ones_like(std))


class ReconstructionNet(nn.Module):
    """g: A's features (B, C_A, h, w) → B's (B, C_B, h, w), in K+1 branches of orders 0…K."""

    def __init__(self, channels_in: int, channels_out: int, order: int, kernel: int, mode: str,
                 output_std: float = 1.0) -> None:
        super().__init__()
        self.order = order
        self.register_buffer("output_std", torch.tensor(float(output_std)))
        widths = [channels_in] * order + [channels_out]
        self.convs = nn.ModuleList(nn.Conv2d(channels_in, w, kernel, padding=kernel // 2, bias=False)
                                   for w in widths)
        for conv in self.convs:
            nn.init.kaiming_normal_(conv.weight)
        self.gate_logits = nn.Parameter(torch.zeros(order))
        self.input_scale = Scale(channels_in, mode)
        self.scales = nn.ModuleList(Scale(channels_in, mode) for _ in range(order))

    def gates(self) -> torch.Tensor:
        """(K,) p_i = sigmoid(q_i)."""
        return torch.sigmoid(self.gate_logits)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = features / self.input_scale(features)
        z, gates = x, self.gates()
        for i in range(self.order):
            h = self.convs[i](z)
            z = x + gates[i] * F.relu(h / self.scales[i](h))
        return self.output_std * self.convs[-1](z)

    def components(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, K+1, C_B, h, w): the order-0…K paths of the forward, which sum to it (§4.2); and
        (K,) the share of each stage's ReLUs that are on (none on: its branches add nothing)."""
        x = features / self.input_scale(features)
        parts, gates, on = [x], self.gates(), []   # z_i split by order: parts[j] passed j ReLUs
        for i in range(self.order):
            mapped = [self.convs[i](part) for part in parts]
            h = sum(mapped)
            on.append((h > 0).float().mean())
            factor = gates[i] * (h > 0) / self.scales[i](h)   # R(N(·)) with its mask and std frozen
            parts = [x] + [factor * m for m in mapped]
        stacked = self.output_std * torch.stack([self.convs[-1](part) for part in parts], 1)
        return stacked, torch.stack(on) if on else torch.zeros(0)
