"""PartWorld: synthetic images whose parts, landmarks and attributes are known exactly.

The ground truth every analysis method is checked on. Two families:

* "objects": five classes (CLASS_NAMES), each assembled from 4-6 named convex parts
  (see `_CLASS_PARTS`), with random pose (rotation +-25 deg, scale +-20 %, translation
  keeping the object inside the image, mirroring for the side-view car and animal),
  per-part jitter, random colours and textures (hues are drawn the same way for every
  class, so colour never gives the class away), on a cluttered textured background.
  label = class index; image i has class i % 5, so every prefix is balanced.
* "faces": a face oval with eyes, nose, mouth and cheeks, plus a hat and glasses when
  those attributes are on. class_names = ["no_smile", "smile"], label = the smile
  attribute. FACE_ATTRIBUTES are each present with probability 0.5, independently,
  except pairs planted with `cooccur=((a, b, rate), ...)`: then
  P(b | a present) = rate and P(b | a absent) = 1 - rate, so b keeps its 0.5 marginal
  and agrees with a in a fraction `rate` of images.

Determinism: image i draws everything from its own generator, seeded with
SeedSequence(seed, spawn_key=(i,)), so the same options give bit-identical arrays and
image i does not depend on n.

Geometry: part_names is the global vocabulary "class/part". A landmark is the centre of
the part's anchoring shape after pose and jitter, in pixels (x, y) with pixel (row r,
column c) centred at (x=c, y=r); NaN when the image lacks the part. Part masks are
amodal (an occluded part keeps its whole shape); foreground is their union.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.data import _raster as r
from engine.data.types import ImageDataset
from engine.errors import BadInput, choices


@dataclass(frozen=True)
class PartWorldOptions:
    n: int = 200            # number of images
    seed: int = 0
    size: int = 96          # image side in pixels
    family: str = "objects"  # "objects" or "faces"
    cooccur: tuple = ()     # tuple of (attr_a, attr_b, rate), faces family only
    clutter: float = 1.0    # amount of background clutter, 0 = plain textured background


@dataclass(frozen=True)
class _Shape:
    """A primitive in object units (an object spans about [-0.5, 0.5]); angle in degrees."""

    shape: str
    x: float
    y: float
    a: float
    b: float
    angle: float = 0.0
    taper: float = 1.0


@dataclass(frozen=True)
class _PartSpec:
    name: str
    shapes: tuple  # of _Shape; the first anchors the landmark, the rest move with it


def _part(name, shape, x, y, a, b, angle=0.0, taper=1.0) -> _PartSpec:
    return _PartSpec(name, (_Shape(shape, x, y, a, b, angle, taper),))


# Parts in drawing order (later parts cover earlier ones). Cars and animals face +x.
_CLASS_PARTS = {
    "car": (_part("body", "rect", 0, 0.06, 0.5, 0.14),
            _part("cabin", "trapezoid", -0.04, -0.18, 0.3, 0.11, taper=0.6),
            _part("wheel_front", "ellipse", 0.3, 0.22, 0.13, 0.13),
            _part("wheel_back", "ellipse", -0.3, 0.22, 0.13, 0.13)),
    "house": (_part("wall", "rect", 0, 0.14, 0.36, 0.3),
              _part("roof", "triangle", 0, -0.28, 0.48, 0.36),
              _part("door", "rect", 0.14, 0.3, 0.08, 0.14),
              _part("window", "rect", -0.16, 0.06, 0.09, 0.08)),
    "animal": (_part("tail", "rect", -0.39, -0.075, 0.13, 0.035, angle=35),
               _part("leg_front", "rect", 0.18, 0.25, 0.045, 0.16),
               _part("leg_back", "rect", -0.18, 0.25, 0.045, 0.16),
               _part("torso", "ellipse", 0, 0, 0.3, 0.15),
               _part("head", "ellipse", 0.36, -0.17, 0.12, 0.1)),
    "flower": (_part("stem", "rect", 0, 0.2, 0.035, 0.28),
               _part("leaf", "ellipse", 0.12, 0.25, 0.12, 0.05, angle=-30),
               _part("petal_top", "ellipse", 0, -0.38, 0.09, 0.13),
               _part("petal_left", "ellipse", -0.2, -0.18, 0.13, 0.09),
               _part("petal_right", "ellipse", 0.2, -0.18, 0.13, 0.09),
               _part("center", "ellipse", 0, -0.18, 0.11, 0.11)),
    "robot": (_part("arm_left", "rect", -0.29, 0.1, 0.05, 0.2),
              _part("arm_right", "rect", 0.29, 0.1, 0.05, 0.2),
              _part("torso", "rect", 0, 0.17, 0.21, 0.27),
              _part("head", "rect", 0, -0.23, 0.14, 0.11),
              _part("antenna", "triangle", 0, -0.385, 0.06, 0.12)),
}
_MIRRORED = {"car", "animal"}  # side views: facing left or right is still the class
CLASS_NAMES: list[str] = list(_CLASS_PARTS)
_OBJECT_ATTRIBUTES = ["large", "striped", "dotted"]

FACE_ATTRIBUTES: list[str] = ["lipstick", "rosy_cheeks", "glasses", "hat", "smile",
                              "big_eyes", "eyebrows"]
_FACE_PARTS = ["face", "eye_left", "eye_right", "nose", "mouth", "cheek_left",
               "cheek_right", "glasses", "hat"]

_OPTION_KEYS = ("n", "seed", "size", "family", "cooccur", "clutter")
_FAMILIES = ("objects", "faces")
_TEXTURES = ("plain", "stripes", "dots", "noise")
_MAX_TILT = math.radians(25)


# ----------------------------------------------------------------- options

def parse_options(query: dict[str, str]) -> PartWorldOptions:
    """Options from a spec query, e.g. {"n": "16", "cooccur": "lipstick:rosy_cheeks:0.95"}."""
    unknown = [key for key in query if key not in _OPTION_KEYS]
    if unknown:
        raise BadInput(f"unknown PartWorld option {unknown[0]!r}; "
                       f"valid options: {choices(_OPTION_KEYS)}")
    fields = {}
    for key, text in query.items():
        text = str(text).strip()
        if key in ("n", "seed", "size"):
            fields[key] = _number(key, text, int)
        elif key == "clutter":
            fields[key] = _number(key, text, float)
        elif key == "cooccur":
            fields[key] = _parse_cooccur(text)
        else:
            fields[key] = text
    options = PartWorldOptions(**fields)
    _check(options)
    return options


def _number(key: str, text: str, kind: type):
    try:
        return kind(text)
    except ValueError:
        raise BadInput(f"PartWorld option {key}={text!r} is not a"
                       f"{'n integer' if kind is int else ' number'}") from None


def _parse_cooccur(text: str) -> tuple:
    pairs = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        bits = item.split(":")
        if len(bits) != 3:
            raise BadInput(f"PartWorld cooccur item {item!r} must be attr_a:attr_b:rate; "
                           f"attributes: {choices(FACE_ATTRIBUTES)}")
        pairs.append((bits[0].strip(), bits[1].strip(), _number("cooccur rate", bits[2], float)))
    return tuple(pairs)


def _check(options: PartWorldOptions) -> None:
    """Raise BadInput, in one line, for options PartWorld cannot honour."""
    bounds = {"n": (1, 1_000_000), "seed": (0, 2**63 - 1), "size": (32, 1024)}
    for key, (low, high) in bounds.items():
        value = getattr(options, key)
        if not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise BadInput(f"PartWorld option {key}={value!r} must be an integer in [{low}, {high}]")
    if options.family not in _FAMILIES:
        raise BadInput(f"PartWorld family {options.family!r} is not one of {choices(_FAMILIES)}")
    if not 0.0 <= options.clutter <= 10.0:
        raise BadInput(f"PartWorld option clutter={options.clutter!r} must be in [0, 10]")
    if options.cooccur and options.family != "faces":
        raise BadInput("PartWorld option cooccur needs family=faces")
    _cooccur_order(options.cooccur)


def _cooccur_order(pairs) -> list[tuple[int, int, float]]:
    """Planted pairs as attribute indices, ordered so each source is final before use."""
    indexed = []
    for a, b, rate in pairs:
        for name in (a, b):
            if name not in FACE_ATTRIBUTES:
                raise BadInput(f"PartWorld cooccur attribute {name!r} is not one of "
                               f"{choices(FACE_ATTRIBUTES)}")
        if a == b or not 0.0 <= float(rate) <= 1.0:
            raise BadInput(f"PartWorld cooccur {a}:{b}:{rate} needs two different "
                           f"attributes and a rate in [0, 1]")
        indexed.append((FACE_ATTRIBUTES.index(a), FACE_ATTRIBUTES.index(b), float(rate)))
    targets = [b for _, b, _ in indexed]
    if len(set(targets)) < len(targets):
        raise BadInput("PartWorld cooccur plants the same attribute twice as attr_b")
    ordered, pending = [], list(indexed)
    while pending:
        ready = [p for p in pending if p[0] not in {q[1] for q in pending}]
        if not ready:
            raise BadInput("PartWorld cooccur pairs form a cycle")
        ordered += ready
        pending = [p for p in pending if p not in ready]
    return ordered


# ----------------------------------------------------------------- geometry

@dataclass(frozen=True)
class _Pose:
    angle: float   # radians
    unit: float    # pixels per object unit
    mirror: bool


def _sample_pose(rng: np.random.Generator, size: int, base: float, mirror: bool) -> _Pose:
    angle = rng.uniform(-_MAX_TILT, _MAX_TILT)
    unit = size * base * rng.uniform(0.8, 1.2)
    return _Pose(angle, unit, mirror and rng.random() < 0.5)


def _rotate(x: float, y: float, angle: float) -> tuple[float, float]:
    c, s = math.cos(angle), math.sin(angle)
    return c * x - s * y, s * x + c * y


def _place_part(spec: _PartSpec, pose: _Pose, rng, jitter_px: float) -> list[r.Primitive]:
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
        prims.append(r.Primitive(shape.shape, px + shift[0], py + shift[1],
                                 shape.a * grow * pose.unit, shape.b * grow * pose.unit,
                                 angle + pose.angle, shape.taper))
    return prims


def _fit(parts: list[list[r.Primitive]], rng, size: int) -> tuple[list, float]:
    """Shrink if needed and translate the object to a random place fully in the image."""
    box = np.concatenate([r.corners(p) for part in parts for p in part])
    low, high = box.min(axis=0), box.max(axis=0)
    room = size - 1 - 2.0  # one pixel of margin each side keeps outlines inside
    shrink = min(1.0, room / max(high - low))
    low, high = low * shrink, high * shrink
    tx, ty = rng.uniform(1.0 - low, np.maximum(size - 2.0 - high, 1.0 - low))
    placed = [[r.Primitive(p.shape, p.cx * shrink + tx, p.cy * shrink + ty, p.a * shrink,
                           p.b * shrink, p.angle, p.taper) for p in part] for part in parts]
    return placed, shrink


@dataclass
class _Drawn:
    """A part rasterised in its own window of the image (see `_raster.region`)."""

    window: tuple[slice, slice]
    xs: np.ndarray
    ys: np.ndarray
    mask: np.ndarray  # window-shaped
    size: int         # of the whole image

    def view(self, image: np.ndarray) -> np.ndarray:
        return image[(slice(None),) + self.window]

    def full_mask(self, size: int) -> np.ndarray:
        mask = np.zeros((size, size), bool)
        mask[self.window] = self.mask
        return mask


def _rasterise(prims: list[r.Primitive], size: int, anchor: bool = True) -> _Drawn:
    """The union of the shapes' masks inside their window."""
    window = r.region(prims, size)
    xs, ys = r.window_grid(size, window)
    mask = r.shape_mask(prims[0], xs, ys)
    for prim in prims[1:]:
        mask |= r.shape_mask(prim, xs, ys)
    if anchor:  # a thin part at a small size can miss the pixel nearest its centre
        row, col = _pixel(prims[0].cy, size), _pixel(prims[0].cx, size)
        mask[row - window[0].start, col - window[1].start] = True
    return _Drawn(window, xs, ys, mask, size)


