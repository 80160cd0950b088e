"""The explainer network and the performer that reads its reconstruction (spec: concepts-bias-trees
§6, explainer networks).

The explainer sees the performer's features f at the explained layer L. Two tracks of the same
shape read them: the interpretable one (3×3 conv, ReLU, then the masked layer of interpretable
CNNs, trained with its filter loss, interpretable-cnn §2.2-2.5) and an ordinary one (3×3 conv,
ReLU). A per-image weight p = σ(linear(GAP f)) mixes them, z = p·z_int + (1 − p)·z_ord [recalled:
the paper's per-image weight; its form ours], and a decoder (two 3×3 convs) inverts z into the
features of the higher layer L′. The mask and its loss are the interpretable CNN's own code.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.interpretable import InterpretableConfig, InterpretableConv


def _conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=False))


class Explainer(nn.Module):
    """f (B,C,h,w) at L → f̂ (B,C′,h′,w′) at L′, with p (B,) the interpretable track's weight."""

    def __init__(self, channels: int, filters: int, target_channels: int, target_size: tuple[int, int],
                 non_negative: bool, config: InterpretableConfig) -> None:
        super().__init__()
        self.interpretable = _conv(channels, filters)
        self.masked = InterpretableConv(filters, 1, config)  # one category: no labels are used
        self.ordinary = _conv(channels, filters)
        self.gate = nn.Linear(channels, 1)
        self.decoder = nn.Sequential(_conv(filters, filters), nn.Conv2d(filters, target_channels, 3, padding=1))
        self.target_size, self.non_negative = tuple(target_size), non_negative

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.mixed(f)[0]

    def mixed(self, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(f̂ at L′, p per image)."""
        p = torch.sigmoid(self.gate(f.mean((2, 3)))).squeeze(1)
        z = p[:, None, None, None] * self.masked(self.interpretable(f)) + \
            (1 - p)[:, None, None, None] * self.ordinary(f)
        out = self.decoder(z)
        if tuple(out.shape[2:]) != self.target_size:  # L′ pooled below L: resample to its grid
            out = F.adaptive_max_pool2d(out, self.target_size) if out.shape[2] > self.target_size[0] \
                else F.interpolate(out, size=self.target_size, mode="bilinear", align_corners=False)
        return (torch.relu(out) if self.non_negative else out), p  # L′'s features are post-ReLU when ≥ 0


@contextmanager
def replaced(performer: nn.Module, layer: str, features: torch.Tensor):
    """While open, the performer's `layer` outputs `features` instead of its own (hook removed after)."""
    handle = dict(performer.named_modules())[layer].register_forward_hook(lambda *_: features)
    try:
        yield
    finally:
        handle.remove()


class ExplainedPerformer(nn.Module):
    """The performer whose layer L′ reads the explainer's reconstruction from its own layer L: the
    model the activation-maps view runs, its layers the performer's L and the explainer's mask."""

    default_layer = "explainer.masked"

    def __init__(self, performer: nn.Module, explainer: Explainer, layer: str, target_layer: str) -> None:
        super().__init__()
        self.performer, self.explainer = performer, explainer
        self.layer, self.target_layer = layer, target_layer
        self.layer_names = (f"performer.{layer}", "explainer.masked")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        modules, seen = dict(self.performer.named_modules()), {}
        keep = modules[self.layer].register_forward_hook(lambda _m, _i, out: seen.__setitem__("f", out))
        swap = modules[self.target_layer].register_forward_hook(lambda *_: self.explainer(seen["f"]))
        try:
            return self.performer(x)
        finally:
            keep.remove()
            swap.remove()
