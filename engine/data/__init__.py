"""Datasets from a spec string (DESIGN.md, "Data specs").

`demo:partworld?n=200&seed=1` (generated, with ground truth), `folder:DIR` (an image
folder), `npy:FILE` (raw arrays).
"""
from __future__ import annotations

from engine.data.types import ImageDataset
from engine.errors import BadInput, choices
from engine.specs import parse_spec

DATA_KINDS = ("demo", "folder", "npy")
DEMO_DATA = ("partworld",)
DEFAULT_SIZE = (96, 96)


def load_data(spec: str, size: tuple[int, int] | None = None, progress=None) -> ImageDataset:
    """Load the dataset a spec names; `size` resizes user images to what the model takes."""
    parsed = parse_spec(spec, DATA_KINDS, "data")
    if parsed.kind == "demo":
        return _load_demo(parsed, progress)
    if parsed.query:
        raise BadInput(f"data spec {spec!r}: {parsed.kind}: takes no options after '?'")
    if parsed.kind == "folder":
        from engine.data.folder import load_folder  # noqa: PLC0415

        return load_folder(parsed.target, size or DEFAULT_SIZE, spec, progress)
    from engine.data.arrays import load_arrays  # noqa: PLC0415

    return load_arrays(parsed.target, spec)


def _load_demo(parsed, progress) -> ImageDataset:
    if parsed.target not in DEMO_DATA:
        raise BadInput(f"unknown demo data {parsed.target!r}; valid: {choices(DEMO_DATA)}")
    from engine.data import partworld  # noqa: PLC0415

    dataset = partworld.generate(partworld.parse_options(parsed.query), progress)
    dataset.spec = parsed.text
    return dataset
