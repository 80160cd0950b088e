"""Where the graph's pieces are drawn and cut out: the figure and the graph_browser pane share it.

spec: explanatory-graph §1.12: one band per conv layer, nodes grouped by filter; node
size by mean score; patches of a node's top images around its inferred position.
"""
from __future__ import annotations

import numpy as np

PATCH_SHARE = 0.3  # patch side / image side: the paper's 70 px on 224 px crops


def node_xy(layers: list[str], geometry: dict) -> dict[str, np.ndarray]:
    """Per layer (bottom to top), (K,2) drawing coordinates: x in [0, 1) by filter then node, y = band."""
    out = {}
    for band, layer in enumerate(layers):
        g = geometry[layer]
        k = np.arange(g["channels"] * g["per_filter"])
        x = (k // g["per_filter"] + (k % g["per_filter"] + 0.5) / g["per_filter"]) / g["channels"]
        out[layer] = np.stack([x, np.full(len(k), float(band))], 1)
    return out


def strongest(scores: np.ndarray, count: int) -> np.ndarray:
    """The `count` nodes (columns of scores (N,K)) with the largest mean score."""
    return np.argsort(-scores.mean(0), kind="stable")[:count]


def pixel_xy(positions: np.ndarray, centre: float, stride: float) -> np.ndarray:
    """(…,2) unit positions (h, w) → pixel (x, y), the landmarks' order (§0.2)."""
    pixels = centre + stride * np.asarray(positions, dtype=np.float64)
    return pixels[..., ::-1]


def patch(image: np.ndarray, centre_xy, share: float = PATCH_SHARE) -> np.ndarray:
    """A square (3,s,s) crop of `image` (3,H,W) around `centre_xy`, zero-padded at the border."""
    side = max(4, int(round(share * image.shape[-1])))
    half = side // 2
    padded = np.pad(image, ((0, 0), (half, half), (half, half)))
    x, y = (int(round(v)) for v in centre_xy)
    x, y = np.clip(x, 0, image.shape[-1] - 1), np.clip(y, 0, image.shape[-2] - 1)
    return padded[:, y:y + side, x:x + side]


def top_images(scores: np.ndarray, node: int, count: int) -> np.ndarray:
    """The `count` images on which `node` scores highest, best first."""
    return np.argsort(-scores[:, node], kind="stable")[:count]
