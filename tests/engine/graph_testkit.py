"""Hand-made feature maps with known parts, for the explanatory graph (verification §7.1)."""
from __future__ import annotations

import numpy as np
import torch

from engine.methods.explanatory_graph._em import mine
from engine.methods.explanatory_graph._features import FeatureStore
from engine.methods.explanatory_graph.config import ExplanatoryGraphConfig
from engine.jobs import Progress
from engine.receptive_field import UnitGrid


def blob(side: int, centre, width: float = 0.7) -> np.ndarray:
    """A Gaussian bump (side, side) at `centre` (h, w), peak 1."""
    h, w = np.mgrid[0:side, 0:side]
    return np.exp(-((h - centre[0]) ** 2 + (w - centre[1]) ** 2) / (2 * width**2))


def part_tracks(images: int, homes, jitter: float, seed: int) -> np.ndarray:
    """(images, parts, 2) positions: each part jittered around its home, independently."""
    rng = np.random.default_rng(seed)
    homes = np.asarray(homes, dtype=float)
    return homes[None] + rng.uniform(-jitter, jitter, (images, len(homes), 2))


def maps_of(tracks: np.ndarray, filters: list[list[int]], side: int, scale: float = 1.0,
            noise: float = 0.02, seed: int = 0) -> torch.Tensor:
    """(N, C, side, side) maps: filter c fires on the parts `filters[c]` at tracks/scale."""
    rng = np.random.default_rng(seed)
    out = rng.uniform(0, noise, (len(tracks), len(filters), side, side))
    for i, parts in enumerate(tracks):
        for c, owned in enumerate(filters):
            for p in owned:
                out[i, c] += blob(side, parts[p] / scale)
    return torch.tensor(out, dtype=torch.float32)


def mine_maps(layers: dict[str, torch.Tensor], strides: dict[str, float], seed: int = 0, **settings):
    """Mine a graph on given maps (no flips); `layers` bottom to top. Returns (graph, records, monitor)."""
    config = ExplanatoryGraphConfig(**settings)
    names = list(layers)
    stores = {name: FeatureStore.of(maps) for name, maps in layers.items()}
    grids = {name: UnitGrid((strides[name] - 1) / 2, strides[name]) for name in names}
    sigma = {name: torch.ones(maps.shape[1:]) for name, maps in layers.items()}
    return mine(stores, grids, sigma, names, config, seed, Progress())[:3]
