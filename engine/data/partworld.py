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
  attribute. "eye_left" etc. mean the image's left.

Attributes (bool columns, `attribute_names`):

* objects: large (pose scale above the 1.0 midpoint), striped / dotted (the first
  listed, main part - car body, house wall, ... - carries stripes / dots).
* faces (FACE_ATTRIBUTES): lipstick (red mouth instead of a dull brown one),
  rosy_cheeks (red blobs on the cheek parts), glasses (tinted lenses and a bridge: the
  glasses part), hat (the hat part), smile (a bowl-shaped mouth instead of a thin flat
  one), big_eyes (larger eyes), eyebrows (dark bars above the eyes; not a part).
  Each is present with probability 0.5, independently, except pairs planted with
  `cooccur=((a, b, rate), ...)`: then P(b | a present) = rate and
  P(b | a absent) = 1 - rate, so b keeps its 0.5 marginal and agrees with a in a
  fraction `rate` of images. Pairs may chain (a -> b -> c) but an attribute can be the
  b of only one pair, and cycles are refused.

Determinism: image i draws everything from its own generators, children of
SeedSequence(seed, spawn_key=(i,)), so the same options give bit-identical arrays and
image i does not depend on n; the scene and the background use separate streams, so
changing `clutter` changes only the background.

Geometry: part_names is the global vocabulary "class/part". A landmark is the centre of
the part's anchoring shape after pose and jitter, in pixels (x, y) with pixel (row r,
column c) centred at (x=c, y=r); NaN when the image lacks the part. Part masks are
amodal (an occluded part keeps its whole shape); foreground is their union.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data import _raster as r
from engine.data.types import ImageDataset
from engine.errors import BadInput, choices
from engine.specs import check_option_keys


@dataclass(frozen=True)
class PartWorldOptions:
    """What to generate; `parse_options` builds one from a data spec's query."""

    n: int = 200            # number of images
    seed: int = 0
    size: int = 96          # image side in pixels
    family: str = "objects"  # "objects" or "faces"
    cooccur: tuple = ()     # tuple of (attr_a, attr_b, rate), faces family only
    clutter: float = 1.0    # amount of background clutter, 0 = plain textured background


# Parts in drawing order (later parts cover earlier ones). Cars and animals face +x.
_CLASS_PARTS = {
    "car": (r.part("body", "rect", 0, 0.06, 0.5, 0.14),
            r.part("cabin", "trapezoid", -0.04, -0.18, 0.3, 0.11, taper=0.6),
            r.part("wheel_front", "ellipse", 0.3, 0.22, 0.13, 0.13),
            r.part("wheel_back", "ellipse", -0.3, 0.22, 0.13, 0.13)),
    "house": (r.part("wall", "rect", 0, 0.14, 0.36, 0.3),
              r.part("roof", "triangle", 0, -0.28, 0.48, 0.36),
              r.part("door", "rect", 0.14, 0.3, 0.08, 0.14),
              r.part("window", "rect", -0.16, 0.06, 0.09, 0.08)),
    "animal": (r.part("tail", "rect", -0.39, -0.075, 0.13, 0.035, angle=35),
               r.part("leg_front", "rect", 0.18, 0.25, 0.045, 0.16),
               r.part("leg_back", "rect", -0.18, 0.25, 0.045, 0.16),
               r.part("torso", "ellipse", 0, 0, 0.3, 0.15),
               r.part("head", "ellipse", 0.36, -0.17, 0.12, 0.1)),
    "flower": (r.part("stem", "rect", 0, 0.2, 0.035, 0.28),
               r.part("leaf", "ellipse", 0.12, 0.25, 0.12, 0.05, angle=-30),
               r.part("petal_top", "ellipse", 0, -0.38, 0.09, 0.13),
               r.part("petal_left", "ellipse", -0.2, -0.18, 0.13, 0.09),
               r.part("petal_right", "ellipse", 0.2, -0.18, 0.13, 0.09),
               r.part("center", "ellipse", 0, -0.18, 0.11, 0.11)),
    "robot": (r.part("arm_left", "rect", -0.29, 0.1, 0.05, 0.2),
              r.part("arm_right", "rect", 0.29, 0.1, 0.05, 0.2),
              r.part("torso", "rect", 0, 0.17, 0.21, 0.27),
              r.part("head", "rect", 0, -0.23, 0.14, 0.11),
              r.part("antenna", "triangle", 0, -0.385, 0.06, 0.12)),
}
_MIRRORED = {"car", "animal"}  # side views: facing left or right is still the class
CLASS_NAMES: list[str] = list(_CLASS_PARTS)
_OBJECT_ATTRIBUTES = ["large", "striped", "dotted"]  # see the module docstring

