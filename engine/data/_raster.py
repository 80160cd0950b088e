"""Raster primitives for PartWorld: shapes, layout, textures, colour, parts, backgrounds.

Everything works on whole (H, W) coordinate grids, so a part costs a handful of numpy
operations and never a per-pixel Python loop. Pixel (row r, column c) has its centre at
(x=c, y=r): the convention PartWorld's landmarks use.

Every shape is convex and contains its own centre (no rings), so a part's landmark, the
centre of its anchoring shape, always lies on the part.
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SHAPES = ("ellipse", "rect", "triangle", "trapezoid", "half_ellipse")
TEXTURES = ("plain", "stripes", "dots", "noise")

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
    raise ValueError(f"unknown shape {prim.shape!r}; valid: {', '.join(SHAPES)}")


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


# ----------------------------------------------------------------- layout

MAX_TILT = math.radians(25)


@dataclass(frozen=True)
class Shape:
    """A primitive in object units (an object spans about [-0.5, 0.5]); angle in degrees."""

    shape: str
    x: float
    y: float
    a: float
    b: float
    angle: float = 0.0
    taper: float = 1.0


@dataclass(frozen=True)
class PartSpec:
    """A named part: one shape, or a rigid group of shapes (glasses, a hat)."""

    name: str
    shapes: tuple  # of Shape; the first anchors the landmark, the rest move with it


def part(name, shape, x, y, a, b, angle=0.0, taper=1.0) -> PartSpec:
    """A one-shape part (see `Shape` and `Primitive` for the arguments)."""
    return PartSpec(name, (Shape(shape, x, y, a, b, angle, taper),))


@dataclass(frozen=True)
class Pose:
    """How a whole object sits in the image, before translation."""

    angle: float   # radians
    unit: float    # pixels per object unit
    mirror: bool


def sample_pose(rng: np.random.Generator, size: int, base: float, mirror: bool) -> Pose:
    """Tilt within +-MAX_TILT, `base` * size pixels per unit +-20 %, mirrored half the time."""
    angle = rng.uniform(-MAX_TILT, MAX_TILT)
    unit = size * base * rng.uniform(0.8, 1.2)
    return Pose(angle, unit, mirror and rng.random() < 0.5)


def _rotate(x: float, y: float, angle: float) -> tuple[float, float]:
    c, s = math.cos(angle), math.sin(angle)
    return c * x - s * y, s * x + c * y


def place_part(spec: PartSpec, pose: Pose, rng, jitter_px: float) -> list[Primitive]:
    """The part's primitives in pixels around the object origin, jittered as one piece."""
    shift = rng.uniform(-jitter_px, jitter_px, 2)
    grow, turn = rng.uniform(0.92, 1.08), math.radians(rng.uniform(-5, 5))
    anchor, prims = spec.shapes[0], []
    for shape in spec.shapes:
        ox, oy = _rotate((shape.x - anchor.x) * grow, (shape.y - anchor.y) * grow, turn)
        x, y, angle = anchor.x + ox, anchor.y + oy, math.radians(shape.angle) + turn
        if pose.mirror:
            x, angle = -x, -angle  # every shape is symmetric about its own v axis
        px, py = _rotate(x * pose.unit, y * pose.unit, pose.angle)
        prims.append(Primitive(shape.shape, px + shift[0], py + shift[1],
                               shape.a * grow * pose.unit, shape.b * grow * pose.unit,
                               angle + pose.angle, shape.taper))
    return prims


def fit(parts: list[list[Primitive]], rng, size: int) -> tuple[list, float]:
    """Shrink if needed and translate the object to a random place fully in the image."""
    box = np.concatenate([corners(p) for piece in parts for p in piece])
    low, high = box.min(axis=0), box.max(axis=0)
    room = size - 1 - 2.0  # one pixel of margin each side keeps outlines inside
    shrink = min(1.0, room / max(high - low))
    low, high = low * shrink, high * shrink
    tx, ty = rng.uniform(1.0 - low, np.maximum(size - 2.0 - high, 1.0 - low))
    placed = [[Primitive(p.shape, p.cx * shrink + tx, p.cy * shrink + ty, p.a * shrink,
                         p.b * shrink, p.angle, p.taper) for p in piece] for piece in parts]
    return placed, shrink


# ----------------------------------------------------------------- parts and scenes

@dataclass
class Drawn:
    """A part rasterised in its own window of the image (see `region`)."""

    window: tuple[slice, slice]
    xs: np.ndarray
    ys: np.ndarray
    mask: np.ndarray  # window-shaped
    size: int         # of the whole image

    def view(self, image: np.ndarray) -> np.ndarray:
        return image[(slice(None),) + self.window]

    def full_mask(self) -> np.ndarray:
        mask = np.zeros((self.size, self.size), bool)
        mask[self.window] = self.mask
        return mask


