"""The result of `transplant` (spec: concepts-bias-trees §6): the new category's held-out images
segmented by each variant of the modular network, and how well.

Variants (`variants`, with the labelled new-category images each used, `labelled`): `teacher`
(the new category's own network h(f_new), what is distilled), `transplanted` (g(a(f_new)), the
adapter learnt without labels) and `finetune_K` (the adapter learnt from K labelled images).
Arrays: `probability` (E, V, h, w) foreground probabilities on the E held-out images, `truth`
(E, h, w), the same for the other categories' held-out images through their own modules
(`old_probability`, `old_truth`), and the first KEPT held-out images. Metrics per variant:
`accuracy_NAME` (pixel accuracy at 0.5) and `iou_NAME` (foreground IoU, 1 where both are empty),
means over the images; `accuracy_old_categories`, `iou_old_categories`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "transplant"
KEPT = 8  # held-out images whose pixels the result keeps for the view
ARRAYS = ("probability", "truth", "old_probability", "old_truth", "images")


def pixel_accuracy(probability: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(…,) per image: the share of cells where p > 0.5 says what the mask says."""
    return ((probability > 0.5) == (truth > 0.5)).mean((-2, -1))


def iou(probability: np.ndarray, truth: np.ndarray) -> np.ndarray:
    predicted, actual = probability > 0.5, truth > 0.5
    union = (predicted | actual).sum((-2, -1))
    return np.where(union > 0, (predicted & actual).sum((-2, -1)) / np.maximum(union, 1), 1.0)


@dataclass
class TransplantResult:
    config: object
    new_category: str
    variants: list           # V names
    labelled: list           # V: labelled new-category images each used
    probability: np.ndarray  # (E, V, h, w)
    truth: np.ndarray        # (E, h, w)
    old_probability: np.ndarray  # (O, h, w)
    old_truth: np.ndarray        # (O, h, w)
    images: np.ndarray           # (≤KEPT, 3, H, W) uint8
    sample_names: list           # E

    def scores(self) -> list[tuple[str, int, float, float]]:
        """(variant, labelled images, accuracy, IoU) per variant, then the old categories."""
        truth = self.truth[:, None]
        accuracy, overlap = pixel_accuracy(self.probability, truth).mean(0), iou(self.probability, truth).mean(0)
        rows = [(n, k, float(a), float(o)) for n, k, a, o in zip(self.variants, self.labelled, accuracy, overlap)]
        return rows + [("old_categories", -1, float(pixel_accuracy(self.old_probability, self.old_truth).mean()),
                        float(iou(self.old_probability, self.old_truth).mean()))]

    def metrics(self) -> dict:
        out = {}
        for name, _, accuracy, overlap in self.scores():
            out[f"accuracy_{name}"], out[f"iou_{name}"] = accuracy, overlap
        return out

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        meta = {"new_category": self.new_category, "variants": self.variants, "labelled": self.labelled,
                "sample_names": self.sample_names}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed, metrics=self.metrics(),
                            arrays={name: getattr(self, name) for name in ARRAYS}, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "TransplantResult":
        from engine.methods.transplant.config import TransplantConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        meta, a = record.meta, record.arrays
        return cls(from_dict(TransplantConfig, record.config), meta["new_category"], meta["variants"],
                   meta["labelled"], *(a[name] for name in ARRAYS), meta["sample_names"])
