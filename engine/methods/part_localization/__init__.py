"""Few-shot part localisation with explanatory-graph nodes (spec: explanatory-graph §1.7)."""
from engine.methods.base import Method
from engine.methods.part_localization.api import compute
from engine.methods.part_localization.config import PartLocalizationConfig
from engine.methods.part_localization.result import KIND, PartLocalizationResult

METHOD = Method("part-localization", KIND, "a part found on new images from 1-3 annotated ones, by graph nodes "
                "(baselines: filter peaks, nearest neighbour)", PartLocalizationConfig, PartLocalizationResult, compute)
