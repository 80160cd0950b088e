"""Raster primitives for PartWorld: shape masks, textures, colour and painting.

Everything works on whole (H, W) coordinate grids, so a part costs a handful of numpy
operations and never a per-pixel Python loop. Pixel (row r, column c) has its centre at
(x=c, y=r): the convention PartWorld's landmarks use.

Every shape is convex and contains its own centre (no rings), so a part's landmark, the
centre of its anchoring shape, always lies on the part.
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

SHAPES = ("ellipse", "rect", "triangle", "trapezoid", "half_ellipse")

# The centroid of a half-ellipse of depth b sits 4b/(3*pi) below its flat side.
_HALF_ELLIPSE_CENTROID = 4.0 / (3.0 * math.pi)


@dataclass(frozen=True)
class Primitive:
    """One convex shape in pixel coordinates, centred on its own centroid.

    a, b: half extents along the shape's own axes (u across, v down). For "triangle"
    a is the half base and b the height (apex up); for "trapezoid" the top edge is
    `taper` times as wide as the bottom; "half_ellipse" has a flat top and depth b.
    angle: rotation in radians (positive turns +x towards +y, i.e. clockwise on screen).
    """

    shape: str
    cx: float
    cy: float
    a: float
    b: float
    angle: float = 0.0
    taper: float = 1.0

    def moved(self, dx: float, dy: float) -> "Primitive":
        return replace(self, cx=self.cx + dx, cy=self.cy + dy)


@lru_cache(maxsize=8)
def pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys): float32 (size, size) pixel-centre coordinates, shared read-only."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    xs.flags.writeable = False
    ys.flags.writeable = False
    return xs, ys


def region(prims, size: int) -> tuple[slice, slice]:
    """(rows, cols) window holding the shapes plus a one-pixel rim, clipped to the image.

    Drawing inside the window instead of the whole image is what keeps PartWorld fast;
    the rim leaves room for the outline test at the window's edge.
    """
    box = np.concatenate([corners(p) for p in prims])
    x0, y0 = np.maximum(np.floor(box.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(box.max(axis=0)).astype(int) + 2, size)
    return slice(y0, max(y1, y0 + 1)), slice(x0, max(x1, x0 + 1))


def window_grid(size: int, window: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
    """The pixel-centre coordinates inside `window` (views, no copy)."""
    xs, ys = pixel_grid(size)
    return xs[window], ys[window]


def _local_coords(prim: Primitive, xs: np.ndarray, ys: np.ndarray):
    """Pixel grid in the shape's own frame (u across, v down), origin at its centre."""
    dx, dy = xs - np.float32(prim.cx), ys - np.float32(prim.cy)
    c, s = np.float32(math.cos(prim.angle)), np.float32(math.sin(prim.angle))
    return c * dx + s * dy, c * dy - s * dx


def shape_mask(prim: Primitive, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Bool mask, shaped like the grid (xs, ys), of pixel centres inside the shape."""
    u, v = _local_coords(prim, xs, ys)
    a, b = max(prim.a, 1e-3), max(prim.b, 1e-3)
    if prim.shape == "ellipse":
        return (u / a) ** 2 + (v / b) ** 2 <= 1.0
    if prim.shape == "rect":
        return (np.abs(u) <= a) & (np.abs(v) <= b)
    if prim.shape == "triangle":  # apex (0, -2b/3), base corners (+-a, b/3)
        depth = v + 2.0 * b / 3.0
        return (v <= b / 3.0) & (np.abs(u) * b <= a * depth)
    if prim.shape == "trapezoid":
        half_width = a * (prim.taper + (1.0 - prim.taper) * (v + b) / (2.0 * b))
        return (np.abs(v) <= b) & (np.abs(u) <= half_width)
    if prim.shape == "half_ellipse":
        w = v + _HALF_ELLIPSE_CENTROID * b  # distance below the flat top
        return (w >= 0) & ((u / a) ** 2 + (w / b) ** 2 <= 1.0)
    raise ValueError(f"unknown shape {prim.shape!r}")


def _local_box(prim: Primitive) -> tuple[float, float, float, float]:
    """(u0, u1, v0, v1): the shape's bounding box in its own frame."""
    if prim.shape == "triangle":
        return -prim.a, prim.a, -2.0 * prim.b / 3.0, prim.b / 3.0
    if prim.shape == "half_ellipse":
        top = -_HALF_ELLIPSE_CENTROID * prim.b
        return -prim.a, prim.a, top, top + prim.b
    return -prim.a, prim.a, -prim.b, prim.b


def corners(prim: Primitive) -> np.ndarray:
    """(4, 2) pixel corners of a box that contains the shape (for fitting in the image)."""
    u0, u1, v0, v1 = _local_box(prim)
    local = np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]])
    c, s = math.cos(prim.angle), math.sin(prim.angle)
    rot = np.array([[c, -s], [s, c]])
    return local @ rot.T + np.array([prim.cx, prim.cy])


