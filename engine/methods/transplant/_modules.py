"""The modular network of network transplanting (spec: concepts-bias-trees §6): category modules
f_c, one generic task module g behind a fixed interface (`width` channels of maps), the teacher's
own head h, and the adapter between a new category's module and g.

The task is foreground segmentation on the stem's grid [ours: PartWorld's masks give it for every
category]: g(f_c(s)) are one logit a cell. Every module is small: a 3×3 conv and a ReLU, g two convs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def category_module(stem_channels: int, width: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(stem_channels, width, 3, padding=1), nn.ReLU(inplace=False))


def task_module(width: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=False), nn.Conv2d(width, 1, 1))


def adapter(width: int) -> nn.Module:
    """A 1×1 conv that starts as the identity: untrained, g reads the new module's maps as they are."""
    layer = nn.Conv2d(width, width, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(width)[:, :, None, None])
        layer.bias.zero_()
    return layer


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy per cell; `target` 0/1 labels or the teacher's probabilities."""
    return F.binary_cross_entropy_with_logits(logits[:, 0], target)


def back_distillation(z: torch.Tensor, student, teacher, directions: torch.Tensor) -> torch.Tensor:
    """‖∇_z⟨v, student(z)⟩ − ∇_z⟨v, teacher(z)⟩‖² / ‖∇_z⟨v, teacher(z)⟩‖²: the gradients that the
    task module sends back to the category module, matched to the teacher's along random v
    [recalled: the paper matches back-propagated gradients; the random directions ours]. The
    student's gradient keeps its graph (create_graph): the adapter learns from it, a double backward."""
    z = z.detach().requires_grad_(True)
    mine = torch.autograd.grad((student(z) * directions).sum(), z, create_graph=True)[0]
    theirs = torch.autograd.grad((teacher(z) * directions).sum(), z)[0]
    return ((mine - theirs) ** 2).sum() / (theirs ** 2).sum().clamp_min(1e-12)
