"""The result of `part-localization`: per part, the predictions of ours and of both baselines."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "part-localization"
METHODS = ("graph", "filter_peak", "nearest_neighbour")
METRIC_NAMES = {"graph": "distance", "filter_peak": "distance_filter_peak",
                "nearest_neighbour": "distance_nearest_neighbour"}


@dataclass
class Task:
    """One part: annotated images and their clicks (A,2) pixel (x, y); test images, truth (T,2)
    (NaN where unknown) and each method's predictions (T,2)."""

    part: str
    annotated: np.ndarray
    targets: np.ndarray
    test: np.ndarray
    truth: np.ndarray
    predictions: dict = field(default_factory=dict)

    def distances(self, method: str, diagonal: float) -> np.ndarray:
        """(T,) normalized distance of each prediction (§1.8), NaN without truth."""
        return np.linalg.norm(self.predictions[method] - self.truth, axis=1) / diagonal


@dataclass
class PartLocalizationResult:
    config: object
    tasks: list
    images: np.ndarray          # (N,3,H,W) uint8
    sample_names: list
    diagonal: float

    def metrics(self) -> dict:
        out = {"shots": float(len(self.tasks[0].annotated)), "parts": float(len(self.tasks))}
        for method, name in METRIC_NAMES.items():
            per_part = [finite_mean(t.distances(method, self.diagonal)) for t in self.tasks]
            out[name] = finite_mean(per_part)
        # the trivial guess, the shots' mean position, says how much any detector adds
        guesses = [np.linalg.norm(t.truth - t.targets.mean(0), axis=1) / self.diagonal for t in self.tasks]
        out["distance_shot_mean"] = finite_mean([finite_mean(g) for g in guesses])
        for task in self.tasks:
            out[f"distance/{task.part}"] = finite_mean(task.distances("graph", self.diagonal))
        return out

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"images": self.images}
        for i, task in enumerate(self.tasks):
            for name in ("annotated", "targets", "test", "truth"):
                arrays[f"{name}/{i}"] = getattr(task, name)
            arrays.update({f"prediction/{i}/{m}": task.predictions[m] for m in METHODS})
        meta = {"parts": [t.part for t in self.tasks], "sample_names": self.sample_names,
                "diagonal": self.diagonal}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "PartLocalizationResult":
        from engine.methods.part_localization.config import PartLocalizationConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        a = record.arrays
        tasks = [Task(part, *(a[f"{n}/{i}"] for n in ("annotated", "targets", "test", "truth")),
                      predictions={m: a[f"prediction/{i}/{m}"] for m in METHODS})
                 for i, part in enumerate(record.meta["parts"])]
        return cls(from_dict(PartLocalizationConfig, record.config), tasks, a["images"],
                   record.meta["sample_names"], record.meta["diagonal"])


def finite_mean(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")
