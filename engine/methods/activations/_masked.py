"""What an interpretable layer did to each kept map (spec: interpretable-cnn §2.3, §2.12).

For an `InterpretableConv` the layer's output is relu(x ∘ T_μ̂); the view needs x itself
(the raw map: the layer's input), the template T_μ̂ the layer chose, μ̂, and μ̂'s
receptive-field centre in image pixels (§0.2). The template is recomputed from x by the
layer's own `masked`, so it is exactly the one its forward used.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from engine.methods.activations.result import MaskedLayer
from engine.methods.explanatory_graph.layout import pixel_xy
from engine.models.interpretable import InterpretableConv
from engine.receptive_field import unit_grid


def interpretable_layers(module: torch.nn.Module, layers: list[str]) -> list[str]:
    """The chosen layers that are masked layers."""
    modules = dict(module.named_modules())
    return [layer for layer in layers if isinstance(modules.get(layer), InterpretableConv)]


@contextmanager
def layer_inputs(module: torch.nn.Module, layers: list[str], store: dict):
    """Forward hooks writing each layer's input into `store`; removed on exit whatever happens."""
    modules = dict(module.named_modules())

    def make_hook(name):
        def hook(_module, inputs, _output):
            store[name] = inputs[0]
        return hook

    handles = [modules[name].register_forward_hook(make_hook(name)) for name in layers]
    try:
        yield store
    finally:
        for handle in handles:
            handle.remove()


class MaskedCollector:
    """Raw maps, templates and μ̂ of the first `kept` samples of each masked layer."""

    def __init__(self, model, layers: list[str], kept: int, image_side: int) -> None:
        modules = dict(model.module.named_modules())
        self.layers, self.kept = layers, kept
        self.convs = {layer: modules[layer] for layer in layers}
        self.grids = {layer: unit_grid(model.module, layer, image_side) for layer in layers}
        self.parts = {layer: {"raw": [], "template": [], "mu": []} for layer in layers}

    def update(self, inputs: dict, start: int) -> None:
        """inputs: layer → (B,C,h,w) raw maps of samples start..start+B-1."""
        if start >= self.kept:
            return
        for layer in self.layers:
            x = inputs[layer][: self.kept - start].detach()
            with torch.no_grad():
                masked = self.convs[layer].masked(x)
            parts = self.parts[layer]
            parts["raw"].append(x.float().cpu().numpy())
            parts["template"].append(masked.mask.float().cpu().numpy())
            parts["mu"].append(torch.stack([masked.rows, masked.cols], -1).cpu().numpy())

    def results(self) -> dict:
        """layer → MaskedLayer over the kept samples."""
        out = {}
        for layer in self.layers:
            parts, grid = self.parts[layer], self.grids[layer]
            mu = np.concatenate(parts["mu"]).astype(np.int64)
            out[layer] = MaskedLayer(
                raw=np.concatenate(parts["raw"]), template=np.concatenate(parts["template"]), mu=mu,
                rf_centre=pixel_xy(mu, grid.centre, grid.stride).astype(np.float32),
                beta=self.convs[layer].beta.float().cpu().numpy(), grid=(grid.centre, grid.stride))
        return out
