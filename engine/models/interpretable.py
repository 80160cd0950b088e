"""Interpretable filters (Zhang et al., CVPR'18 / TPAMI'20): the masked layer and its loss.

spec: interpretable-cnn §2.2-2.5. `InterpretableConv` sits on the post-ReLU output of a
conv layer: each filter's map is multiplied by the L1-diamond mask centred on its peak
μ̂ (a constant: no gradient flows through the mask), and `filter_loss` gives the trainer
the surrogate whose gradient is the one the authors' code injects on the layer's raw
input. It is the code's `conv_mask` without its convolution, which stays an ordinary
`nn.Conv2d` so that hooks and the receptive-field walker see it.
`InterpretablePartWorldCNN` is the PartWorld CNN changed as §2.2 says.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from engine.models.interpretable_loss import (MU_MODES, beta_targets, class_weights,
                                              diamond_masks, flipped_log_z, injection_strengths,
                                              peak_positions, spatial_spread, surrogate_loss)
from engine.models.partworld_cnn import DEFAULT_WIDTHS, PartWorldCNN, adopt_six_layers
from engine.settings import setting

ARCH = "partworld-icnn"
NORMALISERS = ("flipped", "running")


@dataclass(frozen=True)
class InterpretableConfig:
    mu: str = setting("centroid", "mask centre μ̂: the map's rounded activation-weighted centroid (the "
                                  "released code's, in training and inference, spec §2.3) or its arg-max "
                                  "(the paper's)", options=MU_MODES)
    beta_init: float = setting(2.0, "per-filter β_f at the start, on the [−1, 1] grid (≈ the paper's "
                                    "β = 4; the code's init)")
    beta_min: float = setting(1.5, "lower bound of β_f (§2.5 step 6)")
    beta_max: float = setting(3.0, "upper bound of β_f (§2.5 step 6)")
    beta_scale: float = setting(3.0, "β_f target = this / the strength-weighted spread of the "
                                     "filter's positive maps", "cells")
    beta_rate: float = setting(0.05, "fraction of the way β_f moves to its target each step [ours: "
                                     "the code's β gradient × lr multiplier at lr 1e-4]")
    temperature: float = setting(0.5, "a, the temperature of the fitness exponentials (§2.5)")
    kappa_base: float = setting(1e-5, "k of the filter-loss strength κ = k·mag/epoch (§2.5 step 4)")
    kappa_mag: float = setting(0.1, "mag of κ = k·mag/epoch (§2.5 step 4)")
    normaliser: str = setting("flipped", "log Z of the fitness: 'flipped' masks of another image and "
                                         "channel in the batch (the code, §2.11), or a 'running' "
                                         "average of the own-mask fitness over batches [ours]",
                              options=NORMALISERS)
    normaliser_momentum: float = setting(0.9, "'running' normaliser: weight of the past [ours]")
    category_momentum: float = setting(0.9, "EMA momentum of the filter→category table (§2.5 step 2)")
    category_floor: float = setting(0.1, "first value of a category's column is at least this (§2.5 step 2)")
    reduction: str = setting("mean", "filter loss over the batch: 'mean', as F.cross_entropy averages "
                                     "(§2.11 reduction), or 'sum', as matconvnet", options=("mean", "sum"))


def kappa(epoch: int, config: InterpretableConfig = InterpretableConfig()) -> float:
    """Filter-loss strength in (1-based) epoch t: κ = k·mag/t (spec §2.5 step 4)."""
    if epoch < 1:
        raise ValueError(f"epochs count from 1, got {epoch}")
    return config.kappa_base * config.kappa_mag / epoch


def category_targets(labels: torch.Tensor, categories: tuple[int, ...]) -> torch.Tensor:
    """(B, K) bool: image b shows category k. Single-category training passes one label id."""
    ids = torch.as_tensor(categories, device=labels.device)
    return labels[:, None] == ids[None, :]


@dataclass
class MaskedMaps:
    """One forward of a masked layer: raw maps x, masks M, μ̂ (rows, cols) and the output."""

    x: torch.Tensor
    mask: torch.Tensor
    rows: torch.Tensor
    cols: torch.Tensor
    output: torch.Tensor


class InterpretableConv(nn.Module):
    """Masks each filter's post-ReLU map by its template; holds β_f, the filter→category
    table and the filter loss on its input (spec §2.2, §2.5)."""

    def __init__(self, channels: int, categories: int = 1,
                 config: InterpretableConfig = InterpretableConfig()) -> None:
        super().__init__()
        self.config = config
        # buffers, not parameters: β relaxes to its target by rule (§2.5 step 6), never by the optimiser
        self.register_buffer("beta", torch.full((channels,), config.beta_init))
        self.register_buffer("category_table", torch.zeros(channels, categories))  # EMA table A
        self.register_buffer("density", torch.full((categories,), math.nan))  # NaN: the batch's
        self.register_buffer("running_log_z", torch.full((2, channels), math.nan))
        self.last: MaskedMaps | None = None

    @property
    def categories(self) -> int:
        return self.category_table.shape[1]

    def masked(self, x: torch.Tensor) -> MaskedMaps:
        """x_masked = relu(x ∘ T_μ̂), the mask computed without gradient (spec §2.2-2.3)."""
        with torch.no_grad():
            rows, cols = peak_positions(x.detach(), self.config.mu)
            mask = diamond_masks(rows, cols, self.beta.to(x.dtype), tuple(x.shape[2:]))
        return MaskedMaps(x, mask, rows, cols, torch.relu(x * mask))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.masked(x)
        self.last = maps if self.training else None  # what `filter_loss` reads, training only
        return maps.output

    def filter_categories(self) -> torch.Tensor:
        """Category of each filter (C,): argmax of table A; all 0 with one category (§2.5 step 2)."""
        return self.category_table.argmax(1)

    def set_density(self, fractions) -> None:
        """ρ_k, the fraction of training images of each category, for the class weights (§2.5 step 3)."""
        self.density.copy_(torch.as_tensor(fractions, dtype=self.density.dtype))

    def filter_loss(self, targets: torch.Tensor, epoch: int, update: bool = True) -> torch.Tensor:
        """The surrogate filter loss on the last training forward's input (spec §2.5).

        targets (B, K) bool as `category_targets`; with `update` the category table, the
        running normaliser and β_f take this batch in (the code does it in its backward)."""
        if self.last is None:
            raise RuntimeError("filter_loss needs a forward pass in training mode first")
        x, mask, plain = self.last.x, self.last.mask, self.last.x.detach()
        targets = targets.to(device=x.device, dtype=torch.bool)
        if targets.shape != (x.shape[0], self.categories):
            raise ValueError(f"targets of shape {tuple(targets.shape)}; this layer needs "
                             f"(batch {x.shape[0]}, categories {self.categories})")
        if update:
            self._update_categories(plain, targets)
        filters = self.filter_categories()
        positives = targets[:, filters]
        log_z = self._log_z(plain, mask, update)
        g_pos, g_neg = injection_strengths(plain, mask, positives, log_z, self.config.temperature)
        w_pos, w_neg = class_weights(self._density(targets))
        loss = surrogate_loss(x, mask, g_pos, g_neg, w_pos[filters], w_neg[filters],
                              kappa(epoch, self.config))
        if update:
            self._update_beta(plain, mask, positives)
        return loss / x.shape[0] if self.config.reduction == "mean" else loss

    def _density(self, targets: torch.Tensor) -> torch.Tensor:
        if torch.isnan(self.density).any():  # [ours] not set: this batch's fractions
            return targets.to(self.density.dtype).mean(0)
        return self.density

    def _log_z(self, x: torch.Tensor, mask: torch.Tensor, update: bool):
        """(log Z⁺, log Z⁻) per filter, as `config.normaliser` says (spec §2.5 step 1, §2.11)."""
        a = self.config.temperature
        if self.config.normaliser == "flipped":
            return flipped_log_z(x, mask, a)
        own = torch.stack([(x * mask).mean((2, 3)), -x.mean((2, 3))]) / a  # (2, B, C)
        batch = torch.logsumexp(own, 1) - math.log(x.shape[0])
        past, m = self.running_log_z, self.config.normaliser_momentum
        mixed = torch.logaddexp(past + math.log(m), batch + math.log(1 - m))
        current = torch.where(torch.isnan(past), batch, mixed)
        if update:
            self.running_log_z.copy_(current)
        return a * current[0], a * current[1]

    @torch.no_grad()
    def _update_categories(self, x: torch.Tensor, targets: torch.Tensor) -> None:
        """EMA of each filter's mean max activation over each category's images (§2.5 step 2)."""
        peaks = x.flatten(2).amax(2)  # (B, C)
        for k in range(self.categories):
            if not targets[:, k].any():
                continue
            mean, old = peaks[targets[:, k]].mean(0), self.category_table[:, k]
            if not old.any():
                old.copy_(mean.clamp(min=self.config.category_floor))
                continue
            mean = torch.where(mean == 0, old, mean)  # a filter silent on this batch keeps its value
            m = self.config.category_momentum
            old.copy_(m * old + (1 - m) * mean)

    @torch.no_grad()
    def _update_beta(self, x: torch.Tensor, mask: torch.Tensor, positives: torch.Tensor) -> None:
        """β_f relaxes to clip(3/σ̄, bounds); silent filters keep theirs (§2.5 step 6, §2.11)."""
        c = self.config
        target, updatable = beta_targets((x * mask).mean((2, 3)), spatial_spread(x), positives,
                                         (c.beta_min, c.beta_max), c.beta_scale)
        moved = self.beta + c.beta_rate * (target.to(self.beta.dtype) - self.beta)
        beta = torch.where(updatable, moved, self.beta)
        beta = torch.nan_to_num(beta, nan=c.beta_init).clamp(c.beta_min, c.beta_max)
        self.beta.copy_(beta)


class MaskedLayers:
    """What the trainer and the views need of a network with interpretable filters: its
    masked layers, named in `interpretable_layers`, and their summed filter loss."""

    interpretable_layers: tuple[str, ...] = ()

    def masked_layers(self) -> list[InterpretableConv]:
        return [getattr(self, name) for name in self.interpretable_layers]

    def filter_loss(self, targets: torch.Tensor, epoch: int, update: bool = True) -> torch.Tensor:
        """Sum of the masked layers' filter losses on the last training forward (§2.4 total loss)."""
        return sum(layer.filter_loss(targets, epoch, update) for layer in self.masked_layers())


