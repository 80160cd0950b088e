"""The result of `activations`: feature maps, per-filter statistics, top samples per filter;
for an interpretable layer also what its masks did (spec: interpretable-cnn §2.12)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "activations"
MASKED_FIELDS = ("raw", "template", "mu", "rf_centre", "beta")


@dataclass
class MaskedLayer:
    """An interpretable layer on the S kept samples (spec: interpretable-cnn §2.3, §0.2).

    raw:       (S,C,h,w) its input x, the post-ReLU maps before the mask
    template:  (S,C,h,w) the mask T_μ̂ it chose (the L1 diamond, floor −1); its output,
               `maps`, is relu(raw · template)
    mu:        (S,C,2) μ̂ as (row, col) units
    rf_centre: (S,C,2) μ̂'s receptive-field centre, pixel (x, y) as the landmarks'
    beta:      (C,) each filter's β_f (the diamond reaches zero at normalised distance 1/β_f)
    grid:      (centre, stride) of the layer's units in pixels (§0.2)
    """

    raw: np.ndarray
    template: np.ndarray
    mu: np.ndarray
    rf_centre: np.ndarray
    beta: np.ndarray
    grid: tuple


@dataclass
class MaskedView:
    """One filter on one kept sample: the four panels of the interpretable view."""

    image: np.ndarray       # (3,H,W)
    raw: np.ndarray         # (h,w)
    template: np.ndarray    # (h,w)
    masked: np.ndarray      # (h,w), the layer's output
    mu: np.ndarray          # (2,) μ̂ as (row, col)
    rf_centre: np.ndarray   # (2,) pixel (x, y)
    outline: np.ndarray     # (5,2) pixel (x, y): the diamond's zero line, closed

    def levels(self) -> tuple[float, float]:
        """Colour limits of the raw map, which the masked map shares (masked ≤ raw: mask ≤ 1);
        from 0 at most, so that what the mask silenced has the colour of a silent raw cell."""
        lo, hi = min(0.0, float(self.raw.min())), float(self.raw.max())
        return lo, hi if hi > lo else lo + 1.0


def masked_view(record: ResultRecord, layer: str, sample: int, filt: int) -> MaskedView:
    """The interpretable view of `filt` on kept sample `sample`, read from a saved record."""
    a = record.arrays
    raw = a[f"raw/{layer}"][sample, filt]
    centre = a[f"rf_centre/{layer}"][sample, filt]
    stride = record.meta["masked_grids"][layer][1]
    # zero line of max(1 − β‖u − μ̂‖₁, ·) on the [−1, 1] grid: (n − 1)/(2β) cells a side (§2.3)
    reach = stride * (np.array(raw.shape[::-1]) - 1) / (2 * float(a[f"beta/{layer}"][filt]))
    steps = np.array([[0, -1], [1, 0], [0, 1], [-1, 0], [0, -1]])
    return MaskedView(a["images"][sample], raw, a[f"template/{layer}"][sample, filt],
                      a[f"maps/{layer}"][sample, filt], a[f"mu/{layer}"][sample, filt], centre,
                      centre + steps * reach)


@dataclass
class ActivationsResult:
    """All arrays per layer; N samples, C filters, S kept samples, k top samples.

    images:        (S,3,H,W) inputs of the kept samples
    maps:          layer → (S,C,h,w) their feature maps
    filter_max:    layer → (N,C) each filter's spatial maximum on each sample
    filter_mean:   layer → (N,C) its spatial mean
    topk_index:    layer → (C,k) dataset indices of each filter's top samples
    topk_maps:     layer → (C,k,h,w) that filter's map on each of them
    top_images:    (U,3,H,W) inputs of every sample that is a top sample somewhere
    top_image_index: (U,) their dataset indices
    """

    config: object
    layers: list
    sample_names: list
    labels: np.ndarray
    predictions: np.ndarray
    images: np.ndarray
    maps: dict
    filter_max: dict
    filter_mean: dict
    topk_index: dict
    topk_maps: dict
    top_images: np.ndarray
    top_image_index: np.ndarray
    class_names: list
    masked: dict = field(default_factory=dict)   # interpretable layer → MaskedLayer

    def metrics(self) -> dict:
        """Means over filters and samples, per layer (issue 2, names scripts rely on)."""
        out = {}
        for layer in self.layers:
            out[f"max_activation/{layer}"] = float(self.filter_max[layer].mean())
            out[f"mean_activation/{layer}"] = float(self.filter_mean[layer].mean())
        known = self.labels >= 0
        if known.any():
            out["accuracy"] = float((self.predictions[known] == self.labels[known]).mean())
        return out

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"images": self.images, "labels": self.labels, "predictions": self.predictions,
                  "top_images": self.top_images, "top_image_index": self.top_image_index}
        for name in ("maps", "filter_max", "filter_mean", "topk_index", "topk_maps"):
            arrays.update({f"{name}/{layer}": getattr(self, name)[layer] for layer in self.layers})
        for layer, m in self.masked.items():
            arrays.update({f"{name}/{layer}": getattr(m, name) for name in MASKED_FIELDS})
        meta = {"layers": self.layers, "sample_names": self.sample_names,
                "class_names": self.class_names,
                "masked_grids": {layer: list(m.grid) for layer, m in self.masked.items()}}
        return ResultRecord(KIND, "activations", to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "ActivationsResult":
        from engine.methods.activations.config import ActivationsConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        layers, a = record.meta["layers"], record.arrays
        per_layer = {name: {layer: a[f"{name}/{layer}"] for layer in layers}
                     for name in ("maps", "filter_max", "filter_mean", "topk_index", "topk_maps")}
        masked = {layer: MaskedLayer(*(a[f"{name}/{layer}"] for name in MASKED_FIELDS), tuple(grid))
                  for layer, grid in record.meta.get("masked_grids", {}).items()}
        return cls(from_dict(ActivationsConfig, record.config), layers, record.meta["sample_names"],
                   a["labels"], a["predictions"], a["images"], top_images=a["top_images"],
                   top_image_index=a["top_image_index"], class_names=record.meta["class_names"],
                   masked=masked, **per_layer)
