"""The result of `dataset-bias` (spec: concepts-bias-trees §5.2 outputs, the §5.1 masking table).

Arrays: `mined` (A, A) r_ab, `cosine` (A, A) E_I[cos(ρ_a, ρ_b)] before the sign, `truth` (A, A)
R*, `difference` (A, A) r − κR*; `images` (M, 3, H, W) uint8 with `evidence` (M, A, h, w) ρ_a
summed over channels; per masking check `masking/A:B` (2, 3)
a's mean logit (rows: images without a, with a; columns: b's region original, pasted, masked)
and `masking_counts/A:B` (2,). Meta: `attributes`, `layer`, `relations` (every pair a < b ranked,
{a, b, mined, truth, score}), `checks` (["a", "b"] in order), `sample_names`. Metrics:
`top_score`, `top_mined`, `mean_abs_mined` (over the pairs) and, per check and where the group
has images, `masking/A:B/GROUP/CONDITION`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.methods.dataset_bias._masking import CONDITIONS, GROUPS, MaskingCheck
from engine.results import ResultRecord
from engine.settings import from_dict, to_dict

KIND = "dataset-bias"
MATRICES = ("mined", "cosine", "truth")


@dataclass
class DatasetBiasResult:
    config: object
    attributes: list        # the model's outputs, in order
    layer: str              # where ρ_a was read
    mined: np.ndarray       # (A, A) r_ab
    cosine: np.ndarray      # (A, A) E_I[cos(ρ_a, ρ_b)]
    truth: np.ndarray       # (A, A) R*
    relations: list         # ranked pairs, see the module docstring
    checks: list            # MaskingCheck, the top pair's first
    images: np.ndarray      # (M, 3, H, W) uint8
    evidence: np.ndarray    # (M, A, h, w)
    sample_names: list

    @property
    def difference(self) -> np.ndarray:
        return self.mined - self.config.kappa * self.truth

    def metrics(self) -> dict:
        pairs = np.array([abs(r["mined"]) for r in self.relations])
        out = {"top_score": self.relations[0]["score"], "top_mined": self.relations[0]["mined"],
               "mean_abs_mined": float(pairs.mean())}
        for check in self.checks:
            for g, group in enumerate(GROUPS):
                if check.counts[g]:
                    out.update({f"masking/{check.label}/{group}/{c}": float(check.table[g, k])
                                for k, c in enumerate(CONDITIONS)})
        return out

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {name: getattr(self, name) for name in MATRICES}
        arrays.update({"difference": self.difference, "images": self.images, "evidence": self.evidence})
        for check in self.checks:
            arrays[f"masking/{check.label}"] = check.table
            arrays[f"masking_counts/{check.label}"] = check.counts
        meta = {"attributes": self.attributes, "layer": self.layer, "relations": self.relations,
                "checks": [[c.attribute, c.region] for c in self.checks], "sample_names": self.sample_names}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "DatasetBiasResult":
        from engine.methods.dataset_bias.config import DatasetBiasConfig  # noqa: PLC0415

        a, meta = record.arrays, record.meta
        checks = [MaskingCheck(x, y, a[f"masking/{x}:{y}"], a[f"masking_counts/{x}:{y}"]) for x, y in meta["checks"]]
        return cls(from_dict(DatasetBiasConfig, record.config), meta["attributes"], meta["layer"],
                   *(a[name] for name in MATRICES), meta["relations"], checks, a["images"], a["evidence"],
                   meta["sample_names"])
