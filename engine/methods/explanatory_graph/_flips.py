"""Mirrored images: a side view facing left is the same part pattern as one facing right.

spec: explanatory-graph §1.5 flip handling, with P1 fixed: the *image* is mirrored (the
release mirrored nothing) and positions found on it are mirrored back. Per image, the
top layer picks the orientation its nodes explain better (the larger Σ_V log S_V), lower
layers follow that choice, and the graph is learned in those canonical orientations;
records leave in the coordinates of the images as they are.
"""
from __future__ import annotations

import torch

from engine.methods.explanatory_graph._features import FeatureStore
from engine.methods.explanatory_graph._graph import LayerRecords


def fit(scores: torch.Tensor) -> torch.Tensor:
    """Per image, how well the nodes explain it: Σ_V log S_V, (N,K) → (N,)."""
    return scores.clamp_min(1e-12).log().sum(1)


def chosen(plain: FeatureStore, mirrored: FeatureStore, flip: torch.Tensor) -> FeatureStore:
    """Each image's maps in its chosen orientation."""
    return FeatureStore(torch.where(flip[:, None, None, None], mirrored.codes, plain.codes),
                        torch.where(flip[:, None], mirrored.scales, plain.scales))


def unmirror_columns(columns: torch.Tensor, grid, width: int) -> torch.Tensor:
    """Unit columns found on a mirrored image, as columns of the image itself: pixel x on the
    mirror is width − 1 − x here, and x = centre + stride·w."""
    return (width - 1 - 2 * grid.centre) / grid.stride - columns


def to_image_coordinates(records: LayerRecords, flip: torch.Tensor, grid, width: int) -> LayerRecords:
    positions = records.positions.clone()
    positions[flip, :, 1] = unmirror_columns(positions[flip, :, 1], grid, width)
    return LayerRecords(positions, records.scores, records.best)
