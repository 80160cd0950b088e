"""Adversarial robustness of a point-cloud classifier (spec pointcloud-utility §5.3 item 4).

For one cloud and each target class, an additive per-point offset ε (Glorot-uniform start)
minimises CE(target) + λ‖ε‖² with Adam until the target is predicted; ‖ε‖² at that first
step is the cost of the attack (larger: more robust). All targets run as one batch, a row
frozen at its first success (§5.6 [ours] batching). `max_offset` [ours] bounds each point's
offset (0: unbounded, as the code), projected after every step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from engine.jobs import Progress


@dataclass(frozen=True)
class AttackSettings:
    lam: float = 1.0            # λ of the ‖ε‖² term (`train_ad.py`)
    lr: float = 1e-3            # Adam
    max_steps: int = 5000       # the step budget: a row not fooled by then is a failure (NaN)
    max_offset: float = 0.0     # [ours] bound on each point's ‖ε_i‖; 0: none
    seed: int = 0


@dataclass
class AttackOutcome:
    """T targets: ‖ε‖² and the step of the first success (NaN / −1: never), ε at that step."""

    targets: torch.Tensor       # (T,)
    cost: torch.Tensor          # (T,) ‖ε‖² at success
    steps: torch.Tensor         # (T,)
    offsets: torch.Tensor       # (T, N, 3)

    @property
    def robustness(self) -> float:
        """Mean cost over the targets fooled; NaN when none was."""
        hit = torch.isfinite(self.cost)
        return float(self.cost[hit].mean()) if hit.any() else math.nan


def glorot_offsets(rows: int, points: int, generator: torch.Generator) -> torch.Tensor:
    """ε (rows, N, 3) ~ U(±√(6/(N+3))), TensorFlow's glorot_uniform for an (N, 3) variable."""
    limit = math.sqrt(6.0 / (points + 3))
    return (torch.rand(rows, points, 3, generator=generator) * 2 - 1) * limit


def attack(logits_of: Callable[[torch.Tensor], torch.Tensor], cloud: torch.Tensor, targets: torch.Tensor,
           settings: AttackSettings, progress: Progress | None = None) -> AttackOutcome:
    """Attack `cloud` (N, 3) toward each of `targets` (T,) at once; `logits_of` (T, N, 3) → (T, K)."""
    progress = progress or Progress()
    rows, points = len(targets), cloud.shape[0]
    generator = torch.Generator().manual_seed(settings.seed)
    epsilon = glorot_offsets(rows, points, generator).to(cloud).requires_grad_(True)
    optimizer = torch.optim.Adam([epsilon], lr=settings.lr)
    cost = torch.full((rows,), math.nan)
    steps = torch.full((rows,), -1, dtype=torch.long)
    offsets = torch.zeros(rows, points, 3)
    active = torch.ones(rows, dtype=torch.bool)
    for step in range(settings.max_steps):
        progress.step(step, settings.max_steps, f"attack step {step}")
        logits = logits_of(cloud.unsqueeze(0) + epsilon)
        energy = (epsilon ** 2).sum((1, 2))
        hit = active & (logits.argmax(1).cpu() == targets.cpu())
        cost[hit], steps[hit], offsets[hit] = energy.detach().cpu()[hit], step, epsilon.detach().cpu()[hit]
        active &= ~hit
        if not active.any():
            break
        loss = F.cross_entropy(logits, targets.to(logits.device), reduction="none") + settings.lam * energy
        optimizer.zero_grad(set_to_none=True)
        (loss * active.to(loss)).sum().backward()  # a fooled row gets no gradient
        optimizer.step()
        if settings.max_offset > 0:
            _project(epsilon, settings.max_offset)
    return AttackOutcome(targets.cpu(), cost, steps, offsets)


@torch.no_grad()
def _project(epsilon: torch.Tensor, bound: float) -> None:
    """Each point's offset scaled back onto the ball of radius `bound` where it left it."""
    norms = epsilon.norm(dim=-1, keepdim=True)
    epsilon.mul_(torch.where(norms > bound, bound / norms, torch.ones_like(norms)))
