"""Datasets from a spec string (DESIGN.md, "Data specs").

`demo:partworld?n=200&seed=1`, `demo:shapeworld?n=200&seed=1&points=1024` and
`demo:keywordtext?n=200&seed=1` (generated, with ground truth), `folder:DIR` (an image
folder), `npy:FILE` (raw arrays), `text:FILE` (sentences), `points:PATH` (a point-cloud file
or folder) and `modelnet-h5:FILE` (ModelNet HDF5), both with `?points=N&seed=S`.
"""
from __future__ import annotations

from engine.data.types import ImageDataset, PointDataset, TextDataset
from engine.errors import BadInput, choices
from engine.specs import parse_spec

DATA_KINDS = ("demo", "folder", "npy", "text", "points", "modelnet-h5")
DEMO_DATA = ("partworld", "shapeworld", "keywordtext")
DEFAULT_SIZE = (96, 96)


def load_data(spec: str, size: tuple[int, int] | None = None,
              progress=None) -> ImageDataset | TextDataset | PointDataset:
    """Load the dataset a spec names; `size` resizes user images to what the model takes."""
    parsed = parse_spec(spec, DATA_KINDS, "data")
    if parsed.kind == "demo":
        return _load_demo(parsed, progress)
    if parsed.kind in ("points", "modelnet-h5"):
        return _load_point_files(parsed, progress)
    if parsed.query:
        raise BadInput(f"data spec {spec!r}: {parsed.kind}: takes no options after '?'")
    if parsed.kind == "folder":
        from engine.data.folder import load_folder  # noqa: PLC0415

        return load_folder(parsed.target, size or DEFAULT_SIZE, spec, progress)
    if parsed.kind == "text":
        from engine.data.textfile import load_text_file  # noqa: PLC0415

        return load_text_file(parsed.target, spec)
    from engine.data.arrays import load_arrays  # noqa: PLC0415

    return load_arrays(parsed.target, spec)


def _load_point_files(parsed, progress) -> PointDataset:
    from engine.data import pointfiles  # noqa: PLC0415

    options = pointfiles.parse_options(parsed.query)
    if parsed.kind == "points":
        return pointfiles.load_points(parsed.target, parsed.text, options, progress)
    from engine.data.modelnet_h5 import load_modelnet_h5  # noqa: PLC0415

    return load_modelnet_h5(parsed.target, parsed.text, options)


def _load_demo(parsed, progress) -> ImageDataset | TextDataset | PointDataset:
    if parsed.target not in DEMO_DATA:
        raise BadInput(f"unknown demo data {parsed.target!r}; valid: {choices(DEMO_DATA)}")
    if parsed.target == "keywordtext":
        from engine.data import keywordtext as generator  # noqa: PLC0415
    elif parsed.target == "shapeworld":
        from engine.data import shapeworld as generator  # noqa: PLC0415
    else:
        from engine.data import partworld as generator  # noqa: PLC0415

    dataset = generator.generate(generator.parse_options(parsed.query), progress)
    dataset.spec = parsed.text
    return dataset
