"""Rigid and similarity transforms of point clouds, for NumPy arrays and torch tensors alike.

A cloud is (..., P, 3): one cloud (P, 3) or a batch (B, P, 3). Rotation matrices are
(3, 3) or (B, 3, 3) and act on column vectors, so a point x goes to R x; applying them to
rows is `points @ R^T`. Matrices are built in float64 NumPy and cast to the cloud's type
(and device) when applied. Normals rotate with the points; translation and a positive
uniform scale leave them unchanged.
"""
from __future__ import annotations

import numpy as np
import torch

from engine.errors import BadInput


def rotation_about_axis(axis, angle: float) -> np.ndarray:
    """(3, 3) rotation by `angle` radians about `axis` (right-handed; Rodrigues' formula)."""
    axis = np.asarray(axis, dtype=np.float64).reshape(3)
    length = np.linalg.norm(axis)
    if not np.isfinite(length) or length == 0.0:
        raise BadInput(f"rotation axis {axis.tolist()} must be a finite non-zero vector")
    x, y, z = axis / length
    cross = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + np.sin(angle) * cross + (1.0 - np.cos(angle)) * (cross @ cross)


def rotation_about_z(angle: float) -> np.ndarray:
    """(3, 3) rotation by `angle` radians about +z: the up axis of ShapeWorld."""
    return rotation_about_axis((0.0, 0.0, 1.0), angle)


def random_rotations(count: int, seed) -> np.ndarray:
    """(count, 3, 3) rotations drawn uniformly (Haar measure) from SO(3); seed: int or Generator.

    Unit quaternions from normalised 4-D Gaussians are uniform on S^3, which makes their
    rotations uniform on SO(3) (spec: pointcloud-utility §5.7 "Non-uniform rotations").
    """
    rng = np.random.default_rng(seed)
    quaternions = rng.standard_normal((count, 4))
    w, x, y, z = (quaternions / np.linalg.norm(quaternions, axis=1, keepdims=True)).T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], axis=1)


def random_z_rotations(count: int, seed) -> np.ndarray:
    """(count, 3, 3) rotations about +z by angles uniform in [0, 2 pi); seed: int or Generator."""
    angles = np.random.default_rng(seed).uniform(0.0, 2 * np.pi, count)
    return np.stack([rotation_about_z(a) for a in angles])


def rotate(points, rotation):
    """Points (..., P, 3) rotated by R (3, 3) or per cloud (..., 3, 3): x -> R x."""
    rotation = _like(rotation, points)
    return points @ rotation.swapaxes(-1, -2)


def translate(points, offset):
    """Points moved by `offset`: (3,) for all clouds or (..., 1, 3) per cloud."""
    return points + _like(offset, points)


def scale(points, factor):
    """Points scaled about the origin by `factor`: a number, (3,) per axis, or (..., 1, 1)."""
    return points * _like(factor, points)


def normalise_to_unit_sphere(points):
    """Each cloud centred on its centroid and scaled so its farthest point lies at radius 1.

    This is ModelNet practice (PointNet's `pc_normalize`); a cloud whose points all
    coincide is only centred. Normals are unchanged by it.
    """
    centred = points - points.mean(axis=-2, keepdims=True)
    radius = (centred * centred).sum(-1) ** 0.5
    if isinstance(radius, torch.Tensor):
        radius = radius.amax(-1, keepdim=True)
        return centred / torch.where(radius > 0, radius, 1.0)[..., None]
    radius = radius.max(axis=-1, keepdims=True)
    return centred / np.where(radius > 0, radius, 1.0)[..., None]


def _like(value, points):
    """`value` as the type, dtype and device of `points`."""
    if isinstance(points, torch.Tensor):
        return torch.as_tensor(value, dtype=points.dtype, device=points.device)
    return np.asarray(value, dtype=points.dtype)
