"""Raw input arrays: `npy:FILE` — a .npy of images, or a .npz with `x` (and `y`)."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from engine.data.types import ImageDataset
from engine.errors import BadInput


def load_arrays(path: str, spec: str) -> ImageDataset:
    x, y = _read(Path(path))
    x = _channels_first(np.asarray(x), path)
    if not np.isfinite(x).all():
        raise BadInput(f"{path} holds NaN or Inf pixel values")
    if x.max() > 1.0 + 1e-6 or x.min() < -1e-6:  # 8-bit style values: scale to [0, 1]
        if x.min() < 0 or x.max() > 255:
            raise BadInput(f"{path}: pixel values span {x.min():.3g}..{x.max():.3g}; expected [0,1] or [0,255]")
        x = x / 255.0
    labels = np.full(len(x), -1, np.int64) if y is None else np.asarray(y, np.int64).reshape(-1)
    if len(labels) != len(x):
        raise BadInput(f"{path}: {len(x)} images but {len(labels)} labels")
    classes = [str(c) for c in range(int(labels.max()) + 1)] if len(labels) and labels.max() >= 0 else []
    return ImageDataset(x.astype(np.float32), labels, classes, spec=spec,
                        names=[f"{Path(path).stem}-{i}" for i in range(len(x))])


def _read(path: Path):
    if not path.is_file():
        raise BadInput(f"array file {path} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise BadInput(f"{path} is not a readable .npy/.npz without pickled objects ({exc})") from None
    if isinstance(loaded, np.ndarray):
        return loaded, None
    with loaded:
        if "x" not in loaded.files:
            raise BadInput(f"{path} has no array 'x' (it has: {', '.join(loaded.files)})")
        return loaded["x"], loaded["y"] if "y" in loaded.files else None


def _channels_first(x: np.ndarray, path: str) -> np.ndarray:
    if x.ndim == 3:  # (N, H, W) grayscale
        x = np.repeat(x[:, None], 3, axis=1)
    if x.ndim != 4:
        raise BadInput(f"{path}: images must be (N,3,H,W) or (N,H,W,3), got shape {x.shape}")
    if x.shape[1] != 3 and x.shape[-1] == 3:
        x = x.transpose(0, 3, 1, 2)
    if x.shape[1] != 3:
        raise BadInput(f"{path}: images must have 3 channels, got shape {x.shape}")
    return x
