"""Per-point σ of a cloud at a layer, with the sampling fixed on the clean cloud (spec §5.2).

The perturbation-entropy engine (engine/methods/information/_gpe.py) with points as units
(`PointUnits`, d = 3). Its noisy batches tile the clean clouds (row r is clean cloud r mod
B), so the plan of a batch is the clean clouds' plan recorded on the same tiling: every
noisy copy keeps its clean cloud's centres and neighbours (§5.2 "Fixed sampling", §5.7).
"""
from __future__ import annotations

import inspect

import torch

from engine.errors import BadInput
from engine.jobs import Progress
from engine.layers import forward_to
from engine.methods.information._gpe import GPEOutcome, GPEProblem, optimise
from engine.methods.information._units import PointUnits


class TiledPlans:
    """Sampling plans of `module` for the clean clouds tiled to any multiple of their count.

    The clean plan is recorded here, once, before any layer is hooked: recorded inside
    `forward_to`, its forward would stop at the hooked layer and leave the clean features
    as the noisy batch's output (every D zero)."""

    def __init__(self, module: torch.nn.Module, clean: torch.Tensor) -> None:
        from engine.models.pointnets import record_plan  # noqa: PLC0415

        self.clouds, self.clean_plan = clean.shape[0], record_plan(module, clean)
        self._plans: dict[int, object] = {}

    def __call__(self, rows: int):
        if rows % self.clouds:
            raise ValueError(f"{rows} noisy rows do not tile {self.clouds} clean clouds")
        if rows not in self._plans:
            self._plans[rows] = self.clean_plan.tiled(rows // self.clouds)
        return self._plans[rows]


def point_sigma(module: torch.nn.Module, clean: torch.Tensor, layer: str, settings,
                progress: Progress) -> GPEOutcome:
    """σ (1, B, N) of the B clean clouds (B, N, 3) at `layer`, calibrated as `settings` say."""
    plans = planned_forward(module, clean)
    problem = GPEProblem(clean, [layer], lambda x: forward_to(module, x, [layer], call=plans), PointUnits(clean.shape[1]))
    try:
        return optimise(problem, settings, progress)
    except FloatingPointError as exc:
        raise BadInput(f"per-point entropy at {layer}: {exc}") from None


def planned_forward(module: torch.nn.Module, clean: torch.Tensor):
    """x → module(x, plan) with the plan of the clean clouds tiled to x's batch; a module
    without sampling plans (a plain function of the points) is called as it is."""
    if "plan" not in inspect.signature(module.forward).parameters:
        return module
    plans = TiledPlans(module, clean)
    return lambda x: module(x, plan=plans(x.shape[0]))