def _pixel(coord: float, size: int) -> int:
    return min(max(int(round(coord)), 0), size - 1)


# ----------------------------------------------------------------- painting

def _background(rng, size: int, clutter: float) -> np.ndarray:
    """Low-frequency colour noise, fine grain, and clutter-scaled small distractors."""
    base = r.hsv(rng.random(), rng.uniform(0.1, 0.5), rng.uniform(0.35, 0.8))
    image = (base[:, None, None] + 0.4 * (r.smooth_noise(rng, (size, size), 3, 3) - 0.5)
             + 0.12 * (r.smooth_noise(rng, (size, size), 12) - 0.5))
    for _ in range(rng.poisson(6.0 * clutter)):
        drawn = _rasterise([_distractor(rng, size)], size, anchor=False)
        colour = r.hsv(rng.random(), rng.uniform(0.2, 0.9), rng.uniform(0.2, 0.95))
        r.paint(drawn.view(image), drawn.mask, colour)
    return image.astype(np.float32)


def _distractor(rng, size: int) -> r.Primitive:
    """A small blob, stroke or speck: smaller than any part, so never mistaken for one."""
    x, y, angle = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(0, math.pi)
    k, kind = size / 96.0, rng.integers(3)
    if kind == 0:
        radius = rng.uniform(1.5, 4.0) * k
        return r.Primitive("ellipse", x, y, radius, radius * rng.uniform(0.6, 1), angle)
    if kind == 1:
        return r.Primitive("rect", x, y, rng.uniform(3, 9) * k, rng.uniform(0.6, 1.3) * k, angle)
    return r.Primitive("triangle", x, y, rng.uniform(2, 4) * k, rng.uniform(3, 5) * k, angle)