def rasterise(prims: list[Primitive], size: int, anchor: bool = True) -> Drawn:
    """The union of the shapes' masks inside their window."""
    window = region(prims, size)
    xs, ys = window_grid(size, window)
    mask = shape_mask(prims[0], xs, ys)
    for prim in prims[1:]:
        mask |= shape_mask(prim, xs, ys)
    if anchor:  # a thin part at a small size can miss the pixel nearest its centre
        row, col = _pixel(prims[0].cy, size), _pixel(prims[0].cx, size)
        mask[row - window[0].start, col - window[1].start] = True
    return Drawn(window, xs, ys, mask, size)


def _pixel(coord: float, size: int) -> int:
    return min(max(int(round(coord)), 0), size - 1)


def background(rng, size: int, clutter: float) -> np.ndarray:
    """Low-frequency colour noise, fine grain, and clutter-scaled small distractors."""
    base = hsv(rng.random(), rng.uniform(0.1, 0.5), rng.uniform(0.35, 0.8))
    image = (base[:, None, None] + 0.4 * (smooth_noise(rng, (size, size), 3, 3) - 0.5)
             + 0.12 * (smooth_noise(rng, (size, size), 12) - 0.5))
    for _ in range(rng.poisson(6.0 * clutter)):
        drawn = rasterise([_distractor(rng, size)], size, anchor=False)
        colour = hsv(rng.random(), rng.uniform(0.2, 0.9), rng.uniform(0.2, 0.95))
        paint(drawn.view(image), drawn.mask, colour)
    return image.astype(np.float32)


def add_grain(rng, image: np.ndarray, amount: float = 0.07) -> np.ndarray:
    """The image with uniform sensor noise (cheaper to draw than Gaussian), clipped to [0, 1]."""
    grain = rng.random(image.shape, dtype=np.float32) - np.float32(0.5)
    return np.clip(image + np.float32(amount) * grain, 0.0, 1.0)


def _distractor(rng, size: int) -> Primitive:
    """A small blob, stroke or speck: smaller than any part, so never mistaken for one."""
    x, y, angle = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(0, math.pi)
    k, kind = size / 96.0, rng.integers(3)
    if kind == 0:
        radius = rng.uniform(1.5, 4.0) * k
        return Primitive("ellipse", x, y, radius, radius * rng.uniform(0.6, 1), angle)
    if kind == 1:
        return Primitive("rect", x, y, rng.uniform(3, 9) * k, rng.uniform(0.6, 1.3) * k, angle)
    return Primitive("triangle", x, y, rng.uniform(2, 4) * k, rng.uniform(3, 5) * k, angle)


def _texture(rng, drawn: Drawn, kind: str) -> np.ndarray | None:
    """A 0..1 texture field over the part's window (None for plain)."""
    period = rng.uniform(4, 10) * drawn.size / 96  # finer stripes at smaller sizes
    angle, phase = rng.uniform(0, math.pi), rng.random()
    if kind == "stripes":
        return stripes(drawn.xs, drawn.ys, period, angle, phase, duty=rng.uniform(0.3, 0.6))
    if kind == "dots":
        return dots(drawn.xs, drawn.ys, period * 1.3, angle, phase, radius=rng.uniform(0.2, 0.35))
    if kind == "noise":
        return smooth_noise(rng, drawn.mask.shape, int(rng.integers(2, 6)))[0]
    return None


def paint_part(image, drawn: Drawn, rng, hue: float, texture: str,
               sat=(0.3, 0.9), val=(0.45, 0.95)) -> None:
    """Textured, shaded fill in two tones of `hue`, with a dark outline."""
    s, v = rng.uniform(*sat), rng.uniform(*val)
    first = hsv(hue, s, v)
    second = hsv(hue + rng.uniform(-0.1, 0.1), s, v * rng.uniform(0.35, 0.65))
    field = _texture(rng, drawn, texture)
    shade = gradient(drawn.xs, drawn.ys, rng.uniform(0, 2 * math.pi), rng.uniform(0.3, 1.0))
    if field is None:
        colour = first[:, None, None] * shade
    else:
        colour = (first[:, None, None] * (1 - field) + second[:, None, None] * field) * shade
    pixels = drawn.view(image)
    paint(pixels, drawn.mask, colour)
    paint(pixels, outline(drawn.mask), first * 0.3)
