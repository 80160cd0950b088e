"""Top-down EM: each layer's nodes fitted to its maps and to the positions of the layer above.

spec: explanatory-graph §1.5 (INIT, the layer loop, M_STEP), after the reference's
learn_explanatoryGraph / updateModel. The first iteration of a lower layer runs without
parents; parents are re-picked at every later iteration from the previous one's
positions. Training records are those of the last E-step, scores over the layer's
global mean (P6). §1.6 inference is the same E-step, top-down, without the M-step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from engine.distributed import LOCAL
from engine.heap import trim_freed_heap
from engine.jobs import Progress
from engine.methods.explanatory_graph._estep import e_step, infer, search_window, top_prior
from engine.methods.explanatory_graph._features import FeatureStore
from engine.methods.explanatory_graph._flips import chosen, fit, to_image_coordinates
from engine.methods.explanatory_graph._graph import GraphLayer, LayerRecords
from engine.methods.explanatory_graph._parents import displacements, parent_prior, select_parents
from engine.methods.explanatory_graph.result import MONITOR_PUBLISHED
from engine.receptive_field import UnitGrid

_TRIM_EVERY = 8  # batches: 4 % of a conv3 sweep's time on CPU, the heap's growth bounded (engine/heap.py)


@dataclass
class Upper:
    """The layer above, as the one being mined or inferred sees it."""

    layer: GraphLayer
    records: LayerRecords
    moves: torch.Tensor = field(init=False)

    def __post_init__(self) -> None:
        self.moves = displacements(self.records, self.layer.train_mean)


def init_layer(name: str, store: FeatureStore, grid: UnitGrid, density: float,
               sigma_unit: torch.Tensor, config, generator: torch.Generator) -> GraphLayer:
    """P = ⌈n²·density⌉ nodes a filter at distinct random units, σ = init_delta·n (initializeModel)."""
    channels, side, _ = store.shape
    per_filter = min(side * side, math.ceil(side * side * density))
    picks = torch.stack([torch.randperm(side * side, generator=generator)[:per_filter]
                         for _ in range(channels)]).reshape(-1)
    mean_pos = torch.stack([picks // side, picks % side], -1).float()
    sigma = torch.full((channels * per_filter,), config.init_delta * side)
    return GraphLayer(name, side, channels, per_filter, grid, mean_pos, sigma, sigma_unit)


def _prior(layer: GraphLayer, upper: Upper | None, start: int, stop: int, config, device):
    if upper is None or not layer.has_parents:
        return top_prior(stop - start, layer.nodes, layer.side, config).to(device)
    return parent_prior(layer, upper.layer, upper.moves[start:stop]).to(device)


def _sweep(layer: GraphLayer, store: FeatureStore, upper: Upper | None, config, progress, device, executor,
           label: str):
    """One E-step over every image: the records and the summed statistics. Each batch is a piece of
    work of `executor` (here on `device`, or a Ray task), the sums taken here in batch order.
    Node parameters and records stay on the CPU; maps travel compressed until their batch."""
    window = search_window(layer.sigma, layer.side, config)
    batches = [(start, min(start + config.batch_size, len(store))) for start in range(0, len(store), config.batch_size)]
    outs = executor.map(_batch_e_step, batches, progress, fixed=(store, upper, config, device, label),
                        shared=(layer, window))
    records = LayerRecords.empty(len(store), layer.nodes)
    for (start, _), (positions, scores, best, _, _) in zip(batches, outs):
        records.put(start, positions, scores, best)
    totals = tuple(sum(parts) for parts in zip(*(out[3] for out in outs)))
    return records, totals, window, min(out[4] for out in outs)


def _batch_e_step(store: FeatureStore, upper: Upper | None, config, device, label: str, layer: GraphLayer,
                  window, batch: tuple[int, int], progress: Progress):
    """(positions, scores, best, the four summed statistics, the prior's least spread) of one batch."""
    progress.step(0.0, 1.0, label)
    start, stop = batch
    prior = _prior(layer, upper, start, stop, config, device)
    out = e_step(store.get(start, stop, device), layer.mean_pos.to(device), layer.per_filter, window.to(device),
                 prior, config)
    stats = tuple(s.cpu() for s in (out.resp_evidence, out.resp_shift, out.spread_stat, out.score_sum))
    _after_batch(start, config)
    return out.positions.cpu(), out.scores.cpu(), out.best.cpu(), stats, float(prior.spread.min())


def _after_batch(start: int, config) -> None:
    """Every few batches, the heap the E-step's temporaries fragmented goes back (engine/heap.py)."""
    if (start // config.batch_size + 1) % _TRIM_EVERY == 0:
        trim_freed_heap()


def m_step(layer: GraphLayer, totals, window, min_spread: float, iteration: int,
           density: float, config) -> float:
    """Damped mean shift of p̄_V and the σ_V update (updateModel); returns the mean shift."""
    resp_evidence, resp_shift, spread_stat, score_sum = totals
    step = (min_spread / iteration**0.25) ** 2 * config.eta
    shift = step * resp_shift / resp_evidence.clamp_min(1e-8)[:, None]
    old = layer.mean_pos
    layer.mean_pos = (old + shift).clamp(0, layer.side - 1)
    ceiling = layer.side / math.sqrt(density * layer.side**2)      # max_delta·n
    sigma = (spread_stat / score_sum.clamp_min(1e-30)).sqrt() * window.spacing
    sigma = torch.where(score_sum > 0, sigma, layer.sigma)         # a node with no evidence keeps its σ
    layer.sigma = sigma.clamp(ceiling / 10, ceiling)
    return float((layer.mean_pos - old).norm(dim=1).mean())


def mine_layer(layer: GraphLayer, store: FeatureStore, upper: Upper | None, density: float,
               config, progress, device="cpu", orient=None, executor=LOCAL) -> tuple[LayerRecords, list]:
    """EM on one layer; returns its training records and the EM monitor rows. `orient`, given
    the layer's current nodes, returns the maps in each image's chosen orientation (flips)."""
    records, monitor = None, []
    for t in range(1, config.iterations + 1):
        changes = 0.0
        if orient is not None:
            store = orient(layer)
        if upper is not None and t >= 2:
            before = layer.parents
            layer.parents, layer.affinity = select_parents(layer, records, upper.layer, upper.records, config)
            changes = _changed_edges(before, layer.parents)

        sweep = progress.child((t - 1) / config.iterations, t / config.iterations)
        records, totals, window, min_spread = _sweep(layer, store, upper, config, sweep, device, executor,
                                                     f"{layer.name}: EM iteration {t}/{config.iterations}")
        shift = m_step(layer, totals, window, min_spread, t, density, config)
        monitor.append([float(records.scores.mean()), shift, float(layer.sigma.mean()), changes])
        # the EM monitor while mining (§1.12): the rows so far to a live view, the last in the progress line
        progress.publish(MONITOR_PUBLISHED, {"layer": layer.name, "rows": list(monitor),
                                             "iterations": config.iterations})
        progress.step(t * len(store), config.iterations * len(store),
                      f"{layer.name}: EM iteration {t}/{config.iterations} done · mean score {monitor[-1][0]:.3g}"
                      f" · mean shift {shift:.3g} · mean σ {monitor[-1][2]:.3g} · edges changed {int(changes)}")
    layer.score_norm = float(records.scores.mean().clamp_min(1e-30))
    records.scores /= layer.score_norm
    records.best /= layer.score_norm
    layer.train_mean = records.positions.mean(0)
    return records, monitor


def _changed_edges(before: torch.Tensor, after: torch.Tensor) -> float:
    """Edges of `after` that `before` did not have (all of them on the first pick)."""
    if before.shape != after.shape:
        return float(after.numel())
    same = (after[:, :, None] == before[:, None, :]).any(2)
    return float((~same).sum())


def infer_layer(layer: GraphLayer, store: FeatureStore, upper: Upper | None, config,
                progress, device="cpu") -> LayerRecords:
    """§1.6: positions and scores on new images, scores over the training normaliser."""
    window = search_window(layer.sigma, layer.side, config).to(device)
    mean_pos = layer.mean_pos.to(device)
    records = LayerRecords.empty(len(store), layer.nodes)
    for start in range(0, len(store), config.batch_size):
        stop = min(start + config.batch_size, len(store))
        progress.step(start, len(store), f"{layer.name}: inference")
        prior = _prior(layer, upper, start, stop, config, device)
        out = infer(store.get(start, stop, device), mean_pos, layer.per_filter, window, prior, config)
        records.put(start, out.positions.cpu(), out.scores.cpu() / layer.score_norm,
                    out.best.cpu() / layer.score_norm)
        _after_batch(start, config)
    return records


class Orientation:
    """Per image, plain or mirrored (spec §1.5 flips): decided at the top layer, then kept."""

    def __init__(self, stores: dict, mirrored: dict | None, config, device) -> None:
        self.stores, self.mirrored, self.config, self.device = stores, mirrored, config, device
        self.flip = torch.zeros(len(next(iter(stores.values()))), dtype=torch.bool)

    def decide(self, layer: GraphLayer) -> FeatureStore:
        """The top layer's maps, each image in the orientation its current nodes explain better."""
        quiet = Progress()
        plain = infer_layer(layer, self.stores[layer.name], None, self.config, quiet, self.device)
        mirror = infer_layer(layer, self.mirrored[layer.name], None, self.config, quiet, self.device)
        self.flip = fit(mirror.scores) > fit(plain.scores)
        return self.store(layer.name)

    def store(self, name: str) -> FeatureStore:
        if self.mirrored is None:
            return self.stores[name]
        return chosen(self.stores[name], self.mirrored[name], self.flip)

    def out(self, records: dict, graph: dict, width: int) -> dict:
        """Records in the coordinates of the images as they are."""
        return {name: to_image_coordinates(r, self.flip, graph[name].grid, width) for name, r in records.items()}


def mine(stores: dict, grids: dict, sigma_unit: dict, layers: list[str], config, seed: int, progress,
         device="cpu", mirrored: dict | None = None, width: int = 0, executor=LOCAL):
    """The whole graph, top-down; `layers` bottom to top; E-steps on `device` (a piece of work of
    `executor` a batch: engine/distributed.py); with `mirrored`
    maps (of the mirrored images, `width` px wide), each image in its better orientation.
    Returns (graph, records, monitor, flipped) by layer, records in image coordinates."""
    generator = torch.Generator().manual_seed(seed)
    orientation = Orientation(stores, mirrored, config, device)
    graph, records, monitor, upper = {}, {}, {}, None
    for i, layer in enumerate(reversed(layers)):
        side = stores[layer].shape[-1]
        density = config.density(layers.index(layer), side)
        node = init_layer(layer, stores[layer], grids[layer], density, sigma_unit[layer], config, generator)
        part = progress.child(i / len(layers), (i + 1) / len(layers))
        orient = orientation.decide if (mirrored is not None and upper is None) else None
        records[layer], monitor[layer] = mine_layer(node, orientation.store(layer), upper, density, config,
                                                    part, device, orient, executor)
        graph[layer], upper = node, Upper(node, records[layer])
    return graph, orientation.out(records, graph, width), monitor, orientation.flip


def infer_graph(graph: dict, stores: dict, layers: list[str], config, progress, device="cpu",
                mirrored: dict | None = None, width: int = 0) -> dict:
    """§1.6 on new images: every layer top-down, each from its just-inferred parents; with
    `mirrored` maps, each image in the orientation the top layer explains better."""
    orientation = Orientation(stores, mirrored, config, device)
    if mirrored is not None:
        orientation.decide(graph[layers[-1]])
    records, upper = {}, None
    for i, layer in enumerate(reversed(layers)):
        part = progress.child(i / len(layers), (i + 1) / len(layers))
        records[layer] = infer_layer(graph[layer], orientation.store(layer), upper, config, part, device)
        upper = Upper(graph[layer], records[layer])
    return orientation.out(records, graph, width)
