"""Surface patches sampled uniformly by area, with exact outward unit normals.

The building blocks of ShapeWorld. Each surface is defined in its own frame with its axis
along +z, then placed: the frame's z is turned onto the patch's `axis` by a cyclic
permutation of coordinates (a proper rotation, so normals stay outward) and shifted to
`centre`. Surfaces (dims in the patch's own frame):

* sphere (r,): centred at the origin; cap (r,): its upper half, z >= 0
* box (a, b, c): the six faces of [-a, a] x [-b, b] x [-c, c]
* tube (r0, r1, h): the side of a frustum from radius r0 at z = 0 to r1 at z = h
  (cylinder r0 = r1, cone r1 = 0), open at both ends
* disk (r, facing): the disk of radius r at z = 0, normal (0, 0, facing), facing = +-1
* torus (R, r): tube radius r around the z axis at distance R > r from it
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Patch(NamedTuple):
    part: str                 # the part of its shape this surface belongs to
    surface: str              # a key of SURFACES
    dims: tuple               # the surface's dimensions (module docstring)
    centre: tuple = (0.0, 0.0, 0.0)
    axis: str = "z"           # where the surface's own z axis points


def _sphere_area(r):
    return 4 * np.pi * r * r


def _sphere(rng, m, r):
    normals = rng.standard_normal((m, 3))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    return r * normals, normals


def _cap(rng, m, r):
    points, normals = _sphere(rng, m, r)
    points[:, 2], normals[:, 2] = np.abs(points[:, 2]), np.abs(normals[:, 2])
    return points, normals


def _box_area(a, b, c):
    return 8 * (a * b + b * c + c * a)


def _box(rng, m, a, b, c):
    half = np.array([a, b, c])
    face_areas = np.repeat([b * c, c * a, a * b], 2)  # faces -x +x -y +y -z +z
    face = rng.choice(6, m, p=face_areas / face_areas.sum())
    axis, sign = face // 2, np.where(face % 2 == 1, 1.0, -1.0)
    points = rng.uniform(-1.0, 1.0, (m, 3)) * half
    rows = np.arange(m)
    points[rows, axis] = sign * half[axis]
    normals = np.zeros((m, 3))
    normals[rows, axis] = sign
    return points, normals


def _tube_area(r0, r1, h):
    return np.pi * (r0 + r1) * np.hypot(r0 - r1, h)


def _tube(rng, m, r0, r1, h):
    theta, u = rng.uniform(0.0, 2 * np.pi, m), rng.random(m)
    if np.isclose(r0, r1):
        along = u
    else:  # area density grows with the radius: invert its CDF along the slant
        along = (np.sqrt(r0 * r0 + u * (r1 * r1 - r0 * r0)) - r0) / (r1 - r0)
    radius = r0 + (r1 - r0) * along
    cos, sin = np.cos(theta), np.sin(theta)
    points = np.stack([radius * cos, radius * sin, h * along], 1)
    normals = np.stack([h * cos, h * sin, np.full(m, r0 - r1)], 1) / np.hypot(h, r0 - r1)
    return points, normals


def _disk_area(r, facing):
    return np.pi * r * r


def _disk(rng, m, r, facing):
    radius, theta = r * np.sqrt(rng.random(m)), rng.uniform(0.0, 2 * np.pi, m)
    points = np.stack([radius * np.cos(theta), radius * np.sin(theta), np.zeros(m)], 1)
    normals = np.zeros((m, 3))
    normals[:, 2] = facing
    return points, normals


def _torus_area(big_r, r):
    return 4 * np.pi * np.pi * big_r * r


def _torus(rng, m, big_r, r):
    """Area density of the tube angle t is proportional to R + r cos t: Newton-invert its CDF."""
    phi, target = rng.uniform(0.0, 2 * np.pi, m), rng.uniform(0.0, 2 * np.pi, m)
    t, ratio = target.copy(), r / big_r
    for _ in range(12):  # t + ratio sin t is monotone (ratio < 1): converges in a few steps
        t -= (t + ratio * np.sin(t) - target) / (1.0 + ratio * np.cos(t))
    ring = big_r + r * np.cos(t)
    points = np.stack([ring * np.cos(phi), ring * np.sin(phi), r * np.sin(t)], 1)
    normals = np.stack([np.cos(t) * np.cos(phi), np.cos(t) * np.sin(phi), np.sin(t)], 1)
    return points, normals


SURFACES = {  # name -> (area(*dims), sample(rng, m, *dims) -> (points, normals))
    "sphere": (_sphere_area, _sphere),
    "cap": (lambda r: _sphere_area(r) / 2, _cap),
    "box": (_box_area, _box),
    "tube": (_tube_area, _tube),
    "disk": (_disk_area, _disk),
    "torus": (_torus_area, _torus),
}
_AXIS_ORDER = {"z": [0, 1, 2], "x": [2, 0, 1], "y": [1, 2, 0]}  # cyclic: det +1


def area(patch: Patch) -> float:
    return float(SURFACES[patch.surface][0](*patch.dims))


def sample_patches(rng, patches: list[Patch], count: int, part_names: list[str]):
    """`count` points spread over the patches by area: (points, normals, part index)."""
    areas = np.array([area(p) for p in patches])
    counts = rng.multinomial(count, areas / areas.sum())
    points, normals, parts = [], [], []
    for patch, m in zip(patches, counts):
        local_points, local_normals = SURFACES[patch.surface][1](rng, int(m), *patch.dims)
        order = _AXIS_ORDER[patch.axis]
        points.append(local_points[:, order] + np.asarray(patch.centre))
        normals.append(local_normals[:, order])
        parts.append(np.full(m, part_names.index(patch.part)))
    return np.concatenate(points), np.concatenate(normals), np.concatenate(parts)
