"""Settings of `dataset-bias` (spec: concepts-bias-trees §5.2, the masking check of §5.1)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.settings import setting


@dataclass(frozen=True)
class DatasetBiasConfig:
    truth: str = setting(
        "", "the ground-truth relations R* people state, 'a:b:+1,c:d:-1' (symmetric; unnamed pairs 0). "
        "Empty: every pair unrelated, as PartWorld draws its attributes independently (§5.2 inputs)")
    kappa: float = setting(1.0, "κ: pairs rank by |r_ab − κ R*_ab| (§5.2 step 3)")
    check_pairs: str = setting(
        "", "masking check of these 'a:b' pairs too (a's logit while b's region is kept, pasted or "
        "masked, §5.1), comma-separated; the top-ranked pair is always checked, both ways")
    masking_images: int = setting(200, "images of the masking check (the first of the data)", "images")
    evidence_images: int = setting(4, "images whose contribution maps ρ_a are kept for the views", "images")
    batch_size: int = setting(16, "images per forward and A backward passes", "images")
