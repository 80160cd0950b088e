"""Pieces every renderer uses: a figure of a grid, an image with a map overlaid."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def grid_figure(rows: int, cols: int, cell: float = 1.3, title: str = "") -> tuple[Figure, np.ndarray]:
    figure = Figure(figsize=(cols * cell + 0.4, rows * cell + (0.4 if title else 0.1)), layout="constrained")
    axes = np.atleast_2d(figure.subplots(rows, cols, squeeze=False))
    for ax in axes.ravel():
        ax.set_axis_off()
    if title:
        figure.suptitle(title, fontsize=9)
    return figure, axes


def show_image(ax, image_chw: np.ndarray) -> None:
    ax.imshow(np.clip(image_chw.transpose(1, 2, 0), 0, 1), interpolation="nearest")


def overlay(ax, image_chw: np.ndarray, heat: np.ndarray, cmap: str = "inferno",
            limits: tuple | None = None, alpha: float = 0.6):
    """The image in grey with `heat` stretched over its full extent (nearest cells, no blur)."""
    grey = image_chw.mean(0)
    h, w = grey.shape
    ax.imshow(grey, cmap="gray", vmin=0, vmax=1, extent=(0, w, h, 0))
    lo, hi = limits if limits else (float(np.min(heat)), float(np.max(heat)) or 1.0)
    return ax.imshow(heat, cmap=cmap, vmin=lo, vmax=hi, alpha=alpha, extent=(0, w, h, 0),
                     interpolation="nearest")