def _texture(rng, drawn: _Drawn, kind: str) -> np.ndarray | None:
    """A 0..1 texture field over the part's window (None for plain)."""
    period = rng.uniform(4, 10) * drawn.size / 96  # finer stripes at smaller sizes
    angle, phase = rng.uniform(0, math.pi), rng.random()
    if kind == "stripes":
        return r.stripes(drawn.xs, drawn.ys, period, angle, phase, duty=rng.uniform(0.3, 0.6))
    if kind == "dots":
        return r.dots(drawn.xs, drawn.ys, period * 1.3, angle, phase, radius=rng.uniform(0.2, 0.35))
    if kind == "noise":
        return r.smooth_noise(rng, drawn.mask.shape, int(rng.integers(2, 6)))[0]
    return None


def _paint_part(image, drawn: _Drawn, rng, hue: float, texture: str,
                sat=(0.3, 0.9), val=(0.45, 0.95)) -> None:
    """Textured, shaded fill in two tones of `hue`, with a dark outline."""
    s, v = rng.uniform(*sat), rng.uniform(*val)
    first = r.hsv(hue, s, v)
    second = r.hsv(hue + rng.uniform(-0.1, 0.1), s, v * rng.uniform(0.35, 0.65))
    field = _texture(rng, drawn, texture)
    shade = r.gradient(drawn.xs, drawn.ys, rng.uniform(0, 2 * math.pi), rng.uniform(0.3, 1.0))
    if field is None:
        colour = first[:, None, None] * shade
    else:
        colour = (first[:, None, None] * (1 - field) + second[:, None, None] * field) * shade
    region = drawn.view(image)
    r.paint(region, drawn.mask, colour)
    r.paint(region, r.outline(drawn.mask), first * 0.3)


