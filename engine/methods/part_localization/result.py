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
# step_getResult's other two numbers (§1.8), each method's name as in METRIC_NAMES
RATES = ("detection_rate", "centre_in_box_rate")
MIRRORED = ("graph", "filter_peak")     # the methods that may read a test image mirrored
MIN_IOU = 0.5


@dataclass
class Task:
    """One part: annotated images and their clicks (A,2) pixel (x, y); test images, truth (T,2)
    (NaN where unknown), each method's predictions (T,2) and whether they were read on the
    test image's mirror (T,) (`mirror` setting). With part masks, the test images'
    part boxes (T,4) x0, y0, x1, y1 inclusive (NaN where unknown) and the annotated parts' mean
    box size (2,) w, h: a prediction's box is that size around it (the reference's pHW_avg)."""

    part: str
    annotated: np.ndarray
    targets: np.ndarray
    test: np.ndarray
    truth: np.ndarray
    predictions: dict = field(default_factory=dict)
    mirrored: dict = field(default_factory=dict)
    boxes: np.ndarray | None = None
    box_size: np.ndarray | None = None

    def distances(self, method: str, diagonal: float) -> np.ndarray:
        """(T,) normalized distance of each prediction (§1.8), NaN without truth."""
        return np.linalg.norm(self.predictions[method] - self.truth, axis=1) / diagonal

    def rates(self, method: str) -> dict:
        """Per test image (T,), 1/0 (NaN without a box): the predicted box overlaps the part's
        with IoU ≥ 0.5 (detection), and the prediction lies inside the part's box (§1.8)."""
        if self.boxes is None or self.box_size is None or not np.isfinite(self.box_size).all():
            return {rate: np.full(len(self.test), np.nan) for rate in RATES}
        p, truth = self.predictions[method], self.boxes
        known = np.isfinite(truth).all(1)
        low, high = np.round(p - self.box_size / 2), np.round(p + self.box_size / 2)  # getBox
        overlap = (np.minimum(high, truth[:, 2:]) - np.maximum(low, truth[:, :2]) + 1).clip(0).prod(1)
        union = (high - low + 1).prod(1) + (truth[:, 2:] - truth[:, :2] + 1).prod(1) - overlap
        inside = ((p >= truth[:, :2]) & (p <= truth[:, 2:])).all(1)
        return dict(zip(RATES, (np.where(known, overlap / union >= MIN_IOU, np.nan),
                                np.where(known, inside, np.nan))))


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
        for method, name in METRIC_NAMES.items():
            per_part = [t.rates(method) for t in self.tasks]
            for rate in RATES:
                out[rate_name(rate, name)] = finite_mean([finite_mean(r[rate]) for r in per_part])
        for method in MIRRORED:
            out[rate_name("mirrored_share", METRIC_NAMES[method])] = finite_mean(
                [finite_mean(t.mirrored[method]) for t in self.tasks])
        for task in self.tasks:
            out[f"distance/{task.part}"] = finite_mean(task.distances("graph", self.diagonal))
        return out

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"images": self.images}
        for i, task in enumerate(self.tasks):
            for name in ("annotated", "targets", "test", "truth", "boxes", "box_size"):
                if getattr(task, name) is not None:
                    arrays[f"{name}/{i}"] = getattr(task, name)
            arrays.update({f"prediction/{i}/{m}": task.predictions[m] for m in METHODS})
            arrays.update({f"mirrored/{i}/{m}": task.mirrored[m] for m in MIRRORED})
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
                      predictions={m: a[f"prediction/{i}/{m}"] for m in METHODS},
                      mirrored={m: a.get(f"mirrored/{i}/{m}", np.zeros(len(a[f"test/{i}"]), bool))
                                for m in MIRRORED},
                      boxes=a.get(f"boxes/{i}"), box_size=a.get(f"box_size/{i}"))
                 for i, part in enumerate(record.meta["parts"])]
        return cls(from_dict(PartLocalizationConfig, record.config), tasks, a["images"],
                   record.meta["sample_names"], record.meta["diagonal"])


def rate_name(rate: str, distance_name: str) -> str:
    """The rate's metric name for the method whose distance is `distance_name`:
    detection_rate, detection_rate_filter_peak, ..."""
    return rate + distance_name.removeprefix("distance")


def finite_mean(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")
