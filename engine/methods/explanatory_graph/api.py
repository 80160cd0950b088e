"""`explanatory-graph`: mine, top-down, the part patterns inside conv filters and their edges.

spec: explanatory-graph §1. The maps of the chosen conv layers are normalised and stored
compressed (§1.5 PREPROCESS), each layer's nodes are fitted by EM from the top layer
down (§1.5), and the graph is scored against the raw filters it splits (§1.8).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.data import load_data
from engine.data.crops import object_crops
from engine.errors import BadInput, choices
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.explanatory_graph import _metrics
from engine.methods.explanatory_graph._em import mine
from engine.methods.explanatory_graph._flips import unmirror_columns
from engine.methods.explanatory_graph._features import check_conv_layer, normalised_features, unit_std
from engine.methods.explanatory_graph.config import ExplanatoryGraphConfig
from engine.methods.explanatory_graph.layout import pixel_xy
from engine.methods.explanatory_graph.result import ExplanatoryGraphResult
from engine.receptive_field import unit_grid

MIN_IMAGES = 2  # node displacements, parents and σ need positions on at least two images


def bottom_up(model, layers: list[str]) -> list[str]:
    """The chosen layers in the order the network runs them (conv layers only)."""
    order = [name for name, _ in model.named_modules()]
    for layer in layers:
        check_conv_layer(model, layer)
    return sorted(dict.fromkeys(layers), key=order.index)


def analysed(data, crop: str):
    """The images as the graph sees them: object crops by default (§0.1)."""
    return object_crops(data) if crop == "object" else data


def class_subset(data, class_name: str):
    if not class_name:
        return data
    if class_name not in data.class_names:
        raise BadInput(f"class_name={class_name!r} is not a class of {data.spec or 'the data'}; "
                       f"valid: {choices(data.class_names)}")
    return data.subset(np.flatnonzero(data.labels == data.class_names.index(class_name)))


@dataclass
class Features:
    """σ_unit, compressed x̃ of the images (and of their mirrors, with flips), unit grids."""

    sigma: dict
    stores: dict
    mirrored: dict | None
    grids: dict
    width: int


def prepare_features(model, images, layers, config, progress, sigma=None) -> Features:
    """The maps of `layers` on `images`, ready to mine; σ_unit computed when not given."""
    if sigma is None:
        reference = images if not config.stats_data else load_data(config.stats_data, model.input_size).images
        sigma = unit_std(model, reference, layers, config.batch_size, progress.child(0.0, 0.3))
    stores = normalised_features(model, images, layers, sigma, config.batch_size, progress.child(0.3, 0.65))
    mirrored = (normalised_features(model, np.ascontiguousarray(images[..., ::-1]), layers, sigma,
                                    config.batch_size, progress.child(0.65, 1.0)) if config.flips else None)
    grids = {layer: unit_grid(model.module, layer, images.shape[-1]) for layer in layers}
    return Features(sigma, stores, mirrored, grids, int(images.shape[-1]))


def filter_peaks(features: Features, layer: str) -> tuple[np.ndarray, np.ndarray]:
    """Raw filters as parts: per image and filter, the peak (N,C,2) in image units and its value;
    with flips, the mirrored image's peak where it is higher (the reference's `alter`)."""
    store = features.stores[layer]
    units, peaks = _metrics.filter_peaks(store.codes.numpy())
    values = peaks * store.scales.numpy()
    if features.mirrored is not None:
        mirror = features.mirrored[layer]
        m_units, m_peaks = _metrics.filter_peaks(mirror.codes.numpy())
        m_values = m_peaks * mirror.scales.numpy()
        m_units[..., 1] = unmirror_columns(m_units[..., 1], features.grids[layer], features.width)
        better = m_values > values
        units, values = np.where(better[..., None], m_units, units), np.where(better, m_values, values)
    return units.astype(np.float32), values.astype(np.float32)


def compute(inputs: MethodInputs, config: ExplanatoryGraphConfig, progress: Progress) -> ExplanatoryGraphResult:
    layers = bottom_up(inputs.model.module, inputs.layers)
    # the graph reads landmarks, not part masks: crops without them keep 221 MB per 1,000 images free
    data = analysed(replace(class_subset(inputs.data, config.class_name), part_masks=None), config.crop)
    if len(data) < MIN_IMAGES:
        raise BadInput(f"explanatory-graph needs at least {MIN_IMAGES} images to learn how nodes move; "
                       f"got {len(data)}")
    if config.pattern_density and len(config.pattern_density) != len(layers):
        raise BadInput(f"pattern_density has {len(config.pattern_density)} values for {len(layers)} layers")
    f = prepare_features(inputs.model, data.images, layers, config, progress.child(0.0, 0.1))
    graph, records, monitor, flipped = mine(f.stores, f.grids, f.sigma, layers, config, inputs.seed,
                                            progress.child(0.1, 0.97), inputs.model.device, f.mirrored, f.width,
                                            inputs.executor)
    peaks = {layer: filter_peaks(f, layer) for layer in layers}
    result = ExplanatoryGraphResult(
        config=config, layers=layers, graph=graph, records=records,
        filter_positions={l: p for l, (p, _) in peaks.items()},
        filter_scores={l: s for l, (_, s) in peaks.items()}, flipped=flipped.numpy(),
        monitor=monitor, images=to_uint8(data.images), labels=data.labels, landmarks=data.landmarks,
        part_names=list(data.part_names), class_names=list(data.class_names),
        sample_names=list(data.names), metric_values={})
    result.metric_values = graph_metrics(result, config)
    progress.step(1.0, 1.0, "graph mined")
    return result


def to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.round(images * 255), 0, 255).astype(np.uint8)


def graph_metrics(result: ExplanatoryGraphResult, config) -> dict:
    """Per layer: node and edge counts; with landmarks, instability and purity of nodes and filters."""
    out = {}
    side = result.images.shape[-1]
    diagonal = float(np.hypot(*result.images.shape[-2:]))
    radius = config.purity_radius or side / 8
    for layer in result.layers:
        node, rec = result.graph[layer], result.records[layer]
        out[f"nodes/{layer}"] = float(node.nodes)
        out[f"edges/{layer}"] = float(node.parents.numel())
        if result.landmarks is None:
            continue
        candidates = {"nodes": (rec.positions.numpy(), rec.scores.numpy()),
                      "filters": (result.filter_positions[layer], result.filter_scores[layer])}
        for name, (units, scores) in candidates.items():
            xy = pixel_xy(units, node.grid.centre, node.grid.stride)
            args = (xy, scores, result.landmarks, config.stability_nodes, config.stability_images)
            out[f"instability_{name}/{layer}"] = _metrics.location_instability(*args, diagonal)
            out[f"purity_{name}/{layer}"] = _metrics.purity(*args, radius)
    return out


