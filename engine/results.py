"""Results on disk: `result.json` + `arrays.npz` in one folder, no pickle, atomic.

Every method's result dataclass converts to and from a `ResultRecord`; the record is
what is saved, listed in sessions, exported and shown. Loaders are versioned: an old
`schema_version` is upgraded on load, a newer one is refused with a clear message.
"""
from __future__ import annotations

import math
import os
import platform
import shutil
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.files import read_json, write_json

SCHEMA_VERSION = 1
RESULT_JSON = "result.json"
ARRAYS_NPZ = "arrays.npz"


@dataclass
class ResultRecord:
    """The saved form of any analysis result (DESIGN.md, CLI contract).

    metrics: a flat map of named numbers; per-layer numbers are keyed "NAME/LAYER".
    arrays:  named numpy arrays ("maps/conv5", "attribution/saliency").
    meta:    small JSON-able facts the views need (layer names, sample names, ...).
    """

    kind: str
    method: str
    config: dict
    model: str = ""
    data: str = ""
    seed: int = 0
    status: str = "done"
    metrics: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def header(self) -> dict:
        return {
            "kind": self.kind, "method": self.method,
            "schema_version": self.schema_version, "config": self.config,
            "model": self.model, "data": self.data, "seed": self.seed,
            "versions": self.versions or library_versions(), "status": self.status,
            "metrics": {k: _json_number(v) for k, v in self.metrics.items()},
            "arrays": sorted(self.arrays), "meta": self.meta,
        }


def library_versions() -> dict:
    import torch  # noqa: PLC0415 (heavy; only when saving)

    return {"python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__, "deepscope": _own_version()}


def _own_version() -> str:
    try:
        from importlib.metadata import version  # noqa: PLC0415

        return version("deepscope")
    except Exception:  # running from a source tree that is not installed
        return "0+source"


def _json_number(value):
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def save_result(record: ResultRecord, folder: str | os.PathLike) -> Path:
    """Write the record to `folder` atomically: a reader sees the old or the new, never half."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = folder.parent / f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}"
    temp.mkdir()
    try:
        header = record.header()
        write_json(temp / RESULT_JSON, header)
        np.savez_compressed(temp / ARRAYS_NPZ, **{k: np.asarray(v) for k, v in record.arrays.items()})
        replace_folder(temp, folder)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return folder


def replace_folder(new: Path, target: Path) -> None:
    """Move `new` to `target`, replacing it; the old one is removed only after the swap."""
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_header(folder: str | os.PathLike) -> dict:
    """`result.json` of a result folder, upgraded to the current schema."""
    path = Path(folder) / RESULT_JSON
    header = read_json(path, f"{folder} is not a result folder (no {RESULT_JSON})")
    if not isinstance(header, dict) or not {"kind", "method"} <= header.keys():
        raise BadInput(f"{path} is damaged (no 'kind' and 'method' of a result)")
    return _upgrade(header, path)


def _upgrade(header: dict, path: Path) -> dict:
    version = header.get("schema_version", 0)
    if version > SCHEMA_VERSION:
        raise BadInput(f"{path} was written by a newer DeepScope (schema {version} > {SCHEMA_VERSION})")
    if version == 0:  # schema 0 (pre-release) had no meta and no versions
        header = {**header, "meta": header.get("meta", {}), "versions": header.get("versions", {}),
                  "schema_version": 1}
    return header


def load_result(folder: str | os.PathLike) -> ResultRecord:
    header = read_header(folder)
    arrays = _read_arrays(Path(folder) / ARRAYS_NPZ, header.get("arrays", []))
    return ResultRecord(
        kind=header["kind"], method=header["method"], config=header.get("config", {}),
        model=header.get("model", ""), data=header.get("data", ""), seed=header.get("seed", 0),
        status=header.get("status", "done"),
        metrics={k: (math.nan if v is None else v) for k, v in header.get("metrics", {}).items()},
        arrays=arrays, meta=header.get("meta", {}), versions=header.get("versions", {}),
        schema_version=header["schema_version"],
    )


def _read_arrays(path: Path, expected: list[str]) -> dict:
    if not expected:
        return {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise BadInput(f"{path} is damaged or missing ({exc})") from None
    missing = sorted(set(expected) - set(arrays))
    if missing:
        raise BadInput(f"{path} lacks arrays the result lists: {', '.join(missing)}")
    return arrays