class InterpretablePartWorldCNN(MaskedLayers, nn.Module):
    """PartWorldCNN with interpretable filters (spec §2.2): conv5's filters masked, a new
    3×3 conv with bias above it, masked too; then the base's head (GAP + linear), or with
    `head="fc"` an FC stack (`partworld_cnn.SIX_LAYER_HEADS`) [ours: no pool before the new
    layer, so its maps stay 12×12 like conv5's]."""

    default_layer = "conv6_masked"  # the new conv layer's masked output (§2.2: evaluated there)
    interpretable_layers = ("conv5_masked", "conv6_masked")
    layer_names = ("conv1", "conv2", "conv3", "conv4", "conv5", *interpretable_layers[:1],
                   "conv6", *interpretable_layers[1:], "fc")

    def __init__(self, num_classes: int = 5, widths: tuple = DEFAULT_WIDTHS, new_filters: int = 0,
                 categories: int = 1, config: InterpretableConfig = InterpretableConfig(),
                 head: str = "paper") -> None:
        super().__init__()
        top, new = adopt_six_layers(self, num_classes, widths, new_filters, head)  # the twin's layers and init
        self.conv5_masked = InterpretableConv(top, categories, config)   # masks: buffers, no parameters
        self.conv6_masked = InterpretableConv(new, categories, config)

    def forward(self, x):
        x = self.pool1(self.conv1(x))
        x = self.pool2(self.conv2(x))
        x = self.pool3(self.conv3(x))
        x = self.conv5_masked(self.conv5(self.conv4(x)))
        x = self.conv6_masked(self.conv6(x))
        return self.fc(self.head_pool(x).flatten(1))

    @classmethod
    def from_base(cls, base: PartWorldCNN, categories: int = 1, new_filters: int = 0,
                  config: InterpretableConfig = InterpretableConfig()) -> InterpretablePartWorldCNN:
        """conv1..conv5 loaded from a trained PartWorldCNN; the new conv and the head fresh (§2.2)."""
        widths = tuple(getattr(base, f"conv{i}")[0].out_channels for i in range(1, 6))
        model = cls(base.fc.out_features, widths, new_filters, categories, config)
        kept = tuple(f"conv{i}." for i in range(1, 6))
        convs = {k: v for k, v in base.state_dict().items() if k.startswith(kept)}
        model.load_state_dict(convs, strict=False)
        return model


def build(num_classes: int = 5, widths=DEFAULT_WIDTHS, new_filters: int = 0,
          categories: int = 1) -> InterpretablePartWorldCNN:
    return InterpretablePartWorldCNN(num_classes, tuple(widths), new_filters, categories)
