"""Settings of `explainer` (spec: concepts-bias-trees §6, an outline from the paper's abstract;
the choices marked [ours] are our design where the outline is silent)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.methods.explanatory_graph.config import crop_setting
from engine.settings import setting


@dataclass(frozen=True)
class ExplainerConfig:
    target_layer: str = setting("", "the higher performer layer whose features the explainer reconstructs "
                                "(empty: the layer after the explained one)")
    filters: int = setting(0, "filters of each track (0: as many as the explained layer has channels)", "filters")
    epochs: int = setting(40, "training epochs over the cached features", "epochs")
    lr: float = setting(3e-3, "Adam's learning rate")
    batch_size: int = setting(32, "images per step", "images")
    kappa_mag: float = setting(10.0, "mag of the filter loss's strength κ = 1e-5·mag/epoch (interpretable-cnn "
                               "§2.5 step 4) [ours: 100× the code's 0.1, for 40 epochs of Adam on cached "
                               "features; the explainer's tests were measured at 10]")
    share_weight: float = setting(0.1, "weight of −log p, the prior that asks the interpretable track to "
                                  "explain as much as it can [recalled: the paper favours it; the weight ours]")
    output_weight: float = setting(1.0, "weight of the KL divergence between the performer's outputs from the "
                                   "true and the reconstructed features [ours: 'so that the performer still "
                                   "works']; 0: features only")
    held_out: float = setting(0.25, "share of the images held out (the last ones): the explainer trains on the "
                              "others; the reconstruction metrics are measured on these")
    samples_kept: int = setting(8, "images whose maps the result keeps for the activation-maps view", "images")
    images: int = setting(100, "top images per filter and landmark of the location instability "
                          "(interpretable-cnn §2.8 step 3)", "images")
    crop: str = crop_setting()  # the location instability's images, as `location-instability` reads them
    class_name: str = setting("", "measure the instability on the landmarks of this category only (the part "
                              "names' prefix, e.g. animal; empty: every category, interpretable-cnn §2.8 step 6)")
