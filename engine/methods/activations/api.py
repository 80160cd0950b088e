"""`activations`: what each filter of the chosen layers responds to, and on which samples.

Feeds the activation-maps pane: maps of the first samples, each filter's spatial max and
mean on every sample, and its top-k samples with their maps. For an interpretable layer
(`InterpretableConv`) also, on the same first samples, its raw input, the template it
chose, μ̂ and μ̂'s receptive-field centre (spec: interpretable-cnn §2.12, _masked).
"""
from __future__ import annotations

import numpy as np
import torch

from engine.jobs import Progress
from engine.layers import hooked
from engine.methods.activations._masked import MaskedCollector, interpretable_layers, layer_inputs
from engine.methods.activations._topk import RunningTopK
from engine.methods.activations.config import ActivationsConfig
from engine.methods.activations.result import ActivationsResult
from engine.methods.base import MethodInputs


def _spatial(t: torch.Tensor) -> torch.Tensor:
    """(B,C,h,w) as it is; a vector layer (B,C) becomes (B,C,1,1) maps."""
    return t if t.dim() == 4 else t.reshape(t.shape[0], t.shape[1], 1, 1)


def compute(inputs: MethodInputs, config: ActivationsConfig, progress: Progress) -> ActivationsResult:
    model, data, layers = inputs.model, inputs.data, inputs.layers
    n = len(data)
    kept = min(config.samples_kept, n)
    stats = {name: {layer: [] for layer in layers} for name in ("max", "mean", "maps")}
    tops = {layer: RunningTopK(config.top_k) for layer in layers}
    masked = MaskedCollector(model, interpretable_layers(model.module, layers), kept, data.images.shape[-1])
    predictions = []
    for start in range(0, n, config.batch_size):
        progress.step(start, n, f"forward {start}/{n}")
        store, raw = {}, {}
        with torch.no_grad(), hooked(model.module, layers, store), layer_inputs(model.module, masked.layers, raw):
            logits = model.module(model.prepare(data.images[start:start + config.batch_size]))
        predictions.append(logits.argmax(1).cpu().numpy())
        masked.update(raw, start)
        for layer in layers:
            maps = _spatial(store[layer].float().cpu())
            stats["max"][layer].append(maps.flatten(2).amax(2).numpy())
            stats["mean"][layer].append(maps.flatten(2).mean(2).numpy())
            if start < kept:
                stats["maps"][layer].append(maps[: kept - start].numpy())
            tops[layer].update(maps, start)
    result = _assemble(inputs, config, stats, tops, np.concatenate(predictions), kept)
    result.masked = masked.results()
    return result


def _assemble(inputs, config, stats, tops, predictions, kept) -> ActivationsResult:
    data, layers = inputs.data, inputs.layers
    topk_index = {layer: tops[layer].index.numpy() for layer in layers}
    top_image_index = np.unique(np.concatenate([i.ravel() for i in topk_index.values()]))
    return ActivationsResult(
        config=config, layers=layers, sample_names=list(data.names), labels=data.labels,
        predictions=predictions.astype(np.int64), images=data.images[:kept],
        maps={l: np.concatenate(stats["maps"][l]) for l in layers},
        filter_max={l: np.concatenate(stats["max"][l]) for l in layers},
        filter_mean={l: np.concatenate(stats["mean"][l]) for l in layers},
        topk_index=topk_index, topk_maps={l: tops[l].maps.numpy() for l in layers},
        top_images=data.images[top_image_index], top_image_index=top_image_index,
        class_names=inputs.model.class_names or data.class_names,
    )