# ----------------------------------------------------------------- families

@dataclass
class _Sample:
    image: np.ndarray
    label: int
    attributes: list[bool]
    parts: dict  # global part index -> (mask, (x, y))


def _record(parts: dict, index: int, prims: list[r.Primitive], size: int) -> _Drawn:
    """Rasterise a part and keep its ground truth: full mask and landmark."""
    drawn = _rasterise(prims, size)
    parts[index] = (drawn.full_mask(size), (prims[0].cx, prims[0].cy))
    return drawn


def _render_object(rng, i: int, options: PartWorldOptions, offsets: dict) -> _Sample:
    """Image i of the objects family: class i % len(CLASS_NAMES)."""
    size, label = options.size, i % len(CLASS_NAMES)
    name = CLASS_NAMES[label]
    image = _background(rng, size, options.clutter)
    pose = _sample_pose(rng, size, 0.58, name in _MIRRORED)
    specs = _CLASS_PARTS[name]
    placed, shrink = _fit([_place_part(s, pose, rng, 2 * size / 96) for s in specs], rng, size)
    hue, parts = rng.random(), {}
    textures = [_TEXTURES[k] for k in rng.choice(4, len(specs), p=[0.4, 0.3, 0.15, 0.15])]
    for j, prims in enumerate(placed):
        drawn = _record(parts, offsets[name] + j, prims, size)
        # Part hues relate to one random object hue, the same way for every class.
        part_hue = hue + (0.0, 0.5, 0.33, -0.33)[rng.integers(4)] + rng.uniform(-0.06, 0.06)
        _paint_part(image, drawn, rng, part_hue, textures[j])
    large = pose.unit * shrink > size * 0.58
    return _Sample(image, label, [large, textures[0] == "stripes", textures[0] == "dots"], parts)


