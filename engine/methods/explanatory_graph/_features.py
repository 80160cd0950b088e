"""The maps the graph is mined on: pre-ReLU conv outputs over a per-unit std, kept compressed.

spec: explanatory-graph §1.3 (F(x) row) and §1.5 PREPROCESS: x̃ = max(x / σ_unit, 0) with
σ_unit the std of the pre-ReLU output at every (c, h, w) over a reference image set; P5:
a dead unit's σ is floored so it cannot explode. Maps are stored as uint8 with one scale
per (image, channel) (§1.5 "compressed feature storage"), ~1 byte a unit, so thousands of
images fit in memory.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from engine.errors import BadInput
from engine.layers import forward_to

_DEAD_FLOOR = 0.05  # P5: σ_unit ≥ 5 % of the layer's mean unit std [ours]


def check_conv_layer(model: nn.Module, layer: str) -> None:
    """Graph layers are conv layers: the module is a Conv2d or a block holding one."""
    module = dict(model.named_modules())[layer]
    if not any(isinstance(m, nn.Conv2d) for m in module.modules()):
        raise BadInput(f"layer {layer} is not a conv layer (it is a {type(module).__name__}); "
                       "the explanatory graph mines 2-D conv feature maps")


def pre_relu_tap(model: nn.Module, layer: str) -> str:
    """The module whose output is the layer's pre-ReLU map: a block ending in ReLU taps the
    module before its ReLU (the demo CNN's conv+BN+ReLU); anything else taps the layer."""
    module = dict(model.named_modules())[layer]
    children = list(module.named_children())
    if len(children) >= 2 and isinstance(children[-1][1], nn.ReLU):
        return f"{layer}.{children[-2][0]}"
    return layer


def pre_relu_maps(model, images: np.ndarray, layers: list[str], batch_size: int, progress=None):
    """Yield (start, {layer: (B,C,h,w) float32 pre-ReLU maps}) over `images`, batch by batch."""
    taps = {layer: pre_relu_tap(model.module, layer) for layer in layers}
    for start in range(0, len(images), batch_size):
        if progress is not None:
            progress.step(start, len(images), f"features {start}/{len(images)}")
        with torch.no_grad():
            out = forward_to(model.module, model.prepare(images[start:start + batch_size]),
                             list(dict.fromkeys(taps.values())))
        maps = {layer: out[tap].float() for layer, tap in taps.items()}
        for layer, m in maps.items():
            if m.dim() != 4:
                raise BadInput(f"layer {layer} gives {m.dim()}-D output, not (C, h, w) maps")
            if not torch.isfinite(m).all():
                raise ValueError(f"layer {layer} gives NaN or infinite features on images "
                                 f"{start}..{start + len(m) - 1}")
        yield start, maps


def unit_std(model, images: np.ndarray, layers: list[str], batch_size: int, progress=None) -> dict:
    """σ_unit per layer, (C,h,w), over `images` (running sums in float64)."""
    sums, squares, count = {}, {}, 0
    for _, maps in pre_relu_maps(model, images, layers, batch_size, progress):
        for layer, m in maps.items():
            m = m.double()
            sums[layer] = sums.get(layer, 0) + m.sum(0)
            squares[layer] = squares.get(layer, 0) + (m * m).sum(0)
        count += len(next(iter(maps.values())))
    out = {}
    for layer in layers:
        mean = sums[layer] / count
        std = (squares[layer] / count - mean**2).clamp_min(0).sqrt()
        floor = _DEAD_FLOOR * float(std.mean()) + 1e-12
        out[layer] = std.clamp_min(floor).float().cpu()
    return out


@dataclass
class FeatureStore:
    """x̃ of one layer for N images: uint8 codes (N,C,h,w) and scales (N,C)."""

    codes: torch.Tensor
    scales: torch.Tensor

    @classmethod
    def empty(cls, n: int, shape: tuple) -> "FeatureStore":
        return cls(torch.zeros((n, *shape), dtype=torch.uint8), torch.zeros(n, shape[0]))

    @classmethod
    def of(cls, maps: torch.Tensor) -> "FeatureStore":
        store = cls.empty(len(maps), tuple(maps.shape[1:]))
        store.put(0, maps)
        return store

    def put(self, start: int, maps: torch.Tensor) -> None:
        """Store non-negative maps (B,C,h,w) at images start..start+B-1."""
        peak = maps.flatten(2).amax(2).clamp_min(1e-12)
        self.codes[start:start + len(maps)] = (maps / peak[..., None, None] * 255).round().to(torch.uint8).cpu()
        self.scales[start:start + len(maps)] = peak.cpu() / 255

    def get(self, start: int, stop: int, device="cpu") -> torch.Tensor:
        codes = self.codes[start:stop].to(device).float()
        return codes * self.scales[start:stop].to(device)[..., None, None]

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def shape(self) -> tuple:
        return tuple(self.codes.shape[1:])


def normalised_features(model, images: np.ndarray, layers: list[str], sigma: dict,
                        batch_size: int, progress=None) -> dict[str, FeatureStore]:
    """x̃ = relu(x / σ_unit) of every image, per layer, compressed."""
    stores: dict[str, FeatureStore] = {}
    for start, maps in pre_relu_maps(model, images, layers, batch_size, progress):
        for layer, m in maps.items():
            if tuple(m.shape[1:]) != tuple(sigma[layer].shape):
                raise BadInput(f"{model.spec} gives {layer} maps of shape {tuple(m.shape[1:])} on these images; "
                               f"the unit stds (the graph) are for {tuple(sigma[layer].shape)}")
            if layer not in stores:
                stores[layer] = FeatureStore.empty(len(images), tuple(m.shape[1:]))
            stores[layer].put(start, (m / sigma[layer].to(m.device)).clamp_min(0))
    for layer, store in stores.items():
        if not store.scales.gt(1e-10).any():
            raise BadInput(f"the maps of {layer} are all zero (or negative before the ReLU) "
                           "on these images: there is nothing to mine")
    return stores

