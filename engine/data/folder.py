"""User image folders: `folder:DIR`, classes from sub-folders (ImageFolder layout) or flat.

Every odd file gets a decision and a note, never a crash: grayscale and palette images
become RGB, an alpha channel is composited on white, files that are not images are
skipped and named in the dataset's notes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.data.types import ImageDataset
from engine.errors import BadInput

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def load_folder(root: str, size: tuple[int, int], spec: str, progress=None) -> ImageDataset:
    folder = Path(root)
    if not folder.is_dir():
        raise BadInput(f"image folder {root} does not exist")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    class_names = sorted({p.parent.name for p in files if p.parent != folder})
    images, labels, names, notes = [], [], [], []
    for i, path in enumerate(files):
        if progress is not None and i % 32 == 0:
            progress.step(i, len(files), f"reading {path.name}")
        pixels, note = read_rgb(path, size)
        if note:
            notes.append(note)
        if pixels is not None:
            images.append(pixels)
            labels.append(class_names.index(path.parent.name) if path.parent != folder else -1)
            names.append(str(path.relative_to(folder)))
    if not images:
        raise BadInput(f"image folder {root} holds no readable image ({len(files)} other files)")
    return ImageDataset(np.stack(images), np.asarray(labels, dtype=np.int64), class_names,
                        spec=spec, names=names, notes=notes)


def read_rgb(path: Path, size: tuple[int, int]) -> tuple[np.ndarray | None, str]:
    """(3,H,W) float32 in [0,1] resized to `size`, and a note on what was converted or skipped."""
    try:
        with Image.open(path) as image:
            mode = image.mode
            rgb = _to_rgb(image)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        reason = "not an image" if isinstance(exc, UnidentifiedImageError) else "unreadable"
        return None, f"skipped {path.name}: {reason}"
    rgb = rgb.resize((size[1], size[0]), Image.BILINEAR)
    pixels = np.asarray(rgb, dtype=np.float32).transpose(2, 0, 1) / 255.0
    note = "" if mode == "RGB" else f"converted {path.name} from {mode} to RGB"
    return pixels, note


def _to_rgb(image: Image.Image) -> Image.Image:
    image.load()
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")
