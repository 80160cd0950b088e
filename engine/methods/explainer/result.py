"""The result of `explainer` (spec: concepts-bias-trees §6): what the explainer explains, how well
it rebuilds the performer's higher layer, and how steady its filters are.

Per image (N): `share` p, the interpretable track's weight; `reconstruction_error`
‖f̂ − f‖²/‖f‖² at L′; `held_out`. `curve` (E, 4): per epoch the mean distillation, filter,
−log p and output loss (LOSS_TERMS). `instability_explainer` (F,) and `instability_performer`
(C,): each filter's location instability (interpretable-cnn §2.8). Metrics (held-out unless
`_train`): `explained_share` (mean p), `reconstruction_error` (its mean), `performer_accuracy`
and `performer_accuracy_from_reconstruction`, `instability_explainer` and
`instability_performer` (means over filters; a filter silent on every image has none), and
`live_filters_explainer`, how many interpretable filters fire on some image. The arrays and meta of an `activations` result of
the performer's layer and the explainer's masked layer come with it (the activation-maps view).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.methods.activations.result import ActivationsResult
from engine.methods.explanatory_graph._metrics import nanmean
from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "explainer"
LOSS_TERMS = ("distillation", "filter", "share", "output")
STORED = ("share", "held_out", "reconstruction_error", "curve", "instability_explainer", "instability_performer")


@dataclass
class ExplainerResult:
    config: object
    layer: str                      # L, the performer's explained layer
    target_layer: str               # L′, the layer rebuilt
    view: ActivationsResult         # both layers' maps on the composite model
    share: np.ndarray               # (N,) p
    held_out: np.ndarray            # (N,) bool
    reconstruction_error: np.ndarray  # (N,)
    curve: np.ndarray               # (E, 4)
    instability_explainer: np.ndarray  # (F,)
    instability_performer: np.ndarray  # (C,)
    performer_accuracy: float
    performer_accuracy_from_reconstruction: float

    def metrics(self) -> dict:
        out = {}
        for suffix, rows in (("", self.held_out), ("_train", ~self.held_out)):
            out[f"explained_share{suffix}"] = float(self.share[rows].mean())
            out[f"reconstruction_error{suffix}"] = float(self.reconstruction_error[rows].mean())
        out.update(performer_accuracy=self.performer_accuracy,
                   performer_accuracy_from_reconstruction=self.performer_accuracy_from_reconstruction,
                   instability_explainer=float(nanmean(self.instability_explainer)),
                   instability_performer=float(nanmean(self.instability_performer)),
                   live_filters_explainer=float((self.view.filter_max[self.view.layers[1]].max(0) > 0).sum()))
        return out

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        view = self.view.to_record(model, data, seed)
        arrays = {**view.arrays, **{name: getattr(self, name) for name in STORED}}
        meta = {**view.meta, "layer": self.layer, "target_layer": self.target_layer,
                "activations_config": view.config, "accuracies": [self.performer_accuracy,
                                                                  self.performer_accuracy_from_reconstruction]}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed, metrics=self.metrics(),
                            arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "ExplainerResult":
        from engine.methods.explainer.config import ExplainerConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        meta = record.meta
        view = ActivationsResult.from_record(ResultRecord(
            "activations", "activations", meta["activations_config"], record.model, record.data, record.seed,
            arrays=record.arrays, meta=meta))
        return cls(from_dict(ExplainerConfig, record.config), meta["layer"], meta["target_layer"], view,
                   *(record.arrays[name] for name in STORED), *meta["accuracies"])
