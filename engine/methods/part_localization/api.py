"""`part-localization`: a part found on new images from 1-3 annotated ones, by graph nodes.

spec: explanatory-graph §1.7 (our minimal version of the And-Or-graph step) and §1.8
(normalized distance: ‖prediction − truth‖ over the image diagonal, averaged over test
images), with the reference's two other numbers where the data has part masks: the
detection rate (the prediction's box, the shots' mean part size, at IoU ≥ 0.5 with the
part's box) and the share of predictions inside the part's box. Baselines on the same
protocol: raw filter peaks with the same transfer rule, and nearest neighbour on conv features.
With `mirror`, the reference's pose choice (§1.7 step 3 [code], step_inference.m): graph and
filter peaks also read each image mirrored, and keep per test image the better-scored reading.
"""
from __future__ import annotations

import numpy as np

from engine.data.crops import object_boxes
from engine.errors import BadInput, choices
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.explanatory_graph.api import analysed, filter_peaks, to_uint8
from engine.methods.explanatory_graph.layout import pixel_xy
from engine.methods.explanatory_graph.saved import infer_saved, open_graph
from engine.methods.part_localization import _transfer
from engine.methods.part_localization.config import PartLocalizationConfig
from engine.methods.part_localization.result import PartLocalizationResult, Task

USER_PART = "annotated"


def compute(inputs: MethodInputs, config: PartLocalizationConfig, progress: Progress) -> PartLocalizationResult:
    data, saved = analysed(inputs.data, config.crop), open_graph(config.graph, inputs.model)
    tasks = user_task(data, config) if config.annotations else landmark_tasks(data, config)
    size = data.images.shape[-2:]
    half = 0.4 if config.mirror else 0.8
    plain, maps = _detectors(saved, inputs.model, data.images, config, progress.child(0.0, half))
    mirror = _detectors(saved, inputs.model, data.images, config, progress.child(half, 0.8), mirrored=True)[0] \
        if config.mirror else {}
    features, unit_xy = _unit_features(saved, maps.stores)
    radius = config.radius or data.images.shape[-1] / 8
    for i, task in enumerate(tasks):
        progress.child(0.8, 1.0).step(i, len(tasks), f"localising {task.part}")
        targets = task.targets
        for name, detectors in plain.items():
            chosen, delta = _transfer.fit(*detectors, task.annotated, targets, config.nodes, radius)
            task.predictions[name], task.mirrored[name] = _transfer.predict(
                detectors, mirror.get(name), task.test, chosen, delta, config.consensus, size)
        task.predictions["nearest_neighbour"] = _transfer.nearest_neighbour(
            features, unit_xy, task.annotated, targets, task.test)
    progress.step(1.0, 1.0, "parts localised")
    return PartLocalizationResult(config, tasks, to_uint8(data.images), list(data.names),
                                  float(np.hypot(*data.images.shape[-2:])))


def landmark_tasks(data, config) -> list[Task]:
    """Per part: its first `shots` images are annotated (the data's landmark), the rest tested."""
    if data.landmarks is None or not data.part_names:
        raise BadInput(f"{data.spec or 'this data'} has no part landmarks: give your own clicks with "
                       "--set annotations=IMAGE:X:Y,...")
    if config.shots < 1:
        raise BadInput(f"shots={config.shots}: at least one annotated image is needed")
    if config.part and config.part not in data.part_names:
        raise BadInput(f"part {config.part!r} is not in the data; valid: {choices(data.part_names)}")
    parts = [config.part] if config.part else data.part_names
    tasks = []
    for part in parts:
        column = data.part_names.index(part)
        having = np.flatnonzero(np.isfinite(data.landmarks[:, column]).all(1))
        if len(having) > config.shots:
            marks = data.landmarks[:, column].astype(np.float64)
            shots, test = having[:config.shots], having[config.shots:]
            tasks.append(Task(part, shots, marks[shots], test, marks[test], **_boxes(data, column, shots, test)))
    if not tasks:
        raise BadInput(f"no part appears on more than shots={config.shots} images of {data.spec or 'the data'}")
    return tasks


