"""The result of `part-interpretability`: per layer, each filter's IoU with each part.

With `--model2` the second model's layer is kept beside (arrays `model2/NAME/LAYER`), and the
metrics gain `interpretability_model2/LAYER2`, `accuracy_model2` and `interpretability_gain`
(the first layer's mean minus model2's: the interpretable CNN as --model, its twin as --model2).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.methods._side_by_side import layer_arrays, model2_meta, read_layers, side_by_side, stored_float
from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "part-interpretability"
PER_LAYER = ("threshold", "mean_iou", "hit_rate")


@dataclass
class LayerParts:
    """C filters, P parts.

    threshold: (C,) T_f (step 1)
    mean_iou:  (C,P) mean IoU(S_f, S_k) over the images showing part k (the filter × part heat map)
    hit_rate:  (C,P) P_{f,k}, the share of those images whose IoU exceeds the cut (step 4)
    """

    threshold: np.ndarray
    mean_iou: np.ndarray
    hit_rate: np.ndarray

    def part(self) -> np.ndarray:
        """(C,) the part each filter is assigned: argmax_k P_{f,k} (step 5); -1 where no part was shown."""
        shown = ~np.isnan(self.hit_rate)
        best = np.argmax(np.where(shown, self.hit_rate, -1.0), axis=1)
        return np.where(shown.any(1), best, -1)

    def interpretability(self) -> np.ndarray:
        """(C,) P_f = max_k P_{f,k} (step 5); NaN where no part was shown."""
        shown = ~np.isnan(self.hit_rate)
        best = np.max(np.where(shown, self.hit_rate, -np.inf), axis=1)
        return np.where(shown.any(1), best, np.nan)


@dataclass
class PartInterpretabilityResult:
    config: object
    layers: dict               # layer → LayerParts
    part_names: list           # the parts measured (P)
    part_images: np.ndarray    # (P,) images showing each part
    images: np.ndarray         # (N,3,H,W) uint8, as analysed
    sample_names: list
    accuracy: float
    model2: str = ""            # the side-by-side model's spec (--model2); "" without one
    layers2: dict = field(default_factory=dict)   # its default layer → LayerParts
    accuracy2: float = float("nan")

    def metrics(self) -> dict:

        def mean(layers):
            values = {layer: m.interpretability() for layer, m in layers.items()}
            return {layer: float(np.nanmean(p)) if np.isfinite(p).any() else float("nan")
                    for layer, p in values.items()}

        return side_by_side("interpretability", mean(self.layers), mean(self.layers2), self.accuracy,
                            self.accuracy2, lambda a, b: a - b, "interpretability_gain")

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"images": self.images, "part_images": self.part_images}
        arrays.update(layer_arrays(self.layers, self.layers2, PER_LAYER))
        meta = {"layers": list(self.layers), "part_names": self.part_names,
                "sample_names": self.sample_names, "accuracy": self.accuracy,
                **model2_meta(self.model2, self.layers2, self.accuracy2)}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "PartInterpretabilityResult":
        from engine.methods.part_interpretability.config import PartInterpretabilityConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        a, meta = record.arrays, record.meta
        layers, layers2 = read_layers(a, meta, LayerParts, PER_LAYER)
        return cls(from_dict(PartInterpretabilityConfig, record.config), layers, meta["part_names"],
                   a["part_images"], a["images"], meta["sample_names"], meta["accuracy"],
                   meta.get("model2", ""), layers2, stored_float(meta.get("accuracy2")))

