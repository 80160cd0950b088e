"""Settings of the `baseline` method (Captum attributions)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.baselines import BASELINES
from engine.settings import setting


@dataclass(frozen=True)
class BaselineConfig:
    methods: tuple[str, ...] = setting(BASELINES, f"attributions to compute, any of {', '.join(BASELINES)}")
    target: str = setting("predicted", "class explained: 'predicted', 'label', or a class index")
    batch_size: int = setting(16, "images attributed together", "images")
    internal_batch_size: int = setting(64, "Captum's internal batch: IG steps / occlusion windows per pass", "inputs")
    ig_steps: int = setting(32, "Integrated Gradients path steps (Gauss-Legendre, Captum's default)", "steps")
    occlusion_window: int = setting(16, "occluding square side", "px")
    occlusion_stride: int = setting(8, "step between occlusion windows", "px")