def user_task(data, config) -> list[Task]:
    """One task from the user's clicks; truth from the data's landmark of `part` where it has one."""
    height, width = data.images.shape[-2:]
    clicks = []
    for item in filter(None, (t.strip() for t in config.annotations.split(","))):
        try:
            index, x, y = item.split(":")
            index, x, y = int(index), float(x), float(y)
        except ValueError:
            raise BadInput(f"annotation {item!r} is not IMAGE:X:Y") from None
        if not 0 <= index < len(data):
            raise BadInput(f"annotation {item!r}: image {index} is not among the {len(data)} images")
        if not (0 <= x <= width - 1 and 0 <= y <= height - 1):
            raise BadInput(f"annotation {item!r} lies outside the {width}×{height} image")
        clicks.append((index, x, y))
    annotated = np.array([c[0] for c in clicks])
    if len(set(annotated.tolist())) != len(annotated):
        raise BadInput("two annotations on one image: give one click an image")
    test = np.setdiff1d(np.arange(len(data)), annotated)
    truth, boxes = np.full((len(test), 2), np.nan), {}
    if config.part and data.landmarks is not None and config.part in data.part_names:
        column = data.part_names.index(config.part)
        truth, boxes = data.landmarks[test, column].astype(np.float64), _boxes(data, column, annotated, test)
    return [Task(config.part or USER_PART, annotated, np.array([c[1:] for c in clicks]), test, truth, **boxes)]


def _boxes(data, column: int, shots, test) -> dict:
    """With part masks: the test images' part boxes and the shots' mean box size (w, h)."""
    if data.part_masks is None:
        return {}
    masks = data.part_masks[:, column]
    boxes = object_boxes(masks).astype(np.float64)
    boxes[~masks.any((1, 2))] = np.nan
    size = boxes[shots, 2:] - boxes[shots, :2] + 1
    box_size = np.nanmean(size, 0) if np.isfinite(size).all(1).any() else np.full(2, np.nan)
    return {"boxes": boxes[test], "box_size": box_size}


def _detectors(saved, model, images, config, progress, mirrored: bool = False):
    """Graph nodes and filter peaks as detectors {name: (positions (N,K,2), scores (N,K))} on
    the images or, `mirrored`, on their mirrors with x in the images' own coordinates; and the maps."""
    if mirrored:
        images = np.ascontiguousarray(images[..., ::-1])
    records, maps = infer_saved(saved, model, images, config.batch_size, progress)
    detectors = {"graph": _node_detectors(saved, records), "filter_peak": _filter_detectors(saved, maps)}
    if mirrored:
        for positions, _ in detectors.values():
            positions[..., 0] = images.shape[-1] - 1 - positions[..., 0]
    return detectors, maps


def _node_detectors(saved, records):
    """Every node of every layer: pixel positions (N,K,2) and scores (N,K)."""
    positions = [pixel_xy(records[l].positions.numpy(), saved.graph[l].grid.centre, saved.graph[l].grid.stride)
                 for l in saved.layers]
    return np.concatenate(positions, 1), np.concatenate([records[l].scores.numpy() for l in saved.layers], 1)


def _filter_detectors(saved, maps):
    """Every filter's peak (the mirror's where higher, with flips): position (N,C,2) and
    maximum over the layer's mean maximum."""
    positions, scores = [], []
    for layer in saved.layers:
        units, value = filter_peaks(maps, layer)
        grid = saved.graph[layer].grid
        positions.append(pixel_xy(units, grid.centre, grid.stride))
        scores.append(value / max(float(value.mean()), 1e-12))
    return np.concatenate(positions, 1), np.concatenate(scores, 1)


def _unit_features(saved, stores):
    """Per unit of the finest layer, the units above it in every layer, L2-normalised per layer
    and stacked: features (N,D,U) and the units' pixel centres (U,2)."""
    finest = max(saved.layers, key=lambda l: saved.graph[l].side)
    grid, side = saved.graph[finest].grid, saved.graph[finest].side
    h, w = np.divmod(np.arange(side * side), side)
    unit_xy = pixel_xy(np.stack([h, w], 1), grid.centre, grid.stride)
    parts = []
    for layer in saved.layers:
        node = saved.graph[layer]
        nearest = np.clip(np.round((unit_xy - node.grid.centre) / node.grid.stride), 0, node.side - 1).astype(int)
        maps = stores[layer].get(0, len(stores[layer])).numpy()
        picked = maps[:, :, nearest[:, 1], nearest[:, 0]]                      # (N,C,U)
        parts.append(picked / (np.linalg.norm(picked, axis=1, keepdims=True) + 1e-12))
    return np.concatenate(parts, 1), unit_xy


