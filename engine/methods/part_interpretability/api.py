"""`part-interpretability`: how often a filter's strongest region is one part (spec: interpretable-cnn §2.8).

Network dissection as the paper adapts it: T_f puts 0.5 % of all positions of the filter's
maps over the data above it; on each image, S_f is the union of round RFs around the
units above T_f (footnote 5); P_{f,k} is the share of the images showing part k whose
IoU(S_f, S_k) exceeds 0.2; P_f = max_k P_{f,k}, averaged over the layer's filters.
With `--model2` the second model is measured the same way at its default layer (side by side).
"""
from __future__ import annotations

import numpy as np
import torch

from engine.jobs import Progress
from engine.layers import pick_layers
from engine.methods.base import MethodInputs
from engine.methods.explanatory_graph.api import analysed, to_uint8
from engine.methods.location_instability._maps import accuracy, layer_maps, part_groups, require
from engine.methods.part_interpretability._regions import disc_cover, ious, regions, thresholds
from engine.methods.part_interpretability.config import PartInterpretabilityConfig
from engine.methods.part_interpretability.result import LayerParts, PartInterpretabilityResult
from engine.receptive_field import unit_grid


def compute(inputs: MethodInputs, config: PartInterpretabilityConfig, progress: Progress) -> PartInterpretabilityResult:
    data = analysed(inputs.data, config.crop)
    require(data, "part masks")
    parts = np.concatenate(list(part_groups(data.part_names, config.class_name).values()))
    masks = torch.from_numpy(data.part_masks[:, parts].reshape(len(data), len(parts), -1))
    second = inputs.model2 is not None
    layers, correct = measure_model(inputs.model, inputs.layers, inputs.data, data, masks, config,
                                    progress.child(0.0, 0.5 if second else 1.0))
    result = PartInterpretabilityResult(config, layers, [data.part_names[p] for p in parts],
                                        masks.any(2).sum(0).numpy(), to_uint8(data.images), list(data.names), correct)
    if second:  # the side-by-side model: its default layer on the same data (issue 5 §2)
        result.model2 = inputs.model2.spec
        result.layers2, result.accuracy2 = measure_model(
            inputs.model2, pick_layers(inputs.model2.module, None), inputs.data, data, masks, config,
            progress.child(0.5, 1.0))
    progress.step(1.0, 1.0, "part interpretability measured")
    return result


def measure_model(model, layer_names, raw, data, masks, config, progress) -> tuple[dict, float]:
    """Per layer its LayerParts, and the model's accuracy on the data as given."""
    maps = collect_maps(model, data.images, layer_names, config.batch_size, progress.child(0.0, 0.6))
    layers = {}
    for i, (layer, layer_maps_) in enumerate(maps.items()):
        step = progress.child(0.6 + 0.3 * i / len(maps), 0.6 + 0.3 * (i + 1) / len(maps))
        layers[layer] = measure_layer(model, layer, layer_maps_, masks, data.image_size, config, step)
    return layers, accuracy(model, raw, config.batch_size, progress.child(0.9, 1.0))


def collect_maps(model, images, layers, batch_size, progress) -> dict:
    """Per layer, its (N,C,h,w) maps over all images (one pass; T_f needs them all, step 1)."""
    found = {layer: [] for layer in layers}
    for _, maps in layer_maps(model, images, layers, batch_size, progress):
        for layer in layers:
            found[layer].append(maps[layer])
    return {layer: np.concatenate(m) for layer, m in found.items()}


def measure_layer(model, layer, maps, masks, image, config, progress) -> LayerParts:
    """T_f, then per filter and part the mean IoU and the share of images over the cut (steps 2-4)."""
    threshold = thresholds(maps, config.top_share)
    cover = None
    if config.region == "disc":
        grid = unit_grid(model.module, layer, image[1])
        cover = disc_cover(maps.shape[2:], image, grid.centre, grid.stride, config.radius or grid.stride)
    n, c, p = len(maps), maps.shape[1], masks.shape[1]
    iou_sum, hits, count = torch.zeros(c, p, dtype=torch.float64), torch.zeros(c, p), torch.zeros(p)
    t = torch.from_numpy(threshold)
    for start in range(0, n, config.batch_size):
        progress.step(start, n, f"{layer}: IoU {start}/{n}")
        batch = torch.from_numpy(maps[start:start + config.batch_size])
        iou = ious(regions(batch, t, image, cover), masks[start:start + config.batch_size])
        shown = ~torch.isnan(iou)
        iou_sum += torch.where(shown, iou, 0.0).sum(0).double()
        hits += (iou > config.iou_cut).sum(0)
        count += shown[:, 0].sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_iou = (iou_sum / count).numpy().astype(np.float32)
        hit_rate = (hits / count).numpy().astype(np.float32)
    return LayerParts(threshold, mean_iou, hit_rate)
