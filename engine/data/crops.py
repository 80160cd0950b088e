"""Object crops: each image cut to its object's box and resized back to the image size.

spec: explanatory-graph §0.1 (the convention of the whole line of work): every image is
an object crop, the ground-truth box resized to a fixed square (bilinear), and part
annotations mapped into crop coordinates, p = (part − box_min) / box_size · side. The box
is the foreground mask's extent; pixel centres are at integers (engine.data.types).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from engine.data.types import ImageDataset


def object_boxes(foreground: np.ndarray) -> np.ndarray:
    """(N,4) boxes (x0, y0, x1, y1), inclusive pixel bounds of each mask; the whole image if empty."""
    n, height, width = foreground.shape
    boxes = np.tile(np.array([0, 0, width - 1, height - 1]), (n, 1))
    for i, mask in enumerate(foreground):
        ys, xs = np.nonzero(mask)
        if len(xs):
            boxes[i] = xs.min(), ys.min(), xs.max(), ys.max()
    return boxes


def _resize(region: np.ndarray, size: tuple[int, int], mode: str) -> np.ndarray:
    tensor = torch.from_numpy(np.ascontiguousarray(region, dtype=np.float32))[None]
    kwargs = {"align_corners": False} if mode == "bilinear" else {}
    return F.interpolate(tensor, size=size, mode=mode, **kwargs)[0].numpy()


def object_crops(data: ImageDataset) -> ImageDataset:
    """The dataset as object crops (§0.1); data without foreground masks is returned as it is."""
    if data.foreground is None:
        return data
    height, width = data.image_size
    boxes = object_boxes(data.foreground)
    images = np.empty_like(data.images)
    masks = None if data.part_masks is None else np.empty_like(data.part_masks)
    landmarks = None if data.landmarks is None else np.empty_like(data.landmarks)
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        images[i] = _resize(data.images[i, :, y0:y1 + 1, x0:x1 + 1], (height, width), "bilinear")
        if masks is not None:
            part = data.part_masks[i, :, y0:y1 + 1, x0:x1 + 1]
            masks[i] = _resize(part, (height, width), "nearest") > 0.5
        if landmarks is not None:
            scale = np.array([width / (x1 - x0 + 1), height / (y1 - y0 + 1)])
            landmarks[i] = (data.landmarks[i] - [x0 - 0.5, y0 - 0.5]) * scale - 0.5
    # replace, not subset: a subset would first copy the images and part masks it then drops
    return replace(data, images=images, part_masks=masks, landmarks=landmarks,
                   foreground=None if masks is None else masks.any(1), names=list(data.names),
                   notes=[*data.notes, "object crops: each image cut to its foreground box and resized"])
