"""The result of `baseline`: one attribution map a pixel per image and baseline."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "attribution"


@dataclass
class BaselineResult:
    """images (N,3,H,W); attributions: baseline → (N,H,W); targets, predictions, labels (N,).

    foreground: (N,H,W) bool where the data has ground truth, else None; it gives the
    pointing metric `foreground_share/METHOD` (share of positive attribution on the object).
    """

    config: object
    layer: str
    images: np.ndarray
    attributions: dict
    targets: np.ndarray
    predictions: np.ndarray
    labels: np.ndarray
    class_names: list
    sample_names: list
    ig_delta: np.ndarray | None = None
    foreground: np.ndarray | None = None

    def metrics(self) -> dict:
        out = {}
        if self.foreground is not None:
            for name, attr in self.attributions.items():
                positive = np.clip(attr, 0, None)
                inside = (positive * self.foreground).sum((1, 2))
                out[f"foreground_share/{name}"] = float(np.mean(inside / (positive.sum((1, 2)) + 1e-12)))
            out["foreground_area"] = float(self.foreground.mean())
        if self.ig_delta is not None:
            out["ig_convergence_delta"] = float(np.abs(self.ig_delta).mean())
        return out

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {f"attribution/{k}": v for k, v in self.attributions.items()}
        arrays.update(images=self.images, targets=self.targets, predictions=self.predictions,
                      labels=self.labels)
        if self.ig_delta is not None:
            arrays["ig_delta"] = self.ig_delta
        if self.foreground is not None:
            arrays["foreground"] = self.foreground
        meta = {"layer": self.layer, "baselines": list(self.attributions),
                "class_names": self.class_names, "sample_names": self.sample_names}
        return ResultRecord(KIND, "baseline", to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "BaselineResult":
        from engine.methods.baseline.config import BaselineConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        a, meta = record.arrays, record.meta
        return cls(from_dict(BaselineConfig, record.config), meta["layer"], a["images"],
                   {k: a[f"attribution/{k}"] for k in meta["baselines"]}, a["targets"],
                   a["predictions"], a["labels"], meta["class_names"], meta["sample_names"],
                   a.get("ig_delta"), a.get("foreground"))
