"""Typed datasets: what every method receives from `engine.data.load_data`.

An image dataset keeps its pixels as one float32 array (N, 3, H, W) in [0, 1] so that
batching is slicing; the ground truth that generated data carries rides along as arrays
(NaN / empty where a sample has no such part). A text dataset keeps its sentences as
strings: turning words into tokens belongs to the model (`LoadedModel.tokenizer`).
A point dataset keeps every cloud at one point count, (N, P, 3), centred and scaled
into the unit sphere, so that batching is slicing too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ImageDataset:
    """Images with optional ground truth.

    images:      (N, 3, H, W) float32 in [0, 1]
    labels:      (N,) int64, -1 where unknown
    class_names: one name per label value
    part_names:  global part vocabulary, e.g. "car/wheel_front"
    landmarks:   (N, P, 2) float32 pixel centres (x, y); NaN where the part is absent
    part_masks:  (N, P, H, W) bool (amodal part shapes), or None
    foreground:  (N, H, W) bool, or None
    attributes:  (N, A) bool, or None
    attribute_names: one name per attribute column
    names:       one display name per sample (file name or "partworld-17")
    spec:        the data spec string it came from
    notes:       one-line remarks on what loading skipped or converted
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    spec: str = ""
    part_names: list[str] = field(default_factory=list)
    landmarks: np.ndarray | None = None
    part_masks: np.ndarray | None = None
    foreground: np.ndarray | None = None
    attributes: np.ndarray | None = None
    attribute_names: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    kind = "image"

    def __post_init__(self) -> None:
        if not self.names:
            self.names = [f"sample-{i}" for i in range(len(self))]

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.images.shape[2]), int(self.images.shape[3])

    def subset(self, indices) -> "ImageDataset":
        """The samples at `indices`, ground truth included."""
        idx = np.asarray(indices, dtype=np.int64)

        def pick(a):
            return None if a is None else a[idx]

        return ImageDataset(
            images=self.images[idx], labels=self.labels[idx], class_names=self.class_names,
            spec=self.spec, part_names=self.part_names, landmarks=pick(self.landmarks),
            part_masks=pick(self.part_masks), foreground=pick(self.foreground),
            attributes=pick(self.attributes), attribute_names=self.attribute_names,
            names=[self.names[i] for i in idx], notes=list(self.notes),
        )


@dataclass
class TextDataset:
    """Sentences with optional ground truth.

    texts:         one sentence a sample; its words are its whitespace-separated pieces
    labels:        (N,) int64, -1 where unknown
    class_names:   one name per label value
    keyword_masks: per sentence, (n_words,) bool marking the words that decide its label
                   (generated data), or None for user text
    names:         one display name per sample ("keywordtext-s0-17", "reviews-3")
    spec:          the data spec string it came from
    notes:         one-line remarks on what loading skipped or converted
    """

    texts: list[str]
    labels: np.ndarray
    class_names: list[str]
    spec: str = ""
    keyword_masks: list[np.ndarray] | None = None
    names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    kind = "text"

    def __post_init__(self) -> None:
        if not self.names:
            self.names = [f"sample-{i}" for i in range(len(self))]

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def words(self) -> list[list[str]]:
        """Each sentence split into its words (what `keyword_masks` index)."""
        return [text.split() for text in self.texts]

    def subset(self, indices) -> "TextDataset":
        """The samples at `indices`, ground truth included."""
        idx = [int(i) for i in np.asarray(indices, dtype=np.int64).reshape(-1)]
        masks = None if self.keyword_masks is None else [self.keyword_masks[i] for i in idx]
        return TextDataset(
            texts=[self.texts[i] for i in idx], labels=self.labels[idx], class_names=self.class_names,
            spec=self.spec, keyword_masks=masks, names=[self.names[i] for i in idx],
            notes=list(self.notes))


@dataclass
class PointDataset:
    """Point clouds with optional ground truth.

    points:      (N, P, 3) float32, each cloud centred at the origin inside the unit sphere
    labels:      (N,) int64, -1 where unknown
    class_names: one name per label value
    normals:     (N, P, 3) float32 unit outward normals, or None
    part_labels: (N, P) int64 indices into part_names, -1 where unknown; or None
    part_names:  global part vocabulary, e.g. "chair/seat"
    names:       one display name per sample (file name or "shapeworld-s0-17")
    spec:        the data spec string it came from
    notes:       one-line remarks on what loading dropped, resampled or converted
    """

    points: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    spec: str = ""
    normals: np.ndarray | None = None
    part_labels: np.ndarray | None = None
    part_names: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    kind = "points"

    def __post_init__(self) -> None:
        if not self.names:
            self.names = [f"sample-{i}" for i in range(len(self))]

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def num_points(self) -> int:
        """P, the points of every cloud."""
        return int(self.points.shape[1])

    def subset(self, indices) -> "PointDataset":
        """The clouds at `indices`, ground truth included."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)

        def pick(a):
            return None if a is None else a[idx]

        return PointDataset(
            points=self.points[idx], labels=self.labels[idx], class_names=self.class_names,
            spec=self.spec, normals=pick(self.normals), part_labels=pick(self.part_labels),
            part_names=self.part_names, names=[self.names[i] for i in idx], notes=list(self.notes))
