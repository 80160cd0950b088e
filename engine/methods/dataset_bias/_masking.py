"""The counterfactual masking check (spec: concepts-bias-trees §5.1 table, §5.2 step 4).

For a pair (a, b): a's logit on the images without a and with a, while b's region is left as it
is (original), pasted from a donor face that has b, or masked with the face's own skin colour.
Regions are PartWorld's part masks (`FACE_ATTRIBUTE_PARTS`); a pasted part is moved so that the
donor's part centre lands on this face's (on the face centre when this face lacks the part).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.data.partworld import FACE_ATTRIBUTE_PARTS
from engine.errors import BadInput
from engine.jobs import Progress

GROUPS = ("without", "with")  # rows of the table: images without a, with a
CONDITIONS = ("original", "pasted", "masked")  # columns: what b's region shows


@dataclass
class MaskingCheck:
    """a's mean logit per group × condition (2, 3) and the images in each group (2,)."""

    attribute: str
    region: str
    table: np.ndarray
    counts: np.ndarray

    @property
    def label(self) -> str:
        return f"{self.attribute}:{self.region}"


def has_region(attribute: str) -> bool:
    return bool(FACE_ATTRIBUTE_PARTS.get(attribute))


def region_parts(attribute: str) -> tuple[str, ...]:
    """The face parts that draw `attribute`, or BadInput when it is drawn on no part."""
    if not has_region(attribute):
        raise BadInput(f"attribute {attribute!r} has no part region to paste or mask; regions: "
                       f"{', '.join(k for k in FACE_ATTRIBUTE_PARTS if has_region(k))}")
    return FACE_ATTRIBUTE_PARTS[attribute]


def part_indices(data, attribute: str) -> list[int]:
    """Indices in `data.part_names` of the parts that draw `attribute`."""
    return [data.part_names.index(f"face/{p}") for p in region_parts(attribute)]


def shifted(array: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """`array` (..., H, W) moved by (dy, dx) pixels, zeros where nothing moved in."""
    out = np.zeros_like(array)
    h, w = array.shape[-2:]
    if abs(dy) >= h or abs(dx) >= w:
        return out
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        array[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def pasted(data, i: int, donor: int, parts: list[int]) -> np.ndarray:
    """Image i with the donor's parts painted over it, each moved onto image i's part centre."""
    image, face = data.images[i].copy(), data.part_names.index("face/face")
    for p in parts:
        target = data.landmarks[i, p] if np.isfinite(data.landmarks[i, p]).all() else \
            data.landmarks[i, face] + data.landmarks[donor, p] - data.landmarks[donor, face]
        dx, dy = np.round(target - data.landmarks[donor, p]).astype(int)
        mask = shifted(data.part_masks[donor, p], dy, dx)
        image[:, mask] = shifted(data.images[donor], dy, dx)[:, mask]
    return image


def masked(data, i: int, parts: list[int]) -> np.ndarray:
    """Image i with the parts' region filled with the face's skin colour: the median of the face
    pixels that no other part covers."""
    image, face = data.images[i].copy(), data.part_names.index("face/face")
    others = np.delete(data.part_masks[i], face, axis=0).any(0)
    skin = data.part_masks[i, face] & ~others
    colour = np.median(image[:, skin], axis=1) if skin.any() else image[:, data.part_masks[i, face]].mean(1)
    region = data.part_masks[i, parts].any(0)
    image[:, region] = colour[:, None]
    return image


def check(model, data, logits: np.ndarray, names: list[str], attribute: str, region: str, images: int,
          batch_size: int, rng: np.random.Generator, progress: Progress) -> MaskingCheck:
    """The §5.1 table for (attribute, region) on the first `images` images of the data; `logits`
    (N, A) are the model's on the images as they are (the "original" column)."""
    a, parts = names.index(attribute), part_indices(data, region)
    n = min(images, len(data.images))
    donors = np.flatnonzero(data.attributes[:, data.attribute_names.index(region)])
    if not len(donors):
        raise BadInput(f"no image of the data has {region}: no donor to paste it from")
    chosen = [_donor(rng, donors, i) for i in range(n)]
    scores = np.zeros((n, len(CONDITIONS)))
    scores[:, 0] = logits[:n, a]
    for start in range(0, n, batch_size):
        progress.step(start, n, f"masking check {attribute} with {region}")
        rows = range(start, min(start + batch_size, n))
        versions = [np.stack([pasted(data, i, chosen[i], parts) for i in rows]),
                    np.stack([masked(data, i, parts) for i in rows])]
        with torch.no_grad():
            for c, batch in enumerate(versions, start=1):
                scores[start:start + len(rows), c] = model.module(model.prepare(batch))[:, a].cpu().numpy()
    group = data.attributes[:n, data.attribute_names.index(attribute)].astype(int)
    table = np.array([scores[group == g].mean(0) if (group == g).any() else np.full(len(CONDITIONS), np.nan)
                      for g in range(len(GROUPS))])
    return MaskingCheck(attribute, region, table, np.bincount(group, minlength=len(GROUPS)))


def _donor(rng: np.random.Generator, donors: np.ndarray, i: int) -> int:
    """A face that has the region's attribute, not the face itself when another one does."""
    others = donors[donors != i]
    return int(rng.choice(others if len(others) else donors))
