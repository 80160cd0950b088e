"""Where a feature-map unit sits in the image: the centre of its receptive field.

spec: explanatory-graph §0.2. A unit (h, w) of a conv layer maps to the pixel
(centre + stride·h, centre + stride·w), 0-based, with pixel (row r, column c) centred at
(r, c) as PartWorld's landmarks are. The walk goes over the Conv2d and pooling modules
run before the layer, in execution order; where that chain does not reproduce the map
size the layer really has (a branch, a stride hidden in a functional call), the unit grid
is taken to cover the image evenly, as the reference code does for ResNet.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

_POOLS = (nn.MaxPool2d, nn.AvgPool2d)


@dataclass(frozen=True)
class UnitGrid:
    """Pixel position of unit i along one axis: centre + stride·i."""

    centre: float
    stride: float
    walked: bool = True  # False: the even-coverage fallback was used

    def to_pixels(self, units):
        return self.centre + self.stride * units


def _pair(value) -> int:
    value = value[0] if isinstance(value, (tuple, list)) else value
    return int(value)


def _geometry(module: nn.Module) -> tuple[int, int, int]:
    """(kernel, stride, padding) along one axis of a conv or pooling module."""
    stride = module.stride if module.stride is not None else module.kernel_size
    return _pair(module.kernel_size), _pair(stride), _pair(module.padding)


def _executed_before(model: nn.Module, layer: str, probe: torch.Tensor) -> tuple[list, int]:
    """Conv/pool modules in the order they run until `layer` returns, and its map side."""
    modules = dict(model.named_modules())
    order, seen = [], []
    handles = [m.register_forward_hook(lambda m, i, o: order.append(m))
               for m in modules.values() if isinstance(m, (nn.Conv2d, *_POOLS))]
    handles.append(modules[layer].register_forward_hook(
        lambda m, i, o: seen.append((len(order), o.shape[-1]))))
    try:
        with torch.no_grad():
            model(probe)
    finally:
        for handle in handles:
            handle.remove()
    count, side = seen[0]
    return order[:count], side


def unit_grid(model: nn.Module, layer: str, image_side: int) -> UnitGrid:
    """The receptive-field centres of `layer`'s units on a square image of `image_side`."""
    param = next(model.parameters(), None)
    device = param.device if param is not None else "cpu"
    probe = torch.zeros(1, 3, image_side, image_side, device=device)
    chain, side = _executed_before(model, layer, probe)
    centre, stride, size = 0.0, 1.0, image_side
    for module in chain:
        kernel, step, pad = _geometry(module)
        centre += stride * ((kernel - 1) / 2 - pad)
        stride *= step
        size = (size + 2 * pad - kernel) // step + 1
    if size == side:
        return UnitGrid(centre, stride)
    even = image_side / side
    return UnitGrid((even - 1) / 2, even, walked=False)
