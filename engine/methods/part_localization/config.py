"""Settings of `part-localization` (spec: explanatory-graph §1.7, our minimal version)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.methods.explanatory_graph.config import crop_setting
from engine.settings import setting

CONSENSUS = ("mean", "median", "mode")


@dataclass(frozen=True)
class PartLocalizationConfig:
    graph: str = setting("", "result folder of the explanatory-graph run whose nodes localise the part")
    shots: int = setting(3, "annotated images per part (1-3 in the paper)", "images")
    part: str = setting("", "part to localise, e.g. car/wheel_front (empty: every part of the data, averaged)")
    annotations: str = setting("", "your own clicks instead of the data's landmarks: "
                               "IMAGE:X:Y,IMAGE:X:Y (image index, pixel x, y); the others are predicted")
    nodes: int = setting(20, "nodes (or filters) kept as the part's detectors [ours]", "nodes")
    radius: float = setting(0.0, "ρ: displacement spread scale; with one shot a node must fire this close "
                            "(0: an eighth of the image side)", "pixels")
    consensus: str = setting("mean", "how the kept detectors' votes make one prediction: their score-weighted "
                             "mean (§1.7), per axis the weighted median (robust to a few wrong votes), or "
                             "the mode of their vote map (the reference's produceMap)", options=CONSENSUS)
    mirror: bool = setting(False, "also read each new image mirrored, and keep the reading whose votes agree "
                           "better (the reference's pose choice, step_inference: for objects that face "
                           "either way); the annotated images are read as they are")
    crop: str = crop_setting()
    batch_size: int = setting(32, "images per inference batch", "images")
