"""The result of `pointcloud-utility`: the §5.3 metrics and per-point arrays of one or two models.

Arrays per model (the second under `model2/`): `sigma`, `entropy`, `importance` (B, N);
per cloud `calibrated`, `chosen_ratio`, `neighbourhood`, `clipped`, `rotation`; the attacks'
`attack_cost` and `attack_targets` (B, T). Metrics: `information_discarding` (mean entropy,
nats a point), `rotation_robustness` (mean JS divergence: lower is more robust),
`adversarial_robustness` (mean ‖ε‖² of a success: higher is more robust),
`neighbourhood_consistency` (mean local range of log σ²: lower is more consistent),
`information_concentration` (item 2, on data with background points, e.g.
`demo:shapeworld?background=256`: mean entropy of the background points minus that of the
object's, a cloud's difference averaged over clouds: higher concentrates more on the object),
`fooled_share`, `clipped_share`, `calibrated_share`, `accuracy`; each `/model2` for the
second model, and `delta/NAME`: how much the first model is better (positive: better,
whatever the metric's direction), the with/without comparison of §5.4.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.data.shapeworld import BACKGROUND
from engine.methods.explanatory_graph._metrics import nanmean
from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "pointcloud-utility"
LOWER_IS_BETTER = ("information_discarding", "rotation_robustness", "neighbourhood_consistency")
HIGHER_IS_BETTER = ("adversarial_robustness", "information_concentration")
METRICS = ("information_discarding", "information_concentration", "rotation_robustness", "adversarial_robustness",
           "neighbourhood_consistency", "fooled_share", "clipped_share", "calibrated_share", "accuracy")
ARRAYS = ("sigma", "entropy", "importance", "calibrated", "chosen_ratio", "neighbourhood", "clipped",
          "rotation", "attack_cost", "attack_targets")


@dataclass
class ModelUtility:
    layer: str
    sigma: np.ndarray            # (B, N) calibrated σ per point
    entropy: np.ndarray          # (B, N) H_i = 3(½ log 2πe + log σ_i), nats
    importance: np.ndarray       # (B, N) [ours] nats kept: the entropy at the clamp minus H_i
    calibrated: np.ndarray       # (B,) D/D_ref within 5 % of τ
    chosen_ratio: np.ndarray     # (B,) D/D_ref of the reported iterate
    neighbourhood: np.ndarray    # (B,) neighbourhood inconsistency
    clipped: np.ndarray          # (B,) share of points at the clamp (fully discarded, §5.7)
    rotation: np.ndarray         # (B,) JS divergence over rotations; NaN when not measured
    attack_cost: np.ndarray      # (B, T) ‖ε‖² at the first success; NaN: not fooled
    attack_targets: np.ndarray   # (B, T) target classes
    accuracy: float

    def metrics(self, background: np.ndarray | None = None) -> dict:
        """`background` (B, N) marks the points scattered around the objects, if any."""
        fooled = np.isfinite(self.attack_cost)
        per_cloud = nanmean(self.attack_cost, axis=1)  # the mean cost of the targets fooled
        return {"information_discarding": float(self.entropy.mean()),
                "information_concentration": concentration(self.entropy, background),
                "rotation_robustness": float(nanmean(self.rotation)),
                "adversarial_robustness": float(nanmean(per_cloud)),
                "neighbourhood_consistency": float(self.neighbourhood.mean()),
                "fooled_share": float(fooled.mean()) if fooled.size else float("nan"),
                "clipped_share": float(self.clipped.mean()),
                "calibrated_share": float(self.calibrated.mean()),
                "accuracy": self.accuracy}

    def arrays(self, prefix: str) -> dict:
        return {f"{prefix}{name}": getattr(self, name) for name in ARRAYS}

    @classmethod
    def read(cls, arrays: dict, prefix: str, layer: str, accuracy) -> "ModelUtility":
        values = {name: arrays[f"{prefix}{name}"] for name in ARRAYS}
        return cls(layer=layer, accuracy=float("nan") if accuracy is None else float(accuracy), **values)


def concentration(entropy: np.ndarray, background: np.ndarray | None) -> float:
    """Mean H of a cloud's background points minus its object points', averaged over the
    clouds that have both (spec §5.3 item 2, after §3.4's foreground/background split)."""
    if background is None:
        return float("nan")
    both = background.any(axis=1) & (~background).any(axis=1)
    if not both.any():
        return float("nan")
    inside = [entropy[i][background[i]].mean() - entropy[i][~background[i]].mean() for i in np.flatnonzero(both)]
    return float(np.mean(inside))


def background_mask(part_labels: np.ndarray | None, part_names: list) -> np.ndarray | None:
    """The points of the data's "background" part (same shape as part_labels), or None."""
    if part_labels is None or BACKGROUND not in part_names:
        return None
    return part_labels == part_names.index(BACKGROUND)


def compared(first: dict, second: dict) -> dict:
    """delta/NAME: the first model's advantage over the second, positive when it is better."""
    out = {}
    for name in LOWER_IS_BETTER + HIGHER_IS_BETTER:
        sign = 1.0 if name in HIGHER_IS_BETTER else -1.0
        out[f"delta/{name}"] = sign * (first[name] - second[name])
    return out


@dataclass
class PointUtilityResult:
    config: object
    points: np.ndarray           # (B, N, 3) the analysed clouds
    labels: np.ndarray           # (B,)
    class_names: list
    sample_names: list
    model: ModelUtility
    model2: ModelUtility | None = None
    model2_spec: str = ""
    part_labels: np.ndarray | None = None   # (B, N) indices into part_names, −1 unknown; None: no parts
    part_names: list = field(default_factory=list)

    def metrics(self) -> dict:
        background = self.background()
        out = self.model.metrics(background)
        if self.model2 is not None:
            second = self.model2.metrics(background)
            out.update({f"{k}/model2": v for k, v in second.items()})
            out.update(compared(out, second))
        return {k: v for k, v in out.items() if v == v}  # NaN (not measured) is left out: JSON has none

    def background(self) -> np.ndarray | None:
        return background_mask(self.part_labels, self.part_names)

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"points": self.points, "labels": self.labels, **self.model.arrays("")}
        if self.model2 is not None:
            arrays.update(self.model2.arrays("model2/"))
        if self.part_labels is not None:
            arrays["part_labels"] = self.part_labels
        meta = {"part_names": self.part_names, "class_names": self.class_names, "sample_names": self.sample_names, "layer": self.model.layer,
                "accuracy": _json(self.model.accuracy), "model2": self.model2_spec,
                "layer2": self.model2.layer if self.model2 else None,
                "accuracy2": _json(self.model2.accuracy) if self.model2 else None,
                "coarse": self.config.coarse}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "PointUtilityResult":
        from engine.methods.pointcloud_utility.config import PointUtilityConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        a, meta = record.arrays, record.meta
        second = (ModelUtility.read(a, "model2/", meta["layer2"], meta["accuracy2"])
                  if meta.get("model2") else None)
        return cls(from_dict(PointUtilityConfig, record.config), a["points"], a["labels"], meta["class_names"],
                   meta["sample_names"], ModelUtility.read(a, "", meta["layer"], meta["accuracy"]),
                   second, meta.get("model2", ""), a.get("part_labels"), meta.get("part_names", []))


def _json(value: float):
    return value if np.isfinite(value) else None
