"""The result of `consistency`: per layer pair and direction, how much of the target each order
of nonlinearity explains, and where (spec: knowledge-consistency §4.4, §4.5, §4.8).

Directions: `a_to_b` rebuilds B's layer from A's (its residual: what B has and A lacks, A's
blind spots); `b_to_a` rebuilds A's from B's (its residual: A's features B does not support,
A's unreliable features). Components are indexed orders 0…K, then the residual (K+1).
Arrays `NAME/DIRECTION/PAIR` (NAME in PER_DIRECTION; PAIR is the layer's name, or
`LAYER_A:LAYER_B` when B's differs) and `images` (the kept held-out images). Metrics, per pair
and direction, `DIRECTION/variance_order_k/PAIR` and `DIRECTION/variance_residual/PAIR` (held-out
fractions, normalised to sum to 1), the same names without `/PAIR` for the first pair, `raw_…`
(ρ = Var(·)/Var(target), §4.4: they need not sum to 1), `train_…` (fractions on the training
images: the overfitting gap, §4.7), `gate_i` (p_i), `relu_on_i` (share of stage i's ReLUs on)
and `held_out_mse` (÷ Var(target)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.results import ResultRecord
from engine.settings import from_dict, to_dict

KIND = "consistency"
DIRECTIONS = ("a_to_b", "b_to_a")
DIRECTION_LABELS = {"a_to_b": "A→B (residual: blind spots of A)",
                    "b_to_a": "B→A (residual: unreliable features of A)"}
PER_DIRECTION = ("ratio", "train_ratio", "gates", "relu_on", "curve", "components", "energy", "target_energy")


def metric_names(order: int) -> list[str]:
    """The names of the K+2 components' fractions: variance_order_0…K, variance_residual."""
    return [f"variance_order_{k}" for k in range(order + 1)] + ["variance_residual"]


def component_labels(order: int) -> list[str]:
    return [f"order {k}" for k in range(order + 1)] + ["residual"]


def pair_label(layer_a: str, layer_b: str) -> str:
    return layer_a if layer_a == layer_b else f"{layer_a}:{layer_b}"


@dataclass
class Direction:
    """g trained one way: K gates, K+2 components, E epochs, M kept images of C target channels.

    ratio:         (K+2,) held-out ρ_0…ρ_K, ρ_Δ (Var(component) / Var(target), §4.4)
    train_ratio:   (K+2,) the same on the training images
    gates:         (K,) p_i after training (§4.7: report them with the result)
    relu_on:       (K,) share of each stage's ReLUs on over the held-out images; none on (0): the
                   branches through it add nothing, whatever their gate (post-ReLU maps, whose values
                   are all ≥ 0, turn them off at our learning rate: resources/README.md)
    curve:         (E, 3) per epoch: training MSE and penalty, held-out MSE (÷ Var(target))
    components:    (M, K+2, C, h, w) each component on the kept images (the residual last)
    energy:        (M, K+2, h, w) its squared deviation from its held-out channel means, over channels
    target_energy: (M, h, w) the same of the target's features
    """

    ratio: np.ndarray
    train_ratio: np.ndarray
    gates: np.ndarray
    relu_on: np.ndarray
    curve: np.ndarray
    components: np.ndarray
    energy: np.ndarray
    target_energy: np.ndarray

    def fractions(self, train: bool = False) -> np.ndarray:
        ratio = self.train_ratio if train else self.ratio
        return ratio / ratio.sum()

    def metrics(self, suffix: str) -> dict:
        names = metric_names(len(self.gates))
        out = {f"{n}{suffix}": float(v) for n, v in zip(names, self.fractions())}
        out.update({f"raw_{n}{suffix}": float(v) for n, v in zip(names, self.ratio)})
        out.update({f"train_{n}{suffix}": float(v) for n, v in zip(names, self.fractions(train=True))})
        out.update({f"gate_{i}{suffix}": float(p) for i, p in enumerate(self.gates)})
        out.update({f"relu_on_{i}{suffix}": float(on) for i, on in enumerate(self.relu_on)})
        out[f"held_out_mse{suffix}"] = float(self.curve[-1, 2])
        return out


@dataclass
class LayerPair:
    layer_a: str
    layer_b: str
    a_to_b: Direction
    b_to_a: Direction

    @property
    def label(self) -> str:
        return pair_label(self.layer_a, self.layer_b)


@dataclass
class ConsistencyResult:
    config: object
    pairs: list                 # LayerPair, in the order of --layers
    images: np.ndarray          # (M, 3, H, W) uint8: the kept held-out images
    sample_names: list          # their names
    model2: str                 # B's spec
    counts: dict                # {"train": images g learned from, "held_out": images measured on}

    def metrics(self) -> dict:
        out = {}
        for index, pair in enumerate(self.pairs):
            for direction in DIRECTIONS:
                measured = getattr(pair, direction)
                out.update({f"{direction}/{k}": v for k, v in measured.metrics(f"/{pair.label}").items()})
                if index == 0:  # the names scripts rely on, without the pair
                    names = metric_names(self.config.max_order)
                    out.update({f"{direction}/{n}": out[f"{direction}/{n}/{pair.label}"] for n in names})
        return out

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {"images": self.images}
        for pair in self.pairs:
            for direction in DIRECTIONS:
                measured = getattr(pair, direction)
                arrays.update({f"{name}/{direction}/{pair.label}": getattr(measured, name) for name in PER_DIRECTION})
        meta = {"pairs": [[p.layer_a, p.layer_b] for p in self.pairs], "order": self.config.max_order,
                "sample_names": self.sample_names, "model2": self.model2, **self.counts}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "ConsistencyResult":
        from engine.methods.consistency.config import ConsistencyConfig  # noqa: PLC0415

        a, meta = record.arrays, record.meta

        def read(label: str, direction: str) -> Direction:
            return Direction(*(a[f"{name}/{direction}/{label}"] for name in PER_DIRECTION))

        pairs = [LayerPair(la, lb, *(read(pair_label(la, lb), d) for d in DIRECTIONS)) for la, lb in meta["pairs"]]
        return cls(from_dict(ConsistencyConfig, record.config), pairs, a["images"], meta["sample_names"],
                   meta["model2"], {"train": meta["train"], "held_out": meta["held_out"]})
