"""x_I, ŷ_I and g_I = ∂ŷ/∂x at a layer, the identity check, the filter-level vectors (spec §4.2).

The layer's output is replaced by a leaf tensor (a forward hook returning it), so one
backward gives g on the exact map the head reads.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch

from engine.methods.location_instability._maps import check_maps


@dataclass
class MapRationale:
    """N images, D filters of h×w maps; logits of the target category and the best other class."""

    x: np.ndarray          # (N,D,h,w) x_I
    g: np.ndarray          # (N,D,h,w) ∂ŷ/∂x
    logit: np.ndarray      # (N,) ŷ_I
    other: np.ndarray      # (N,) the best other-class logit
    ray_logit: np.ndarray  # (N,) ŷ at (1+ε)·x_I

    @property
    def bias(self) -> np.ndarray:
        """b_I = ŷ_I − g_Iᵀx_I: the image's linear region's offset."""
        return self.logit - (self.g * self.x).reshape(len(self.x), -1).sum(1)


def head_pass(model, images, layer: str, category: int, scale: float, grad: bool):
    """(x, logits, g or None): the head run from `layer`'s output times `scale`."""
    module = dict(model.module.named_modules())[layer]
    seen = {}

    def replace(_module, _inputs, output):
        check_maps(layer, output)
        seen["x"] = (output.detach() * scale).requires_grad_(grad)
        return seen["x"]

    handle = module.register_forward_hook(replace)
    try:
        with torch.set_grad_enabled(grad):
            logits = model.module(model.prepare(images)).double()
    finally:
        handle.remove()
    g = torch.autograd.grad(logits[:, category].sum(), seen["x"])[0] if grad else None
    return seen["x"].detach(), logits.detach(), g


def map_rationale(model, images, layer: str, category: int, config, progress) -> MapRationale:
    parts = {k: [] for k in ("x", "g", "logit", "other", "ray_logit")}
    for start in range(0, len(images), config.batch_size):
        progress.step(start, len(images), f"gradients {start}/{len(images)}")
        batch = images[start:start + config.batch_size]
        x, logits, g = head_pass(model, batch, layer, category, 1.0, True)
        _, ray, _ = head_pass(model, batch, layer, category, 1.0 + config.epsilon, False)
        others = logits.clone()
        others[:, category] = -torch.inf
        for key, value in (("x", x), ("g", g), ("logit", logits[:, category]),
                           ("other", others.amax(1)), ("ray_logit", ray[:, category])):
            parts[key].append(value.double().cpu().numpy())
    return MapRationale(**{k: np.concatenate(v) for k, v in parts.items()})


def identity_error(r: MapRationale, epsilon: float) -> float:
    """max_I |ŷ((1+ε)x_I) − ((1+ε)g_Iᵀx_I + b_I)| / max|ŷ|: 0 where the image's g and b hold on
    its linear region, as a piecewise-linear head promises (§4.2 "check this first")."""
    linear = r.logit + epsilon * (r.logit - r.bias)
    return float(np.abs(r.ray_logit - linear).max() / max(np.abs(r.logit).max(), 1e-12))


@dataclass
class FilterRationale:
    """Filter-level vectors of §4.2, g normalised to unit norm and ŷ, b divided by the same norm."""

    x: np.ndarray      # (N,D) Σ_hw x / s_d
    g: np.ndarray      # (N,D) unit (s_d/L) Σ_hw g
    bias: np.ndarray   # (N,) b_I / ‖g_I‖
    target: np.ndarray  # (N,) ŷ_I / ‖g_I‖
    norm: np.ndarray   # (N,) ‖g_I‖ before normalising: h·norm is back in logits
    logit: np.ndarray  # (N,) ŷ_I in logits
    other: np.ndarray  # (N,) the best other-class logit

    def take(self, idx) -> "FilterRationale":
        return FilterRationale(*(getattr(self, f.name)[idx] for f in fields(self)))


def filter_scales(x: np.ndarray) -> np.ndarray:
    """s_d: the mean over images of filter d's spatially averaged activation; 1 for a silent
    filter (its x is 0 whatever it is divided by) [ours]."""
    s = x.mean((0, 2, 3))
    return np.where(s > 0, s, 1.0)


def filter_rationale(r: MapRationale, scales: np.ndarray) -> FilterRationale:
    side = r.x.shape[2] * r.x.shape[3]
    x = r.x.sum((2, 3)) / scales
    g = scales * r.g.sum((2, 3)) / side
    norm = np.maximum(np.linalg.norm(g, axis=1), 1e-12)
    return FilterRationale(x, g / norm[:, None], r.bias / norm, r.logit / norm, norm, r.logit, r.other)


def filter_identity_error(f: FilterRationale, r: MapRationale) -> float:
    """max_I |(gᵀx + b)_filter − ŷ| / max|ŷ| in logits: what survives the spatial averaging (§4.3)."""
    predicted = ((f.g * f.x).sum(1) + f.bias) * f.norm
    return float(np.abs(predicted - r.logit).max() / max(np.abs(r.logit).max(), 1e-12))
