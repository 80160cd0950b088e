"""Settings of the `activations` method."""
from __future__ import annotations

from dataclasses import dataclass

from engine.settings import setting


@dataclass(frozen=True)
class ActivationsConfig:
    top_k: int = setting(8, "samples kept per filter, ranked by the filter's spatial maximum", "samples")
    samples_kept: int = setting(16, "first samples whose full feature maps are stored for browsing", "samples")
    batch_size: int = setting(32, "images per forward pass", "images")
