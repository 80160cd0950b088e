"""Settings of `transplant` (spec: concepts-bias-trees §6, network transplanting: an outline from
the paper's abstract; the choices marked [ours] are our design where it is silent)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.settings import setting


@dataclass(frozen=True)
class TransplantConfig:
    new_category: str = setting("robot", "the category transplanted into the task module, learnt by the others")
    stem_layer: str = setting("", "the --model layer whose maps every category module reads (a shared, "
                              "pre-trained stem [ours]); empty: the model's default layer")
    width: int = setting(32, "channels of the category modules' output: the task module's fixed interface",
                         "channels")
    epochs: int = setting(30, "epochs of each training: modules, teacher, adapters", "epochs")
    lr: float = setting(3e-3, "Adam's learning rate")
    batch_size: int = setting(16, "images per step", "images")
    teacher_images: int = setting(60, "new-category images, labelled, that the teacher network learns the task "
                                  "from (the teacher stands for a network that already exists)", "images")
    pool_images: int = setting(100, "new-category images the adapters learn from: unlabelled for the "
                               "transplant, the first 10 / 100 of them labelled for the fine-tuned baselines",
                               "images")
    gradient_weight: float = setting(1.0, "weight of back-distillation: the gradients through the task module "
                                     "against the teacher's, along random directions (double backward)")
    shots: tuple[int, ...] = setting((0, 10, 100), "labelled new-category images of the fine-tuned baselines")
