"""Settings of `consistency` (spec: knowledge-consistency §4.2-4.4, §4.6 fast mode, §4.7)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.settings import setting

NORMALISATIONS = ("instance", "global")


@dataclass(frozen=True)
class ConsistencyConfig:
    layer2: tuple[str, ...] = setting(
        (), "--model2's layer paired with each of --layers, in the same order (comma-separated); "
        "empty: the layers of the same names")
    max_order: int = setting(2, "K: the highest order of nonlinearity, i.e. K+1 branches (orders 0…K, "
                             "the released code's 3 branches: K = 2, §4.2)", "ReLU stages")
    alpha: float = setting(0.1, "α_i of the gate penalty Σ α_i p_i², the same for every gate: the larger, "
                           "the more the low orders must absorb (the released code's 0.1, §4.3)")
    normalisation: str = setting(
        "instance", "instance: f_A and every N(·) over each sample's per-channel spatial std (the released "
        "code); global: over the per-channel dataset std (N: the batch's while training, then its running "
        "average), so that an exact linear relation can be fitted (§4.7)", options=NORMALISATIONS)
    kernel: int = setting(3, "side of the convolutions W_i (3 as released; 1 for the fast mode of §4.6)", "pixels")
    epochs: int = setting(100, "training epochs of each g (released 800 on features of ~6k images; "
                          "our fast mode, §4.6)", "epochs")
    lr: float = setting(1e-2, "Adam's first learning rate, decayed log-uniformly over training "
                        "(released 1e-4 over 800 epochs; larger for our shorter run, resources/README.md)")
    lr_decades: float = setting(2.0, "decades the learning rate falls over training (released 2)", "decades")
    weight_decay: float = setting(1e-4, "Adam weight decay (released 1e-4)")
    batch_size: int = setting(16, "images per training step (released 64; 16 gives four times the steps "
                              "at about the same cost an epoch on a CPU)", "images")
    held_out: float = setting(0.25, "share of the images held out: g is fitted on the others and the "
                              "variances are measured on these (§4.4); the last images of the data")
    maps_images: int = setting(8, "held-out images whose component maps are kept for the views", "images")