def _sample_attributes(rng, pairs) -> dict[str, bool]:
    """Independent fair coins, then each planted b follows its a (see module docstring)."""
    draws = rng.random(len(FACE_ATTRIBUTES))
    present = draws < 0.5
    for a, b, rate in pairs:
        present[b] = draws[b] < (rate if present[a] else 1.0 - rate)
    return dict(zip(FACE_ATTRIBUTES, present.tolist()))


def _face_specs(att: dict[str, bool]) -> dict[str, _PartSpec]:
    """The face's parts in drawing order (hat and glasses only when present)."""
    eye = (0.095, 0.07) if att["big_eyes"] else (0.07, 0.05)
    specs = {"face": _part("face", "ellipse", 0, 0.05, 0.34, 0.44),
             "cheek_left": _part("cheek_left", "ellipse", -0.21, 0.15, 0.075, 0.055),
             "cheek_right": _part("cheek_right", "ellipse", 0.21, 0.15, 0.075, 0.055)}
    for side, x in (("left", -0.14), ("right", 0.14)):
        specs[f"eye_{side}"] = _PartSpec(f"eye_{side}", (
            _Shape("ellipse", x, -0.04, *eye), _Shape("ellipse", x, -0.04, eye[1] * 0.6, eye[1] * 0.6)))
    specs["nose"] = _part("nose", "triangle", 0, 0.1, 0.06, 0.13)
    specs["mouth"] = (_part("mouth", "half_ellipse", 0, 0.27, 0.14, 0.09) if att["smile"]
                      else _part("mouth", "ellipse", 0, 0.27, 0.13, 0.03))
    if att["glasses"]:
        specs["glasses"] = _PartSpec("glasses", (
            _Shape("rect", 0, -0.04, 0.045, 0.022), _Shape("ellipse", -0.14, -0.04, 0.1, 0.085),
            _Shape("ellipse", 0.14, -0.04, 0.1, 0.085)))
    if att["hat"]:
        specs["hat"] = _PartSpec("hat", (_Shape("trapezoid", 0, -0.52, 0.24, 0.13, taper=0.75),
                                         _Shape("rect", 0, -0.38, 0.4, 0.035)))
    return specs


_BROWS = _PartSpec("brows", (_Shape("rect", -0.14, -0.14, 0.075, 0.018, angle=-8),
                             _Shape("rect", 0.14, -0.14, 0.075, 0.018, angle=8)))


def _render_face(rng, i: int, options: PartWorldOptions, pairs) -> _Sample:
    """Image i of the faces family: label = smile."""
    size = options.size
    att = _sample_attributes(rng, pairs)
    image = _background(rng, size, options.clutter)
    specs = _face_specs(att)
    if att["eyebrows"]:
        specs["brows"] = _BROWS
    pose = _sample_pose(rng, size, 0.62, False)
    placed, _ = _fit([_place_part(s, pose, rng, size / 96) for s in specs.values()], rng, size)
    parts, skin_hue = {}, rng.uniform(0.03, 0.11)
    for name, prims in zip(specs, placed):
        drawn = (_rasterise(prims, size, anchor=False) if name == "brows"
                 else _record(parts, _FACE_PARTS.index(name), prims, size))
        _paint_face_part(image, name, drawn, prims, att, rng, skin_hue)
    return _Sample(image, int(att["smile"]), [att[a] for a in FACE_ATTRIBUTES], parts)