def outline(mask: np.ndarray) -> np.ndarray:
    """The mask's boundary pixels: those with a 4-neighbour outside the mask."""
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    return mask & ~inner


def stripes(xs, ys, period: float, angle: float, phase: float,
            duty: float = 0.5) -> np.ndarray:
    """Float32 0/1 parallel stripes `period` pixels apart over the grid (xs, ys)."""
    t = (xs * math.cos(angle) + ys * math.sin(angle)) / period + phase
    return ((t - np.floor(t)) < duty).astype(np.float32)


def dots(xs, ys, period: float, angle: float, phase: float,
         radius: float = 0.3) -> np.ndarray:
    """Float32 0/1 lattice of round dots `period` pixels apart (radius in periods)."""
    c, s = math.cos(angle), math.sin(angle)
    p = (xs * c + ys * s) / period + phase
    q = (ys * c - xs * s) / period + phase
    p, q = p - np.round(p), q - np.round(q)
    return (p * p + q * q < radius * radius).astype(np.float32)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int,
                 channels: int = 1) -> np.ndarray:
    """(channels, h, w) float32 smooth noise in [0, 1] interpolated from a coarse grid."""
    grid = rng.random((channels, cells + 1, cells + 1), dtype=np.float32)
    ry, wy = _interpolation(shape[0], cells)
    rx, wx = _interpolation(shape[1], cells)
    rows = grid[:, ry, :] * (1.0 - wy)[None, :, None] + grid[:, ry + 1, :] * wy[None, :, None]
    return rows[:, :, rx] * (1.0 - wx) + rows[:, :, rx + 1] * wx


def _interpolation(length: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower grid index and smoothstep weight for each of `length` samples."""
    pos = np.linspace(0.0, cells, length, dtype=np.float32)
    index = np.minimum(pos.astype(np.int64), cells - 1)
    w = pos - index
    return index, w * w * (3.0 - 2.0 * w)  # smoothstep hides the grid's creases


def hsv(h: float, s: float, v: float) -> np.ndarray:
    """A float32 RGB triple from hue (wraps), saturation and value in [0, 1]."""
    return np.array(colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0),
                                        min(max(v, 0.0), 1.0)), dtype=np.float32)


def gradient(xs, ys, angle: float, strength: float) -> np.ndarray:
    """Float32 brightness factor that varies by +-strength/2 per 100 px: shading."""
    t = (xs * math.cos(angle) + ys * math.sin(angle)) * np.float32(0.01)
    return 1.0 + np.float32(strength) * (t - t.mean())


def paint(image: np.ndarray, mask: np.ndarray, colour: np.ndarray,
          alpha: float = 1.0) -> None:
    """Blend `colour` ((3,) or (3, h, w)) into `image` (3, h, w) where mask is set.

    `image` is usually a view of a window of the whole picture, `mask` that window's.
    """
    colour = np.asarray(colour, dtype=np.float32)
    if colour.ndim == 1:
        colour = colour[:, None, None]
    if alpha >= 1.0:
        np.copyto(image, np.broadcast_to(colour, image.shape), where=mask[None])
        return
    blended = image * np.float32(1.0 - alpha) + colour * np.float32(alpha)
    np.copyto(image, blended, where=mask[None])
