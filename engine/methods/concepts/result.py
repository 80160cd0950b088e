"""The result of `concepts`: a performer's logit as Σ α_i(I)·y_i(I) + b over concepts, and what
is left (spec: concepts-bias-trees §3.1, §3.2 "quantifying the unexplained part").

All values are in standardised units (ŷ and each y_i over their mean and std on the data; the
result keeps both, `yhat_mean`/`yhat_std`, `concept_mean`/`concept_std`, to go back). Arrays,
one row an image: `alpha` (N, n), `contribution` α_i·y_i (N, n), `residual` r = ŷ − Σ α_i y_i − b
(N,), `yhat`, `concept_scores`, `prior` (w, N × n), `prior_r2` (the share of |∇ŷ|² the prior's
projection explains), `explained_share` Σ|α_i y_i| / (Σ|α_i y_i| + |r|), `entropy` (of
|α_i y_i| / Σ|α_j y_j|, nats), `held_out` (bool), `curve` (E, 3: training distillation and prior
loss, held-out distillation, per epoch) and `images`. Metrics without a prefix are over the
held-out images, `train/…` over the training ones: `explained_share`, `relative_deviation`
(E|r| / (max ŷ − min ŷ), the range over all images, so both sets share it), `contribution_entropy`,
`distillation_mse`; over all images `importance/NAME` (mean |α_i y_i|), `mean_alpha/NAME`,
`prior_r2`, `bias`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from engine.results import ResultRecord
from engine.settings import from_dict, to_dict

KIND = "concepts"
STORED = ("yhat", "concept_scores", "alpha", "prior", "prior_r2", "held_out", "curve", "images",
          "concept_mean", "concept_std")


@dataclass
class ConceptsResult:
    config: object
    target: str
    concept_names: list
    yhat: np.ndarray            # (N,) float32 standardised performer logit
    concept_scores: np.ndarray  # (N, n) float32 standardised y_i
    alpha: np.ndarray           # (N, n) float32
    prior: np.ndarray           # (N, n) float32 w
    prior_r2: np.ndarray        # (N,) float32
    held_out: np.ndarray        # (N,) bool
    curve: np.ndarray           # (E, 3) float32
    images: np.ndarray          # (N, 3, H, W) uint8
    concept_mean: np.ndarray    # (n,) float64 raw means and stds of the y_i
    concept_std: np.ndarray
    bias: float
    yhat_scale: tuple           # (mean, std) of the raw ŷ
    sample_names: list
    model2: str                 # the concept model's spec; "" when the performer's own outputs

    @cached_property  # derived once: metrics() and the pane read each several times
    def contribution(self) -> np.ndarray:
        return self.alpha * self.concept_scores

    @cached_property
    def explained(self) -> np.ndarray:
        return self.contribution.sum(1) + np.float32(self.bias)

    @cached_property
    def residual(self) -> np.ndarray:
        return self.yhat - self.explained

    @cached_property
    def explained_share(self) -> np.ndarray:
        size = np.abs(self.contribution).sum(1)
        return size / np.maximum(size + np.abs(self.residual), np.float32(1e-12))

    @cached_property
    def entropy(self) -> np.ndarray:
        size = np.abs(self.contribution)
        p = size / np.maximum(size.sum(1, keepdims=True), np.float32(1e-12))
        return -(p * np.log(np.where(p > 0, p, 1))).sum(1)

    def importance(self) -> np.ndarray:
        """(n,) dataset-level mean |α_i y_i| over all images."""
        return np.abs(self.contribution).mean(0)

    def metrics(self) -> dict:
        span = float(self.yhat.max() - self.yhat.min())
        out = {}
        for prefix, rows in (("", self.held_out), ("train/", ~self.held_out)):
            out.update({f"{prefix}explained_share": float(self.explained_share[rows].mean()),
                        f"{prefix}relative_deviation": float(np.abs(self.residual[rows]).mean() / span),
                        f"{prefix}contribution_entropy": float(self.entropy[rows].mean()),
                        f"{prefix}distillation_mse": float((self.residual[rows] ** 2).mean())})
        for name, size, mean in zip(self.concept_names, self.importance(), self.alpha.mean(0)):
            out[f"importance/{name}"], out[f"mean_alpha/{name}"] = float(size), float(mean)
        out.update(prior_r2=float(self.prior_r2.mean()), bias=self.bias)
        return out

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {name: getattr(self, name) for name in STORED}
        arrays.update(contribution=self.contribution, residual=self.residual,
                      explained_share=self.explained_share, entropy=self.entropy)
        meta = {"target": self.target, "concept_names": list(self.concept_names), "bias": self.bias,
                "yhat_scale": list(self.yhat_scale), "sample_names": list(self.sample_names),
                "model2": self.model2, "train": int((~self.held_out).sum()), "held": int(self.held_out.sum())}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "ConceptsResult":
        from engine.methods.concepts.config import ConceptsConfig  # noqa: PLC0415

        a, meta = record.arrays, record.meta
        return cls(from_dict(ConceptsConfig, record.config), meta["target"], meta["concept_names"],
                   *(a[name] for name in STORED), meta["bias"], tuple(meta["yhat_scale"]),
                   meta["sample_names"], meta["model2"])
