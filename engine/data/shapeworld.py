"""ShapeWorld: point clouds of primitive and composite shapes with exact normals and parts.

The ground truth of the point-cloud analyses (DESIGN.md, engine/data):

* 11 classes (CLASS_NAMES): five primitives (sphere, cube, cylinder, cone, torus) and six
  composites (chair: seat, back, legs; table: top, legs; lamp: base, stem, shade;
  airplane: fuselage, wings, tail; mushroom: stem, cap; snowman: bottom, middle, head).
  Cloud i has class i % 11, so every prefix is balanced.
* Each cloud is `points` points drawn uniformly by surface area over its shape's surface
  patches (engine/data/_surfaces.py), each with its exact outward unit normal and its
  part. Every dimension is jittered per sample (proportions change, the class does not).
* part_names is the global vocabulary "class/part"; part_labels index it.
* Axes: +z is up (legs below seats, caps above stems); airplanes fly along +x with their
  wings along y. Points are shuffled, so a point's index says nothing about its part.
* Normalised as ModelNet clouds are (the data of spec pointcloud-utility §5.2 and §5.4:
  1024 points a cloud by default): centred on the centroid, scaled so the farthest point
  is at radius 1.
  Then `rotate=z` turns each cloud about +z by a uniform angle and `rotate=so3` by a
  uniform random rotation; normals turn with it.
* `background=K` (spec pointcloud-utility §5.3 item 2, the authors' objects with background
  points): K of a cloud's points are scattered uniformly in the unit ball around the
  normalised object [ours: their dataset is not distributed with the code], part "background",
  normal zero; the object keeps the other points and its normalisation.

Determinism: cloud i draws everything from its own generator, the child of
SeedSequence(seed, spawn_key=(i,)), so the same options give identical arrays and cloud i
does not depend on n.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data import _options
from engine.data._surfaces import Patch, sample_patches
from engine.data.pointops import (normalise_to_unit_sphere, random_rotations,
                                  random_z_rotations, rotate)
from engine.data.types import PointDataset
from engine.specs import check_option_keys

ROTATIONS = ("none", "z", "so3")
_OWNER = "ShapeWorld"
_INTEGER_BOUNDS = {"n": (1, 1_000_000), "seed": (0, 2**63 - 1), "points": (16, 100_000)}


@dataclass(frozen=True)
class ShapeWorldOptions:
    """What to generate; `parse_options` builds one from a data spec's query."""

    n: int = 200            # number of clouds
    seed: int = 0
    points: int = 1024      # points a cloud
    rotate: str = "none"    # "none", "z" (about the up axis) or "so3" (uniform)
    background: int = 0     # points a cloud scattered around the object (part "background")

    def __post_init__(self) -> None:
        for key, (low, high) in _INTEGER_BOUNDS.items():
            _options.check_integer(_OWNER, key, getattr(self, key), low, high)
        _options.check_integer(_OWNER, "background", self.background, 0, self.points - 16)
        _options.check_choice(_OWNER, "rotate", self.rotate, ROTATIONS)


def parse_options(query: dict[str, str]) -> ShapeWorldOptions:
    """Options from a spec query, e.g. {"n": "100", "points": "512", "rotate": "so3"}."""
    check_option_keys(query, (*_INTEGER_BOUNDS, "background", "rotate"), _OWNER)
    fields = {key: (str(text).strip() if key == "rotate" else _options.integer(_OWNER, key, text))
              for key, text in query.items()}
    return ShapeWorldOptions(**fields)


# ----------------------------------------------------------------- shapes

def _legs(rng, half_x, half_y, height):
    """Four round legs from the floor (z = 0) up to `height`, inset from the corners."""
    radius = rng.uniform(0.03, 0.05)
    return [Patch("legs", "tube", (radius, radius, height), (sx * (half_x - 2 * radius),
                                                              sy * (half_y - 2 * radius), 0.0))
            for sx in (-1, 1) for sy in (-1, 1)]


def _closed_tube(side, ends, r0, r1, height):
    """A tube standing on z = 0 with disks (part `ends`) closing its base and, unless a cone, its top."""
    patches = [Patch(side, "tube", (r0, r1, height)), Patch(ends, "disk", (r0, -1.0))]
    if r1 > 0:
        patches.append(Patch(ends, "disk", (r1, 1.0), (0.0, 0.0, height)))
    return patches


def _sphere(rng):
    return [Patch("surface", "sphere", (1.0,))]


