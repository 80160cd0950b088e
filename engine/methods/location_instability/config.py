"""Settings of `location-instability` (spec: interpretable-cnn §2.8, the released code's protocol)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.methods.explanatory_graph.config import crop_setting
from engine.settings import setting

CATEGORY_RULES = ("score", "min")


@dataclass(frozen=True)
class LocationInstabilityConfig:
    crop: str = crop_setting()
    images: int = setting(100, "top images per filter and landmark, ranked by the filter's peak among "
                          "the images showing the landmark (§2.8 step 3)", "images")
    category_rule: str = setting(
        "score", "several categories (§2.8 step 6): score: each filter is measured on the category "
        "where its mean peak is highest (the released code); min: on the category where it is most "
        "stable (the paper's formula)", options=CATEGORY_RULES)
    class_name: str = setting("", "measure on the landmarks of this category only (the part names' "
                              "prefix, e.g. animal; empty: every category, step 6)")
    graph: str = setting("", "result folder of an explanatory-graph run: measure its nodes (inferred "
                         "position and score) on its layers instead of the raw filters")
    units: int = setting(0, "filters or nodes measured per layer, ranked by the mean of their top-`images` "
                         "scores (0: all of them, §2.8 step 4; the graph's §1.8 keeps 167)", "units")
    batch_size: int = setting(32, "images per forward pass", "images")