FACE_ATTRIBUTES: list[str] = ["lipstick", "rosy_cheeks", "glasses", "hat", "smile",
                              "big_eyes", "eyebrows"]
_FACE_PARTS = ["face", "eye_left", "eye_right", "nose", "mouth", "cheek_left",
               "cheek_right", "glasses", "hat"]
# Where each face attribute is drawn (parts of _FACE_PARTS): the region the dataset-bias
# masking check pastes or masks (spec concepts-bias-trees §5.1 table); eyebrows are no part.
FACE_ATTRIBUTE_PARTS: dict[str, tuple[str, ...]] = {
    "lipstick": ("mouth",), "rosy_cheeks": ("cheek_left", "cheek_right"), "glasses": ("glasses",),
    "hat": ("hat",), "smile": ("mouth",), "big_eyes": ("eye_left", "eye_right"), "eyebrows": ()}

_OPTION_KEYS = ("n", "seed", "size", "family", "cooccur", "clutter")
_FAMILIES = ("objects", "faces")


# ----------------------------------------------------------------- options

def parse_options(query: dict[str, str]) -> PartWorldOptions:
    """Options from a spec query, e.g. {"n": "16", "cooccur": "lipstick:rosy_cheeks:0.95"}."""
    check_option_keys(query, _OPTION_KEYS, "PartWorld")
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
            raise BadInput(f"PartWorld option {key}={value!r} must be an integer "
                           f"in [{low}, {high}]")
    if options.family not in _FAMILIES:
        raise BadInput(f"PartWorld family {options.family!r} is not one of {choices(_FAMILIES)}")
    if not isinstance(options.clutter, (int, float)) or not 0.0 <= options.clutter <= 10.0:
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


# ----------------------------------------------------------------- families

@dataclass
class _Sample:
    image: np.ndarray
    label: int
    attributes: list[bool]
    parts: dict  # global part index -> (mask, (x, y))


def _record(parts: dict, index: int, prims: list[r.Primitive], size: int) -> r.Drawn:
    """Rasterise a part and keep its ground truth: full mask and landmark."""
    drawn = r.rasterise(prims, size)
    parts[index] = (drawn.full_mask(), (prims[0].cx, prims[0].cy))
    return drawn


def _render_object(rng, image, i: int, options: PartWorldOptions, offsets: dict) -> _Sample:
    """Image i of the objects family, painted on `image`: class i % len(CLASS_NAMES)."""
    size, label = options.size, i % len(CLASS_NAMES)
    name = CLASS_NAMES[label]
    pose = r.sample_pose(rng, size, 0.58, name in _MIRRORED)
    specs = _CLASS_PARTS[name]
    placed, shrink = r.fit([r.place_part(s, pose, rng, 2 * size / 96) for s in specs], rng, size)
    hue, parts = rng.random(), {}
    textures = [r.TEXTURES[k] for k in rng.choice(4, len(specs), p=[0.4, 0.3, 0.15, 0.15])]
    for j, prims in enumerate(placed):
        drawn = _record(parts, offsets[name] + j, prims, size)
        # Part hues relate to one random object hue, the same way for every class.
        part_hue = hue + (0.0, 0.5, 0.33, -0.33)[rng.integers(4)] + rng.uniform(-0.06, 0.06)
        r.paint_part(image, drawn, rng, part_hue, textures[j])
    large = pose.unit * shrink > size * 0.58
    return _Sample(image, label, [large, textures[0] == "stripes", textures[0] == "dots"], parts)


