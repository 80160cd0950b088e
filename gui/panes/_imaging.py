"""Numpy imaging for panes: colour maps as lookup tables, maps laid over images, mosaics."""
from __future__ import annotations

import matplotlib
import numpy as np

COLORMAPS = ("inferno", "viridis", "magma", "gray", "RdBu_r")


def lut(name: str) -> np.ndarray:
    """(256, 3) uint8: the same colours as the exported matplotlib figure."""
    return (matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)


def colorize(values: np.ndarray, table: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(..., 3) uint8 colours of `values` clipped to [lo, hi]."""
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    index = np.clip((values - lo) * scale, 0, 255).astype(np.uint8)
    return table[index]


def upsample(heat: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-cell enlargement of a (h, w) map to `shape` (each cell a block of pixels)."""
    rows = (np.arange(shape[0]) * heat.shape[0]) // shape[0]
    cols = (np.arange(shape[1]) * heat.shape[1]) // shape[1]
    return heat[rows[:, None], cols[None, :]]


def overlay(image_chw: np.ndarray, heat: np.ndarray, table: np.ndarray, lo: float, hi: float,
            alpha: float = 0.6) -> np.ndarray:
    """(H, W, 3) uint8: the image in grey under the coloured map, as the figure draws it."""
    grey = np.clip(image_chw.mean(0), 0, 1)[..., None] * 255.0
    colours = colorize(upsample(heat, grey.shape[:2]), table, lo, hi).astype(np.float32)
    return (alpha * colours + (1 - alpha) * grey).astype(np.uint8)


def mosaic(tiles: np.ndarray, gap: int = 1, fill: float = np.nan) -> np.ndarray:
    """(R, C, h, w[, 3]) tiles → one (R·(h+gap)−gap, C·(w+gap)−gap[, 3]) array."""
    r, c, h, w = tiles.shape[:4]
    out = np.full((r * (h + gap) - gap, c * (w + gap) - gap) + tiles.shape[4:], fill,
                  dtype=np.float32 if np.isnan(fill) else tiles.dtype)
    for i in range(r):
        for j in range(c):
            out[i * (h + gap): i * (h + gap) + h, j * (w + gap): j * (w + gap) + w] = tiles[i, j]
    return out
