"""ModelNet / ShapeNet-part HDF5 files: `modelnet-h5:FILE`, options `?points=&seed=`.

The layout of the PointNet releases (modelnet40_ply_hdf5_2048, shapenet part hdf5_data):
`data` (N, M, 3) coordinates, `label` (N,) or (N, 1) class indices, optional `normal`
(N, M, 3) and optional `pid` (N, M) part indices (named "part-K"). Class names come from a
sibling `shape_names.txt` (one a line, in label order) when it names every label, else
they are the label numbers. Clouds are cleaned, resampled and normalised exactly as point
files are (engine/data/pointfiles.py `fixed_clouds`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.data.pointfiles import PointReadOptions, RawCloud, fixed_clouds
from engine.data.types import PointDataset
from engine.errors import BadInput, choices

_DATASETS = ("data", "label", "normal", "pid")  # what the PointNet releases store


def load_modelnet_h5(path: str, spec: str, options: PointReadOptions) -> PointDataset:
    """Every cloud of the file as one dataset (module docstring)."""
    file = Path(path)
    arrays = _read(file)
    points, labels = arrays["data"], arrays["label"]
    normals, parts = arrays.get("normal"), arrays.get("pid")
    clouds = [RawCloud(f"{file.stem}-{i}", points[i], None if normals is None else normals[i],
                       None if parts is None else parts[i].astype(np.int64), int(labels[i]))
              for i in range(len(points))]
    part_names = [] if parts is None else [f"part-{k}" for k in range(int(parts.max(initial=0)) + 1)]
    notes: list[str] = []
    return fixed_clouds(clouds, _class_names(file, labels, notes), options, spec, notes, part_names)


def _read(file: Path) -> dict[str, np.ndarray]:
    """The file's datasets, shape-checked; one-line BadInput for what cannot be used."""
    import h5py  # noqa: PLC0415 - only this reader needs it

    if not file.is_file():
        raise BadInput(f"HDF5 file {file} does not exist")
    try:
        with h5py.File(file, "r") as h5:
            if "data" not in h5:
                raise BadInput(f"{file.name} has no dataset 'data' (it has: {choices(h5.keys())})")
            arrays = {key: np.asarray(h5[key]) for key in _DATASETS if key in h5}
    except OSError:
        raise BadInput(f"{file.name} is not a readable HDF5 file") from None
    return _checked(arrays, file.name)


def _checked(arrays: dict, name: str) -> dict:
    data = arrays["data"]
    if data.ndim != 3 or data.shape[2] != 3 or not np.issubdtype(data.dtype, np.number):
        raise BadInput(f"{name}: 'data' must be (clouds, points, 3) numbers, got shape {data.shape}")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise BadInput(f"{name} holds an empty cloud: 'data' has shape {data.shape}")
    clouds = data.shape[0]
    arrays["label"] = np.asarray(arrays.get("label", np.full(clouds, -1))).reshape(-1).astype(np.int64)
    expected = {"label": (clouds,), "normal": data.shape, "pid": data.shape[:2]}
    for key, shape in expected.items():
        if key in arrays and arrays[key].shape != shape:
            raise BadInput(f"{name}: '{key}' has shape {arrays[key].shape}, expected {shape} "
                           f"to match 'data' {data.shape}")
    return arrays


def _class_names(file: Path, labels: np.ndarray, notes: list[str]) -> list[str]:
    """Names from a sibling shape_names.txt when it names every label, else the numbers."""
    needed = int(labels.max(initial=-1)) + 1
    names_file = file.with_name("shape_names.txt")
    if names_file.is_file():
        names = [line.strip() for line in names_file.read_text().splitlines() if line.strip()]
        if len(names) >= needed:
            return names
        notes.append(f"shape_names.txt names {len(names)} classes but labels reach {needed - 1}; "
                     f"classes are numbered instead")
    return [str(k) for k in range(needed)]