def _sample_attributes(rng, pairs) -> dict[str, bool]:
    """Independent fair coins, then each planted b follows its a (see module docstring)."""
    draws = rng.random(len(FACE_ATTRIBUTES))
    present = draws < 0.5
    for a, b, rate in pairs:
        present[b] = draws[b] < (rate if present[a] else 1.0 - rate)
    return dict(zip(FACE_ATTRIBUTES, present.tolist()))


def _face_specs(att: dict[str, bool]) -> dict[str, r.PartSpec]:
    """The face's parts in drawing order (hat and glasses only when present)."""
    eye = (0.095, 0.07) if att["big_eyes"] else (0.07, 0.05)
    specs = {"face": r.part("face", "ellipse", 0, 0.05, 0.34, 0.44),
             "cheek_left": r.part("cheek_left", "ellipse", -0.21, 0.15, 0.075, 0.055),
             "cheek_right": r.part("cheek_right", "ellipse", 0.21, 0.15, 0.075, 0.055)}
    for side, x in (("left", -0.14), ("right", 0.14)):
        specs[f"eye_{side}"] = r.PartSpec(f"eye_{side}", (
            r.Shape("ellipse", x, -0.04, *eye),
            r.Shape("ellipse", x, -0.04, eye[1] * 0.6, eye[1] * 0.6)))  # the pupil
    specs["nose"] = r.part("nose", "triangle", 0, 0.1, 0.06, 0.13)
    specs["mouth"] = (r.part("mouth", "half_ellipse", 0, 0.27, 0.14, 0.09) if att["smile"]
                      else r.part("mouth", "ellipse", 0, 0.27, 0.13, 0.03))
    if att["glasses"]:
        specs["glasses"] = r.PartSpec("glasses", (
            r.Shape("rect", 0, -0.04, 0.045, 0.022), r.Shape("ellipse", -0.14, -0.04, 0.1, 0.085),
            r.Shape("ellipse", 0.14, -0.04, 0.1, 0.085)))
    if att["hat"]:
        specs["hat"] = r.PartSpec("hat", (r.Shape("trapezoid", 0, -0.52, 0.24, 0.13, taper=0.75),
                                         r.Shape("rect", 0, -0.38, 0.4, 0.035)))
    return specs


_BROWS = r.PartSpec("brows", (r.Shape("rect", -0.14, -0.14, 0.075, 0.018, angle=-8),
                             r.Shape("rect", 0.14, -0.14, 0.075, 0.018, angle=8)))


def _render_face(rng, image, i: int, options: PartWorldOptions, pairs) -> _Sample:
    """Image i of the faces family, painted on `image`: label = smile."""
    size = options.size
    att = _sample_attributes(rng, pairs)
    specs = _face_specs(att)
    if att["eyebrows"]:
        specs["brows"] = _BROWS
    pose = r.sample_pose(rng, size, 0.62, False)
    placed, _ = r.fit([r.place_part(s, pose, rng, size / 96) for s in specs.values()], rng, size)
    parts, skin_hue = {}, rng.uniform(0.03, 0.11)
    for name, prims in zip(specs, placed):
        drawn = (r.rasterise(prims, size, anchor=False) if name == "brows"
                 else _record(parts, _FACE_PARTS.index(name), prims, size))
        _paint_face_part(image, name, drawn, prims, att, rng, skin_hue)
    return _Sample(image, int(att["smile"]), [att[a] for a in FACE_ATTRIBUTES], parts)


