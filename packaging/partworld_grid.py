"""Render the README's PartWorld sample grid: `python packaging/partworld_grid.py docs/partworld.png`."""
from __future__ import annotations

import sys

import numpy as np
from matplotlib.figure import Figure

from engine.data import load_data


def main(out: str) -> None:
    objects = load_data("demo:partworld?n=20&seed=0")
    faces = load_data("demo:partworld?n=6&seed=0&family=faces&cooccur=lipstick:rosy_cheeks:0.95")
    figure = Figure(figsize=(13, 4.4))
    axes = figure.subplots(3, 10)
    tiles = [(objects, i) for i in range(20)] + [(faces, i) for i in range(6)]
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (data, i) in zip(axes.ravel(), tiles):
        ax.imshow(data.images[i].transpose(1, 2, 0))
        present = ~np.isnan(data.landmarks[i, :, 0])
        ax.scatter(*data.landmarks[i, present].T, s=6, c="yellow", edgecolors="black", linewidths=0.3)
        ax.set_title(data.class_names[data.labels[i]], fontsize=8)
    figure.savefig(out, dpi=80, bbox_inches="tight")


if __name__ == "__main__":
    main(sys.argv[1])
