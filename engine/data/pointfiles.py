"""User point clouds: `points:PATH` (one file or a folder of them), options `?points=&seed=`.

* `.ply .pcd .xyz` are read by `open3d.io.read_point_cloud` (with their normals when the
  file has them); `.off` meshes by engine/data/offmesh.py, then `points` points are
  sampled uniformly by area on the surface with face normals, or, for a mesh with no
  faces, its vertices are the cloud.
* A folder is read recursively; a file's class is the first sub-folder it lies in (the
  ModelNet layout CLASS/train/NAME.off), -1 for files at the top. Unreadable, empty or
  all-NaN files in a folder are skipped with a note; a single such file is a BadInput.
* Every cloud then goes through `fixed_clouds`: points with NaN or infinite coordinates
  are dropped (noted), and the cloud is resampled to exactly `points` points by **random
  sampling** (without replacement, kept in file order; with replacement for the shortfall
  when it has fewer, noted). Random rather than farthest-point sampling: a random subset
  of an area-uniform sample is still area-uniform, the density ShapeWorld and ModelNet
  models are trained on, and it costs O(points) for a cloud of any size. A cloud over
  MAX_POINTS is named in a note as downsampled. Finally each cloud is normalised into
  the unit sphere (engine/data/pointops.py).
Randomness: cloud i draws from SeedSequence(seed, spawn_key=(i,)).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from engine.data import _options
from engine.data.offmesh import read_off, sample_surface
from engine.data.pointops import normalise_to_unit_sphere
from engine.data.types import PointDataset
from engine.errors import BadInput, choices
from engine.specs import check_option_keys

OPEN3D_SUFFIXES = (".ply", ".pcd", ".xyz")
POINT_SUFFIXES = (*OPEN3D_SUFFIXES, ".off")
MAX_POINTS = 1_000_000  # a cloud above it is downsampled with a note
_INTEGER_BOUNDS = {"points": (1, 100_000), "seed": (0, 2**63 - 1)}
_EMPTY_HEADER = re.compile(r"^(element vertex|POINTS)\s+0\s*$", re.MULTILINE)


@dataclass(frozen=True)
class PointReadOptions:
    """How to turn files into a dataset; `parse_options` builds one from a spec's query."""

    points: int = 1024  # points every cloud is resampled to
    seed: int = 0       # of the resampling (and of mesh surface sampling)

    def __post_init__(self) -> None:
        for key, (low, high) in _INTEGER_BOUNDS.items():
            _options.check_integer("point file", key, getattr(self, key), low, high)


def parse_options(query: dict[str, str]) -> PointReadOptions:
    """Options from a spec query, e.g. {"points": "2048", "seed": "1"}."""
    check_option_keys(query, tuple(_INTEGER_BOUNDS), "point file")
    return PointReadOptions(**{k: _options.integer("point file", k, v) for k, v in query.items()})


class RawCloud(NamedTuple):
    """One cloud as read: any number of points; normals / parts None when absent."""

    name: str
    points: np.ndarray
    normals: np.ndarray | None = None
    parts: np.ndarray | None = None
    label: int = -1


def _cloud_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


# ----------------------------------------------------------------- files

def read_cloud(path: Path, count: int, rng) -> RawCloud:
    """One point file as a RawCloud; a BadInput in one line when it holds no usable points."""
    try:
        return _read_mesh(path, count, rng) if path.suffix.lower() == ".off" else _read_open3d(path)
    except OSError as exc:
        raise BadInput(f"{path.name} is unreadable ({exc.strerror or exc})") from None


def _read_open3d(path: Path) -> RawCloud:
    import open3d as o3d  # noqa: PLC0415 - heavy; only point files need it

    with o3d.utility.VerbosityContextManager(o3d.utility.VerbosityLevel.Error):
        cloud = o3d.io.read_point_cloud(str(path), remove_nan_points=False,
                                        remove_infinite_points=False)
    points = np.array(cloud.points)  # copies: the arrays outlive Open3D's cloud
    if len(points) == 0:
        raise BadInput(f"{path.name} holds an empty cloud (0 points)" if _declares_no_points(path) else
                       f"{path.name} is not a readable {path.suffix} file (corrupt or another format)")
    return RawCloud(path.name, points, np.array(cloud.normals) if cloud.has_normals() else None)


def _declares_no_points(path: Path) -> bool:
    """Whether the file is blank or its header declares zero points (so it is not corrupt)."""
    with path.open("rb") as handle:
        head = handle.read(65536).decode("latin-1")
    return not head.strip() or bool(_EMPTY_HEADER.search(head))


def _read_mesh(path: Path, count: int, rng) -> RawCloud:
    vertices, triangles = read_off(path)
    sampled = sample_surface(vertices, triangles, count, rng) if len(triangles) else None
    return RawCloud(path.name, *(sampled or (vertices, None)))


def _point_files(root: Path) -> list[Path]:
    if root.is_file():
        if root.suffix.lower() not in POINT_SUFFIXES:
            raise BadInput(f"{root.name}: not a point-cloud file; readable: {choices(POINT_SUFFIXES)}")
        return [root]
    if not root.is_dir():
        raise BadInput(f"point-cloud path {root} does not exist")
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() in POINT_SUFFIXES)
    if not files:
        raise BadInput(f"folder {root} holds no point-cloud file ({choices(POINT_SUFFIXES)})")
    return files


