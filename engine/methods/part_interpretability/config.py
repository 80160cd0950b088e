"""Settings of `part-interpretability` (spec: interpretable-cnn §2.8, network dissection adapted)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.methods.explanatory_graph.config import crop_setting
from engine.settings import setting

REGIONS = ("disc", "upsample")


@dataclass(frozen=True)
class PartInterpretabilityConfig:
    crop: str = crop_setting()
    top_share: float = setting(0.005, "T_f: this share of all positions of all the filter's maps lies "
                               "above it (§2.8 step 1)")
    iou_cut: float = setting(0.2, "an image counts for filter f and part k when their IoU exceeds this "
                             "(§2.8 step 4; Bau's 0.04)")
    region: str = setting("disc", "S_f on the image: disc: a round RF around the centre of every unit above "
                          "T_f (§2.8 step 2, the paper's footnote 5); upsample: the map bilinearly "
                          "upsampled to the image, above T_f (Bau et al.)", options=REGIONS)
    radius: float = setting(0.0, "radius of the round RF (0: the layer's stride, the spacing of its units) "
                            "[ours]", "pixels")
    class_name: str = setting("", "only the parts of this category (the part names' prefix, e.g. animal; "
                              "empty: every part)")
    batch_size: int = setting(32, "images per forward pass and per IoU batch", "images")