def _cube(rng):
    return [Patch("faces", "box", tuple(rng.uniform(0.85, 1.15, 3)))]


def _cylinder(rng):
    radius = rng.uniform(0.35, 0.6)
    return _closed_tube("side", "caps", radius, radius, rng.uniform(1.2, 2.0))


def _cone(rng):
    return _closed_tube("side", "base", rng.uniform(0.4, 0.7), 0.0, rng.uniform(1.0, 1.8))


def _torus(rng):
    return [Patch("surface", "torus", (1.0, rng.uniform(0.22, 0.42)))]


def _chair(rng):
    half_x, half_y, half_t = rng.uniform(0.4, 0.5), rng.uniform(0.4, 0.5), rng.uniform(0.04, 0.06)
    leg, back_t, back_h = rng.uniform(0.7, 0.9), rng.uniform(0.03, 0.05), rng.uniform(0.4, 0.55)
    seat_top = leg + 2 * half_t
    return [*_legs(rng, half_x, half_y, leg),
            Patch("seat", "box", (half_x, half_y, half_t), (0.0, 0.0, leg + half_t)),
            Patch("back", "box", (half_x, back_t, back_h), (0.0, back_t - half_y, seat_top + back_h))]


def _table(rng):
    half_x, half_y, half_t = rng.uniform(0.8, 1.0), rng.uniform(0.5, 0.7), rng.uniform(0.03, 0.05)
    leg = rng.uniform(0.6, 0.8)
    return [*_legs(rng, half_x, half_y, leg),
            Patch("top", "box", (half_x, half_y, half_t), (0.0, 0.0, leg + half_t))]


def _lamp(rng):
    base_r, base_h, stem_r = rng.uniform(0.35, 0.45), rng.uniform(0.05, 0.08), rng.uniform(0.025, 0.04)
    stem_h, shade_h = rng.uniform(0.9, 1.2), rng.uniform(0.35, 0.5)
    shade_z = base_h + stem_h - 0.6 * shade_h  # the stem ends inside the shade
    return [*_closed_tube("base", "base", base_r, base_r, base_h),
            Patch("stem", "tube", (stem_r, stem_r, stem_h), (0.0, 0.0, base_h)),
            Patch("shade", "tube", (rng.uniform(0.45, 0.6), rng.uniform(0.2, 0.3), shade_h),
                  (0.0, 0.0, shade_z))]


def _airplane(rng):
    body_r, length, nose = rng.uniform(0.09, 0.12), rng.uniform(1.6, 2.0), rng.uniform(0.2, 0.35)
    chord, span, wing_x = rng.uniform(0.15, 0.22), rng.uniform(0.8, 1.0), rng.uniform(-0.05, 0.15)
    fin_c, fin_h = rng.uniform(0.1, 0.14), rng.uniform(0.25, 0.35)
    stab_c, stab_s = rng.uniform(0.08, 0.12), rng.uniform(0.25, 0.35)
    tail_x = -length / 2
    fuselage = [Patch("fuselage", "tube", (body_r, body_r, length), (tail_x, 0.0, 0.0), "x"),
                Patch("fuselage", "tube", (body_r, 0.0, nose), (length / 2, 0.0, 0.0), "x"),
                Patch("fuselage", "disk", (body_r, -1.0), (tail_x, 0.0, 0.0), "x")]
    root = body_r / 2  # wing and stabiliser roots sit inside the fuselage
    return [*fuselage, *_mirrored_boxes("wings", (chord, span / 2, 0.02), wing_x, root),
            Patch("tail", "box", (fin_c, 0.015, fin_h / 2), (tail_x + fin_c, 0.0, root + fin_h / 2)),
            *_mirrored_boxes("tail", (stab_c, stab_s / 2, 0.015), tail_x + stab_c, root)]


def _mirrored_boxes(part, half, x, root):
    """A box on each side (+-y) reaching out from |y| = root: a pair of wings."""
    return [Patch(part, "box", half, (x, side * (root + half[1]), 0.0)) for side in (-1, 1)]


def _mushroom(rng):
    stem_r, stem_h, cap_r = rng.uniform(0.15, 0.25), rng.uniform(0.6, 0.9), rng.uniform(0.6, 0.8)
    return [Patch("stem", "tube", (stem_r, stem_r, stem_h)), Patch("stem", "disk", (stem_r, -1.0)),
            Patch("cap", "cap", (cap_r,), (0.0, 0.0, stem_h)),
            Patch("cap", "disk", (cap_r, -1.0), (0.0, 0.0, stem_h))]


