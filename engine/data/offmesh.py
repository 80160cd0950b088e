"""Object File Format meshes (`.off`, the ModelNet format): read, then sample the surface.

Parsed here rather than by `open3d.io.read_triangle_mesh` because Open3D 0.20 refuses two
kinds of file we must take: ModelNet's own files whose counts follow the keyword on the
first line ("OFF490 518 0"), and files with vertices but no faces (it reports "no
vertices or faces"). Keywords with prefixes (COFF, NOFF, ...) are read too; only the first
three numbers of a vertex line (x, y, z) and the corner indices of a face line are used.
Polygons are split into triangle fans.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from engine.errors import BadInput

_KEYWORD = re.compile(r"^[A-Z0-9]*OFF(.*)$")


def read_off(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(vertices (V, 3) float64, triangles (F, 3) int64) of an .off file, or BadInput."""
    lines = [line.split("#")[0].strip() for line in path.read_text(errors="replace").splitlines()]
    lines = [line for line in lines if line]
    match = _KEYWORD.match(lines[0]) if lines else None
    if match is None:
        raise BadInput(f"{path.name} is not an OFF file: its first line is not the keyword OFF")
    if match.group(1).strip():  # ModelNet: the counts on the keyword's line
        counts_line, body = match.group(1), lines[1:]
    else:
        counts_line, body = (lines[1] if len(lines) > 1 else ""), lines[2:]
    n_vertices, n_faces = _counts(counts_line, path)
    if n_vertices == 0:
        raise BadInput(f"{path.name}: the mesh has no vertices")
    if len(body) < n_vertices + n_faces:
        raise BadInput(f"{path.name} is corrupt: its header promises {n_vertices} vertices and "
                       f"{n_faces} faces but it holds only {len(body)} data lines")
    try:
        vertices = np.array([line.split()[:3] for line in body[:n_vertices]], dtype=np.float64)
        triangles = _triangles(body[n_vertices:n_vertices + n_faces])
    except ValueError:
        raise BadInput(f"{path.name} is corrupt: a vertex or face line is not numbers") from None
    if vertices.shape != (n_vertices, 3) or (triangles.size and not
                                             0 <= triangles.min() <= triangles.max() < n_vertices):
        raise BadInput(f"{path.name} is corrupt: a vertex has fewer than 3 coordinates "
                       f"or a face names a vertex that does not exist")
    return vertices, triangles


def _counts(text: str, path: Path) -> tuple[int, int]:
    """(vertex count, face count) from the header's counts line."""
    try:
        n_vertices, n_faces = (int(v) for v in text.split()[:2])
    except ValueError:
        raise BadInput(f"{path.name} is corrupt: no 'vertices faces edges' counts after OFF") from None
    if n_vertices < 0 or n_faces < 0:
        raise BadInput(f"{path.name} is corrupt: negative vertex or face count")
    return n_vertices, n_faces


def _triangles(face_lines: list[str]) -> np.ndarray:
    """Face lines "k i1 .. ik [colour]" as triangle fans (F, 3); ValueError when malformed."""
    triangles = []
    for line in face_lines:
        tokens = line.split()
        size = int(tokens[0])
        corners = [int(t) for t in tokens[1:1 + size]]
        if len(corners) < size:
            raise ValueError("face line shorter than its corner count")
        triangles.extend((corners[0], corners[j], corners[j + 1]) for j in range(1, size - 1))
    return np.array(triangles, dtype=np.int64).reshape(-1, 3)


def sample_surface(vertices: np.ndarray, triangles: np.ndarray, count: int, rng):
    """`count` points uniform by area on the triangles, with unit face normals
    oriented by the vertex order (counter-clockwise seen from outside, the OFF convention).
    None when every triangle has zero area."""
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    cross = np.cross(b - a, c - a)
    areas = np.linalg.norm(cross, axis=1)
    if not areas.sum() > 0:
        return None
    face = rng.choice(len(areas), count, p=areas / areas.sum())
    u, v = rng.random((2, count))
    outside = u + v > 1  # reflect back into the triangle: uniform barycentric coordinates
    u[outside], v[outside] = 1 - u[outside], 1 - v[outside]
    points = a[face] + u[:, None] * (b - a)[face] + v[:, None] * (c - a)[face]
    return points, cross[face] / areas[face, None]
