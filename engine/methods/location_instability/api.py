"""`location-instability`: how far a filter's (or graph node's) position wanders from the landmarks.

spec: interpretable-cnn §2.8. A filter's position on an image is the receptive-field
centre (§0.2, `unit_grid`) of its highest unit in the layer's output; per landmark k,
D_{f,k} is the std (N−1) of ‖p_k − p_f‖ / √(w² + h²) over the filter's top-`images`
images by peak among those showing k (NaN under 2); a filter's value is the mean over
its category's landmarks (step 6), the layer's the mean over filters. With a graph,
nodes stand for filters: their inferred positions and scores (explanatory-graph §1.6).
With a second model (`--model2`, issue 5 §2: ordinary vs interpretable side by side) its
filters are measured the same way on the same data at its own default layer.
"""
from __future__ import annotations

import numpy as np

from engine.errors import BadInput
from engine.jobs import Progress
from engine.layers import pick_layers
from engine.methods.base import MethodInputs
from engine.methods.explanatory_graph._metrics import filter_peaks, instability_table, nanmean, ranked_units
from engine.methods.explanatory_graph.api import analysed, to_uint8
from engine.methods.explanatory_graph.layout import pixel_xy
from engine.methods.explanatory_graph.saved import infer_saved, open_graph
from engine.methods.location_instability._maps import accuracy, layer_maps, part_groups, require
from engine.methods.location_instability.config import LocationInstabilityConfig
from engine.methods.location_instability.result import LayerInstability, LocationInstabilityResult
from engine.receptive_field import unit_grid


def compute(inputs: MethodInputs, config: LocationInstabilityConfig, progress: Progress) -> LocationInstabilityResult:
    data = analysed(inputs.data, config.crop)
    require(data, "landmarks")
    groups = part_groups(data.part_names, config.class_name)
    if config.images < 2:
        raise BadInput(f"images={config.images}: a std needs at least 2 images a landmark (§2.8 step 3)")
    source = "nodes" if config.graph else "filters"
    split = 0.45 if inputs.model2 is not None else 0.85
    units = (graph_units(inputs.model, data.images, config, progress.child(0.0, split)) if config.graph
             else filter_units(inputs.model, data.images, inputs.layers, config.batch_size, progress.child(0.0, split)))
    diagonal = float(np.hypot(*data.images.shape[-2:]))
    layers = {layer: measure(xy, scores, data.landmarks, groups, config, diagonal)
              for layer, (xy, scores) in units.items()}
    correct = accuracy(inputs.model, inputs.data, config.batch_size, progress.child(0.85, 0.93))
    result = LocationInstabilityResult(config, source, layers, list(data.part_names), list(groups),
                                       to_uint8(data.images), data.landmarks, list(data.names), diagonal, correct)
    if inputs.model2 is not None:  # the side-by-side model: its filters at its default layer, same data
        model2 = inputs.model2
        units2 = filter_units(model2, data.images, pick_layers(model2.module, None), config.batch_size,
                              progress.child(split, 0.85))
        result.model2 = model2.spec
        result.layers2 = {layer: measure(xy, scores, data.landmarks, groups, config, diagonal)
                          for layer, (xy, scores) in units2.items()}
        result.accuracy2 = accuracy(model2, inputs.data, config.batch_size, progress.child(0.93, 1.0))
    progress.step(1.0, 1.0, "instability measured")
    return result


def filter_units(model, images, layers, batch_size, progress) -> dict:
    """Per layer, every filter's peak: pixel position (N,C,2) (x, y) and value (N,C)."""
    grids = {layer: unit_grid(model.module, layer, images.shape[-1]) for layer in layers}
    found = {layer: ([], []) for layer in layers}
    for _, maps in layer_maps(model, images, layers, batch_size, progress):
        for layer in layers:
            where, peak = filter_peaks(maps[layer])
            found[layer][0].append(pixel_xy(where, grids[layer].centre, grids[layer].stride))
            found[layer][1].append(peak)
    return {layer: (np.concatenate(xy), np.concatenate(s)) for layer, (xy, s) in found.items()}


def graph_units(model, images, config, progress) -> dict:
    """Per graph layer, every node's inferred pixel position (N,K,2) and score (N,K)."""
    saved = open_graph(config.graph, model)
    records, _ = infer_saved(saved, model, images, config.batch_size, progress)
    return {layer: (pixel_xy(records[layer].positions.numpy(), saved.graph[layer].grid.centre,
                             saved.graph[layer].grid.stride), records[layer].scores.numpy())
            for layer in saved.layers}


def measure(xy, scores, landmarks, groups: dict, config, diagonal: float) -> LayerInstability:
    """D_{u,k} over the diagonal for the measured units, and each unit's category and value."""
    kept = (ranked_units(scores, config.units, config.images) if config.units
            else np.arange(scores.shape[1]))
    xy, scores = xy[:, kept], scores[:, kept]
    table = instability_table(xy, scores, landmarks, config.images, among_having=True) / diagonal
    category, value = per_unit(table, scores, landmarks, groups, config.category_rule)
    return LayerInstability(kept, xy.astype(np.float32), scores.astype(np.float32), table, category, value)


def per_unit(table, scores, landmarks, groups: dict, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """(category index, mean_{k∈Part_c} D) per unit; c by the rule of §2.8 step 6."""
    means = np.stack([nanmean(table[:, parts], axis=1) for parts in groups.values()], 1)   # (U,G)
    if rule == "min":
        choice = np.argmin(np.where(np.isnan(means), np.inf, means), axis=1)
    else:
        showing = [np.isfinite(landmarks[:, parts]).all(2).any(1) for parts in groups.values()]
        mean_score = np.stack([scores[s].mean(0) if s.any() else np.full(scores.shape[1], -np.inf)
                               for s in showing], 1)
        choice = np.argmax(mean_score, axis=1)
    return choice, means[np.arange(len(choice)), choice]

