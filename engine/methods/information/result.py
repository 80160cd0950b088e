"""The result of `information`: σ and entropy per unit, per layer and sample, with calibration."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "information"
PER_LAYER = ("sigma", "entropy", "ratio_trace", "lambda_trace", "chosen", "calibrated_rows", "reference")


@dataclass
class InformationResult:
    """Per layer (dicts keyed by layer), B samples, units on a g×g grid, E evaluation points.

    sigma:            (B, g, g) σ at the reported iterate
    entropy:          discarding: (B, g, g) H_i = d_i(½ log 2πe + log σ_i) nats a cell;
                      reconstruction: (B, H, W) ½·log(2πe·dev² + 1e-6) nats a pixel dimension
    ratio_trace:      (B, E) D/D_ref on the evaluation bank; lambda_trace (B, E); NaN at the
                      steps only another chunk's refinement near τ evaluated (paper mode)
    chosen:           (B,) index of the reported evaluation point; calibrated_rows (B,) bool
    reference:        (B,) D_ref
    foreground_share: share of each entropy-map element on the object, or None without masks
    Text (Guan et al.): images is None; sigma and entropy are (B, T) per token, NaN on padding;
    words[i][j] is token j of sentence i; keyword_masks (B, T) marks the label-deciding words.
    """

    config: object
    layers: list
    images: np.ndarray
    sigma: dict
    entropy: dict
    ratio_trace: dict
    lambda_trace: dict
    chosen: dict
    calibrated_rows: dict
    reference: dict
    eval_iterations: list
    unit_dims: np.ndarray
    sample_names: list
    foreground_share: np.ndarray | None = None
    words: list | None = None
    keyword_masks: np.ndarray | None = None
    entropy_spread: dict | None = None  # layer → per-unit std of the entropy over `repeats` runs

    def keyword_recall(self, layer: str) -> float:
        """Share of keywords among each sentence's k lowest-entropy tokens (k = its keywords)."""
        hits = []
        for entropy, keywords in zip(self.entropy[layer], self.keyword_masks):
            k = int(keywords.sum())
            if k:
                lowest = np.argsort(np.where(np.isnan(entropy), np.inf, entropy), kind="stable")[:k]
                hits.append(keywords[lowest].mean())
        return float(np.mean(hits)) if hits else float("nan")

    def region_means(self, layer: str) -> tuple[float, float]:
        """Mean entropy per unit over foreground cells (≥ half on the object) and the rest."""
        on_object = self.foreground_share >= 0.5  # a cell counts as object when half of it is
        h = self.entropy[layer]
        return float(h[on_object].mean()), float(h[~on_object].mean())

    def metrics(self) -> dict:
        out = {}
        for layer in self.layers:
            out[f"mean_entropy/{layer}"] = float(np.nanmean(self.entropy[layer]))
            if self.entropy_spread is not None:
                out[f"repeat_std/{layer}"] = float(np.nanmean(self.entropy_spread[layer]))
            out[f"calibrated/{layer}"] = float(bool(self.calibrated_rows[layer].all()))
            out[f"ratio/{layer}"] = float(np.take_along_axis(
                self.ratio_trace[layer], self.chosen[layer][:, None], 1).mean())
            if self.foreground_share is not None:
                fg, bg = self.region_means(layer)
                out[f"fg_entropy/{layer}"], out[f"bg_entropy/{layer}"] = fg, bg
                out[f"bg_minus_fg/{layer}"] = bg - fg
            if self.keyword_masks is not None:
                out[f"keyword_recall/{layer}"] = self.keyword_recall(layer)
                out[f"keyword_entropy/{layer}"] = float(np.nanmean(self.entropy[layer][self.keyword_masks]))
                out[f"other_entropy/{layer}"] = float(np.nanmean(self.entropy[layer][~self.keyword_masks]))
        return out

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"unit_dims": self.unit_dims, "eval_iterations": np.asarray(self.eval_iterations)}
        for name in ("images", "foreground_share", "keyword_masks"):
            if getattr(self, name) is not None:
                arrays[name] = getattr(self, name)
        for layer, spread in (self.entropy_spread or {}).items():
            arrays[f"entropy_spread/{layer}"] = spread
        for name in PER_LAYER:
            arrays.update({f"{name}/{layer}": getattr(self, name)[layer] for layer in self.layers})
        meta = {"layers": self.layers, "sample_names": self.sample_names, "mode": self.config.mode,
                "inputs": "image" if self.words is None else "text", "words": self.words,
                "calibration": self.config.gpe(0).mode,
                "coarse": self.config.coarse, "tau": self.config.tau}
        return ResultRecord(KIND, "information", to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "InformationResult":
        from engine.methods.information.config import InformationConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        layers, a = record.meta["layers"], record.arrays
        per_layer = {name: {layer: a[f"{name}/{layer}"] for layer in layers} for name in PER_LAYER}
        return cls(from_dict(InformationConfig, record.config), layers, a.get("images"),
                   eval_iterations=a["eval_iterations"].tolist(), unit_dims=a["unit_dims"],
                   sample_names=record.meta["sample_names"], foreground_share=a.get("foreground_share"),
                   words=record.meta.get("words"), keyword_masks=a.get("keyword_masks"),
                   entropy_spread={l: a[f"entropy_spread/{l}"] for l in layers} if f"entropy_spread/{layers[0]}" in a
                   else None, **per_layer)