def _paint_face_part(image, name, drawn: r.Drawn, prims, att, rng, skin_hue) -> None:
    """Paint one face part (or the brows) the way its attributes say."""
    region, mask = drawn.view(image), drawn.mask
    if name in ("face", "nose"):
        val = (0.45, 0.95) if name == "face" else (0.35, 0.6)
        r.paint_part(image, drawn, rng, skin_hue, "noise", (0.2, 0.6), val)
    elif name.startswith("cheek") and att["rosy_cheeks"]:
        r.paint(region, mask, r.hsv(rng.uniform(-0.03, 0.01), 0.75, 0.9), alpha=0.65)
    elif name.startswith("eye"):  # white, a pupil, a black rim
        r.paint(region, mask, r.hsv(0, 0, rng.uniform(0.85, 1.0)))
        pupil = r.shape_mask(prims[1], drawn.xs, drawn.ys)
        r.paint(region, pupil, r.hsv(rng.random(), 0.6, rng.uniform(0.1, 0.4)))
        r.paint(region, r.outline(mask), np.zeros(3))
    elif name == "mouth":
        lips = _lip_colour(rng, att["lipstick"])
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
        r.paint_part(image, drawn, rng, rng.random(), r.TEXTURES[rng.integers(4)])


def _lip_colour(rng, lipstick: bool) -> np.ndarray:
    """Saturated red with lipstick, a dull dark brown without: unmistakable either way."""
    if lipstick:
        return r.hsv(rng.uniform(-0.04, 0.0), rng.uniform(0.75, 0.95), rng.uniform(0.7, 0.9))
    return r.hsv(rng.uniform(0.03, 0.08), 0.45, rng.uniform(0.3, 0.45))


# ----------------------------------------------------------------- dataset

def _image_rngs(seed: int, i: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Image i's own (scene, backdrop) generators: independent of n and of other images.

    Two streams so that the background's clutter, which draws a varying number of
    distractors, never shifts the object: changing `clutter` keeps every scene in place.
    """
    scene, backdrop = np.random.SeedSequence(seed, spawn_key=(i,)).spawn(2)
    return np.random.default_rng(scene), np.random.default_rng(backdrop)


def _vocabulary(family: str) -> tuple[list[str], list[str], list[str]]:
    """(part_names, class_names, attribute_names) of a family."""
    if family == "faces":
        return [f"face/{p}" for p in _FACE_PARTS], ["no_smile", "smile"], list(FACE_ATTRIBUTES)
    parts = [f"{c}/{p.name}" for c, specs in _CLASS_PARTS.items() for p in specs]
    return parts, list(CLASS_NAMES), list(_OBJECT_ATTRIBUTES)


def _renderer(options: PartWorldOptions):
    """The family's per-image render function and the context it needs."""
    if options.family == "faces":
        return _render_face, _cooccur_order(options.cooccur)
    counts = [len(_CLASS_PARTS[c]) for c in CLASS_NAMES]
    first_part = np.cumsum([0] + counts[:-1]).tolist()  # of each class, in part_names
    return _render_object, dict(zip(CLASS_NAMES, first_part))


def generate(options: PartWorldOptions, progress=None) -> ImageDataset:
    """Render `options.n` PartWorld images with their ground truth (see module docstring)."""
    _check(options)
    n, size = options.n, options.size
    part_names, class_names, attribute_names = _vocabulary(options.family)
    render, context = _renderer(options)
    images = np.empty((n, 3, size, size), np.float32)
    labels = np.empty(n, np.int64)
    attributes = np.zeros((n, len(attribute_names)), bool)
    landmarks = np.full((n, len(part_names), 2), np.nan, np.float32)
    masks = np.zeros((n, len(part_names), size, size), bool)
    for i in range(n):
        if progress is not None and i % 50 == 0:
            progress.step(i, n, "rendering")
        scene, backdrop = _image_rngs(options.seed, i)
        canvas = r.background(backdrop, size, options.clutter)
        sample = render(scene, canvas, i, options, context)
        images[i] = r.add_grain(backdrop, sample.image)
        labels[i], attributes[i] = sample.label, sample.attributes
        for j, (mask, centre) in sample.parts.items():
            masks[i, j], landmarks[i, j] = mask, centre
    return ImageDataset(
        images=images, labels=labels, class_names=class_names, part_names=part_names,
        landmarks=landmarks, part_masks=masks, foreground=masks.any(axis=1),
        attributes=attributes, attribute_names=attribute_names,
        names=[f"partworld-s{options.seed}-{i}" for i in range(n)])