def _paint_face_part(image, name, drawn: _Drawn, prims, att, rng, skin_hue) -> None:
    region, mask = drawn.view(image), drawn.mask
    if name in ("face", "nose"):
        val = (0.45, 0.95) if name == "face" else (0.35, 0.6)
        _paint_part(image, drawn, rng, skin_hue, "noise", (0.2, 0.6), val)
    elif name.startswith("cheek") and att["rosy_cheeks"]:
        r.paint(region, mask, r.hsv(rng.uniform(-0.03, 0.01), 0.75, 0.9), alpha=0.65)
    elif name.startswith("eye"):  # white, a pupil, a black rim
        r.paint(region, mask, r.hsv(0, 0, rng.uniform(0.85, 1.0)))
        pupil = r.shape_mask(prims[1], drawn.xs, drawn.ys)
        r.paint(region, pupil, r.hsv(rng.random(), 0.6, rng.uniform(0.1, 0.4)))
        r.paint(region, r.outline(mask), np.zeros(3))
    elif name == "mouth":
        lips = (r.hsv(rng.uniform(-0.04, 0.0), rng.uniform(0.75, 0.95), rng.uniform(0.7, 0.9))
                if att["lipstick"] else r.hsv(rng.uniform(0.03, 0.08), 0.45, rng.uniform(0.3, 0.45)))
        r.paint(region, mask, lips)
        r.paint(region, r.outline(mask), lips * 0.4)
    elif name == "brows":
        r.paint(region, mask, r.hsv(rng.uniform(0.05, 0.1), 0.5, rng.uniform(0.05, 0.25)))
    elif name == "glasses":  # tinted lenses, dark frame and bridge
        frame = r.hsv(rng.random(), 0.5, rng.uniform(0.0, 0.3))
        r.paint(region, mask, r.hsv(rng.random(), 0.3, 0.2), alpha=0.35)
        r.paint(region, r.outline(mask), frame)
        r.paint(region, r.shape_mask(prims[0], drawn.xs, drawn.ys), frame)
    elif name == "hat":
        _paint_part(image, drawn, rng, rng.random(), _TEXTURES[rng.integers(4)])


# ----------------------------------------------------------------- dataset

def _image_rng(seed: int, i: int) -> np.random.Generator:
    """Image i's own generator: independent of n and of every other image."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))


def _vocabulary(family: str) -> tuple[list[str], list[str], list[str]]:
    """(part_names, class_names, attribute_names) of a family."""
    if family == "faces":
        return [f"face/{p}" for p in _FACE_PARTS], ["no_smile", "smile"], list(FACE_ATTRIBUTES)
    parts = [f"{c}/{p.name}" for c, specs in _CLASS_PARTS.items() for p in specs]
    return parts, list(CLASS_NAMES), list(_OBJECT_ATTRIBUTES)


def generate(options: PartWorldOptions, progress=None) -> ImageDataset:
    """Render `options.n` PartWorld images with their ground truth (see module docstring)."""
    _check(options)
    n, size = options.n, options.size
    part_names, class_names, attribute_names = _vocabulary(options.family)
    if options.family == "faces":
        render, extra = _render_face, _cooccur_order(options.cooccur)
    else:
        counts = [len(_CLASS_PARTS[c]) for c in CLASS_NAMES]
        render, extra = _render_object, dict(zip(CLASS_NAMES, np.cumsum([0] + counts[:-1]).tolist()))
    images = np.empty((n, 3, size, size), np.float32)
    labels = np.empty(n, np.int64)
    attributes = np.zeros((n, len(attribute_names)), bool)
    landmarks = np.full((n, len(part_names), 2), np.nan, np.float32)
    masks = np.zeros((n, len(part_names), size, size), bool)
    for i in range(n):
        if progress is not None and i % 50 == 0:
            progress.step(i, n, "rendering")
        rng = _image_rng(options.seed, i)
        sample = render(rng, i, options, extra)
        grain = rng.random((3, size, size), dtype=np.float32)  # sensor noise, uniform: cheap
        sample.image += np.float32(0.07) * (grain - np.float32(0.5))
        np.clip(sample.image, 0.0, 1.0, out=images[i])
        labels[i], attributes[i] = sample.label, sample.attributes
        for j, (mask, centre) in sample.parts.items():
            masks[i, j], landmarks[i, j] = mask, centre
    return ImageDataset(
        images=images, labels=labels, class_names=class_names, part_names=part_names,
        landmarks=landmarks, part_masks=masks, foreground=masks.any(axis=1),
        attributes=attributes, attribute_names=attribute_names,
        names=[f"partworld-s{options.seed}-{i}" for i in range(n)])