def _snowman(rng):
    bottom = rng.uniform(0.5, 0.6)
    middle = bottom * rng.uniform(0.65, 0.8)
    head = middle * rng.uniform(0.6, 0.75)
    return [Patch("bottom", "sphere", (bottom,), (0.0, 0.0, bottom)),  # stacked, each touching
            Patch("middle", "sphere", (middle,), (0.0, 0.0, 2 * bottom + middle)),
            Patch("head", "sphere", (head,), (0.0, 0.0, 2 * (bottom + middle) + head))]


_SHAPES = {"sphere": _sphere, "cube": _cube, "cylinder": _cylinder, "cone": _cone,
           "torus": _torus, "chair": _chair, "table": _table, "lamp": _lamp,
           "airplane": _airplane, "mushroom": _mushroom, "snowman": _snowman}
CLASS_NAMES: list[str] = list(_SHAPES)
CLASS_PARTS: dict[str, list[str]] = {  # each class's parts, in part_names order
    "sphere": ["surface"], "cube": ["faces"], "cylinder": ["side", "caps"],
    "cone": ["side", "base"], "torus": ["surface"], "chair": ["seat", "back", "legs"],
    "table": ["top", "legs"], "lamp": ["base", "stem", "shade"],
    "airplane": ["fuselage", "wings", "tail"], "mushroom": ["stem", "cap"],
    "snowman": ["bottom", "middle", "head"]}
BACKGROUND = "background"
PART_NAMES: list[str] = [f"{c}/{p}" for c in CLASS_NAMES for p in CLASS_PARTS[c]] + [BACKGROUND]


# ----------------------------------------------------------------- dataset

def _rotation(rng, how: str) -> np.ndarray:
    """The (3, 3) rotation the `rotate` option asks for, drawn from the cloud's generator."""
    if how == "so3":
        return random_rotations(1, rng)[0]
    return random_z_rotations(1, rng)[0] if how == "z" else np.eye(3)


def _cloud(rng, label: int, options: ShapeWorldOptions):
    """One normalised cloud of class `label`, before rotation: (points, normals, global parts, R)."""
    name, count = CLASS_NAMES[label], options.points - options.background
    points, normals, parts = sample_patches(rng, _SHAPES[name](rng), count, CLASS_PARTS[name])
    order = rng.permutation(count)
    first_part = PART_NAMES.index(f"{name}/{CLASS_PARTS[name][0]}")
    points, normals, parts = normalise_to_unit_sphere(points[order]), normals[order], first_part + parts[order]
    rotation = _rotation(rng, options.rotate)
    if options.background:  # drawn last: the shape's dimensions and pose are those drawn without it
        points, normals, parts = _with_background(rng, points, normals, parts, options.background)
    return points, normals, parts, rotation


def _with_background(rng, points, normals, parts, count: int):
    """`count` points uniform in the unit ball added, and every point shuffled again."""
    direction = rng.standard_normal((count, 3))
    scattered = direction / np.linalg.norm(direction, axis=1, keepdims=True) * rng.random((count, 1)) ** (1 / 3)
    order = rng.permutation(len(points) + count)
    return (np.concatenate([points, scattered])[order], np.concatenate([normals, np.zeros((count, 3))])[order],
            np.concatenate([parts, np.full(count, PART_NAMES.index(BACKGROUND))])[order])


def generate(options: ShapeWorldOptions, progress=None) -> PointDataset:
    """`options.n` ShapeWorld clouds with normals and part labels (see module docstring)."""
    n, count = options.n, options.points
    points, normals = np.empty((n, count, 3)), np.empty((n, count, 3))
    parts, rotations = np.empty((n, count), np.int64), np.empty((n, 3, 3))
    for i in range(n):
        if progress is not None and i % 200 == 0:
            progress.step(i, n, "sampling shapes")
        rng = np.random.default_rng(np.random.SeedSequence(options.seed, spawn_key=(i,)))
        points[i], normals[i], parts[i], rotations[i] = _cloud(rng, i % len(CLASS_NAMES), options)
    points = rotate(points, rotations)
    return PointDataset(
        points=points.astype(np.float32), labels=np.arange(n, dtype=np.int64) % len(CLASS_NAMES),
        class_names=list(CLASS_NAMES), normals=rotate(normals, rotations).astype(np.float32),
        part_labels=parts, part_names=list(PART_NAMES),
        names=[f"shapeworld-s{options.seed}-{i}" for i in range(n)])