def load_points(path: str, spec: str, options: PointReadOptions, progress=None) -> PointDataset:
    """`points:PATH`: a point file or a folder of them, as one dataset (module docstring)."""
    root = Path(path)
    files, notes = _point_files(root), []
    top = root if root.is_dir() else root.parent
    class_names = sorted({p.relative_to(top).parts[0] for p in files if p.parent != top})

    def read(i: int, file: Path) -> RawCloud:
        if progress is not None and i % 32 == 0:
            progress.step(i, len(files), f"reading {file.name}")
        name = file.relative_to(top).as_posix()
        label = class_names.index(name.split("/")[0]) if file.parent != top else -1
        cloud = read_cloud(file, options.points, _cloud_rng(options.seed, i))
        return cloud._replace(name=name, label=label)

    return fixed_clouds(_each_or_skip(files, read, notes), class_names, options, spec, notes)


def _each_or_skip(items: list, make, notes: list[str]) -> list:
    """make(i, item) for each item; one that raises BadInput is skipped with a note.

    A lone item's BadInput, or the first one when every item fails, is raised instead.
    """
    done, errors = [], []
    for i, item in enumerate(items):
        try:
            done.append(make(i, item))
        except BadInput as exc:
            errors.append(str(exc))
            notes.append(f"skipped: {exc}")
    if errors and not done:
        raise BadInput(errors[0] if len(items) == 1 else
                       f"no usable cloud among {len(items)}; the first: {errors[0]}")
    return done


# ----------------------------------------------------------------- to fixed size

def fixed_clouds(clouds: list[RawCloud], class_names: list[str], options: PointReadOptions,
                 spec: str, notes: list[str], part_names=()) -> PointDataset:
    """Clouds cleaned, resampled to `options.points` and normalised: one PointDataset."""
    def clean(i: int, cloud: RawCloud) -> RawCloud:
        return _resampled(_finite(cloud, notes), options.points, _cloud_rng(options.seed, i), notes)

    return _dataset(_each_or_skip(clouds, clean, notes), class_names, spec, notes, list(part_names))


def _finite(cloud: RawCloud, notes: list[str]) -> RawCloud:
    """The cloud without its points with NaN or infinite coordinates (a note says how many)."""
    finite = np.isfinite(cloud.points).all(axis=1)
    if len(finite) == 0:
        raise BadInput(f"{cloud.name} holds an empty cloud (0 points)")
    if not finite.any():
        raise BadInput(f"{cloud.name}: every point has NaN or infinite coordinates")
    if finite.all():
        return cloud
    notes.append(f"{cloud.name}: dropped {int((~finite).sum())} of {len(finite)} points "
                 f"with NaN or infinite coordinates")
    return _take(cloud, np.flatnonzero(finite))


def _resampled(cloud: RawCloud, count: int, rng, notes: list[str]) -> RawCloud:
    """Exactly `count` points: a random subset, or every point plus random repeats."""
    have = len(cloud.points)
    if have == count:
        return cloud
    if have > MAX_POINTS:
        notes.append(f"{cloud.name}: {have:,} points exceed the {MAX_POINTS:,}-point cap; "
                     f"randomly downsampled to {count}")
    if have > count:
        return _take(cloud, np.sort(rng.choice(have, count, replace=False)))
    notes.append(f"{cloud.name}: {have} points, fewer than {count}; "
                 f"{count - have} repeated at random")
    return _take(cloud, np.concatenate([np.arange(have), rng.choice(have, count - have)]))


def _take(cloud: RawCloud, rows: np.ndarray) -> RawCloud:
    def pick(a):
        return None if a is None else a[rows]

    return cloud._replace(points=cloud.points[rows], normals=pick(cloud.normals),
                          parts=pick(cloud.parts))


def _dataset(clouds: list[RawCloud], class_names, spec, notes, part_names) -> PointDataset:
    normals = _stacked([c.normals for c in clouds], "normals", notes)
    if normals is not None:  # files may store unnormalised normals; zero ones stay zero
        length = np.linalg.norm(normals, axis=-1, keepdims=True)
        normals = normals / np.where(length > 0, length, 1.0)
    parts = _stacked([c.parts for c in clouds], "part labels", notes)
    points = normalise_to_unit_sphere(np.stack([c.points for c in clouds]).astype(np.float64))
    return PointDataset(
        points=points.astype(np.float32), labels=np.array([c.label for c in clouds], np.int64),
        class_names=list(class_names), spec=spec,
        normals=None if normals is None else normals.astype(np.float32),
        part_labels=None if parts is None else parts.astype(np.int64),
        part_names=part_names if parts is not None else [],
        names=[c.name for c in clouds], notes=notes)


def _stacked(arrays: list, what: str, notes: list[str]):
    """The arrays stacked when every cloud has one; None (noted when only some had) otherwise."""
    present = sum(a is not None for a in arrays)
    if present == len(arrays):
        return np.stack(arrays)
    if present:
        notes.append(f"{what} dropped: only {present} of {len(arrays)} clouds have them")
    return None
