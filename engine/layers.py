"""Layers by name: listing, picking, capturing activations with forward hooks.

Hooks are always removed in `finally` (STYLE.md, after Captum), and a truncated forward
stops at the deepest requested layer (specs/engineering-notes §7 "Feature taps").
"""
from __future__ import annotations

from collections import OrderedDict
from contextlib import contextmanager

import torch
from torch import nn

from engine.errors import BadInput, choices

# by type name, so that TorchScript modules (RecursiveScriptModule) list theirs too
_TAPPABLE = {"Conv1d", "Conv2d", "Linear", "LSTM", "MultiheadAttention"}


def layer_names(model: nn.Module) -> list[str]:
    """Names a user may pick: the model's declared `layer_names`, else its conv/linear modules."""
    declared = getattr(model, "layer_names", None)
    if declared:
        return list(declared)
    return [name for name, module in model.named_modules()
            if name and getattr(module, "original_name", type(module).__name__) in _TAPPABLE]


def pick_layers(model: nn.Module, requested: list[str] | None, every_layer: bool = False) -> list[str]:
    """Validate `requested` against the model; by default its default (last spatial) layer,
    or with `every_layer` all of its layers (a text model is measured at every layer)."""
    valid = layer_names(model)
    if not requested and every_layer:
        return valid
    if not requested:
        default = getattr(model, "default_layer", None) or valid[-1]
        return [default]
    modules = dict(model.named_modules())
    unknown = [name for name in requested if name not in valid and name not in modules]
    if unknown:
        raise BadInput(f"unknown layer {', '.join(unknown)}; valid layers: {choices(valid, 40)}")
    return list(requested)


class _StopForward(Exception):
    """Raised by the hook of the deepest needed layer to skip the rest of the network."""


@contextmanager
def hooked(model: nn.Module, layers: list[str], store: dict, stop_after: str | None = None):
    """Forward hooks writing each layer's output into `store`; removed on exit whatever happens."""
    modules = dict(model.named_modules())
    handles = []

    def make_hook(name):
        def hook(_module, _inputs, output):
            store[name] = output[0] if isinstance(output, tuple) else output
            if name == stop_after:
                raise _StopForward
        return hook

    try:
        for name in layers:
            handles.append(modules[name].register_forward_hook(make_hook(name)))
        yield store
    finally:
        for handle in handles:
            handle.remove()


def forward_to(model: nn.Module, inputs: torch.Tensor, layers: list[str],
               call=None) -> dict[str, torch.Tensor]:
    """Outputs of `layers`, running the network only up to the deepest of them.

    Autograd follows the caller's mode: under `no_grad` it records nothing, otherwise the
    features stay differentiable (perturbation methods optimise through them). `call`
    runs the network on `inputs` when that is not `model(inputs)` (a text model fed
    embedded rows: `lambda e: model.forward_embedded(e, mask)`).
    """
    store: dict[str, torch.Tensor] = {}
    order = [n for n, _ in model.named_modules()]
    deepest = max(layers, key=order.index)
    with hooked(model, layers, store, stop_after=deepest):
        try:
            (call or model)(inputs)
        except _StopForward:
            pass
    return {name: store[name] for name in layers}


def forward_by_rows(model: nn.Module, inputs: torch.Tensor, layers: list[str],
                    row_layer: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each input row needs one layer's output: a row leaves the forward pass at its layer.

    `row_layer[r]` indexes `layers`. At each chosen layer (in execution order) the hook keeps
    the output of the rows that end there and passes on only the others, so a row costs
    the network up to its own layer (spec: information §3.7, "truncated forward per layer
    group"). Slicing the batch is safe where the layer's output feeds the rest of the
    network alone (a Sequential, a ResNet stage); elsewhere the forward raises and the
    caller falls back to `forward_to`. Returns, per layer, its rows in their input order.
    """
    modules = dict(model.named_modules())
    alive = [row_layer]
    store: dict[str, torch.Tensor] = {}

    def make_hook(index: int, name: str):
        def hook(_module, _inputs, output):
            if not isinstance(output, torch.Tensor):
                raise RuntimeError(f"layer {name} returns {type(output).__name__}, not one tensor")
            leaving = alive[0] == index
            store[name] = output[leaving]
            alive[0] = alive[0][~leaving]
            if not len(alive[0]):
                raise _StopForward
            return output[~leaving]
        return hook

    handles = [modules[name].register_forward_hook(make_hook(i, name)) for i, name in enumerate(layers)]
    try:
        model(inputs)
    except _StopForward:
        pass
    finally:
        for handle in handles:
            handle.remove()
    missing = [name for name in layers if name not in store]
    if missing:
        raise RuntimeError(f"layers {', '.join(missing)} did not run in the forward pass")
    return store


def capture(model: nn.Module, inputs: torch.Tensor, layers: list[str],
            truncate: bool = True) -> dict[str, torch.Tensor]:
    """Activations of `layers` for `inputs` (no gradient); stops at the deepest one if asked."""
    if truncate:
        with torch.no_grad():
            return {k: v.detach() for k, v in forward_to(model, inputs, layers).items()}
    store: dict[str, torch.Tensor] = {}
    with torch.no_grad(), hooked(model, layers, store):
        model(inputs)
    return {name: store[name].detach() for name in layers}


class ActivationCache:
    """Least-recently-used activations, bounded in bytes (not in entries: maps vary in size)."""

    def __init__(self, max_bytes: int = 512 * 2**20) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[tuple, torch.Tensor] = OrderedDict()

    def get(self, key: tuple) -> torch.Tensor | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: tuple, value: torch.Tensor) -> None:
        size = value.element_size() * value.nelement()
        if size > self.max_bytes:
            return  # larger than the whole budget: caching it would evict everything for nothing
        if key in self._items:
            self._drop(key)
        self._items[key] = value
        self.bytes += size
        while self.bytes > self.max_bytes:
            self._drop(next(iter(self._items)))

    def _drop(self, key: tuple) -> None:
        value = self._items.pop(key)
        self.bytes -= value.element_size() * value.nelement()

    def __len__(self) -> int:
        return len(self._items)
