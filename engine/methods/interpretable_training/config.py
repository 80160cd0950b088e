"""Settings of `interpretable-training` (spec: interpretable-cnn §2.12 training dashboards)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.settings import setting


@dataclass(frozen=True)
class InterpretableTrainingConfig:
    silent_ratio: float = setting(
        0.1, "a filter is silent on the other categories when its mean peak on each of them is below "
        "this × its mean peak on its own category [ours: §2.12 names the share, not a threshold]")
    batch_size: int = setting(32, "images per forward pass", "images")
