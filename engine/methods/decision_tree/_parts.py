"""The filter→part assignment A of §4.1: each filter's part by majority vote of its peaks."""
from __future__ import annotations

import numpy as np

from engine.methods.explanatory_graph._metrics import filter_peaks
from engine.receptive_field import UnitGrid, unit_grid

NO_PART = "(no part)"


def peak_votes(maps: np.ndarray, part_masks: np.ndarray, grid: UnitGrid) -> np.ndarray:
    """(D,K) how many images put filter d's peak unit's RF centre (§0.2) inside part k's mask."""
    peaks, maxima = filter_peaks(maps)  # (N,D,2) the (row, col) unit, (N,D) its value
    pixels = np.clip(np.round(grid.to_pixels(peaks)).astype(int), 0, np.array(part_masks.shape[2:]) - 1)
    inside = part_masks[np.arange(len(maps))[:, None], :, pixels[..., 0], pixels[..., 1]]  # (N,D,K)
    fired = maxima > 0  # a silent filter has no peak to vote with
    return (inside & fired[:, :, None]).sum(0)


def assignment(model, layer: str, maps: np.ndarray, part_masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A (K+1,D) 0/1, each filter's part index): the part holding most of its peaks over the
    positives; filters whose peaks fall on no part form the last group, NO_PART [ours]."""
    grid = unit_grid(model.module, layer, part_masks.shape[-1])
    votes = peak_votes(maps, part_masks, grid)
    best = votes.argmax(1) if votes.shape[1] else np.zeros(len(votes), np.int64)  # a category without parts
    part = np.where(votes.sum(1) > 0, best, votes.shape[1])
    a = np.zeros((votes.shape[1] + 1, len(part)), np.float64)
    a[part, np.arange(len(part))] = 1.0
    return a, part
