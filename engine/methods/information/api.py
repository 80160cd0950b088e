"""`information`: per-cell entropy of the input information each chosen layer uses (Ma et al.).

spec: information §3.1 (SID) on the shared engine of §1. Samples go in chunks; every
chunk optimises all chosen layers at once (one truncated forward pass a step).
"""
from __future__ import annotations

import numpy as np
import torch

from engine.errors import BadInput
from engine.jobs import Progress
from engine.layers import forward_by_rows, forward_to
from engine.methods.base import MethodInputs
from engine.methods.information._gpe import GPEOutcome, GPEProblem, optimise
from engine.methods.information._units import ImageCells
from engine.methods.information.config import InformationConfig
from engine.methods.information.result import PER_LAYER, InformationResult


def compute(inputs: MethodInputs, config: InformationConfig, progress: Progress) -> InformationResult:
    data, model = inputs.data, inputs.model
    if data.kind != "image":
        raise BadInput(f"information on {data.kind} data is not available yet; it takes images")
    units = ImageCells((3, *data.image_size), config.grid)
    parts: dict[str, list] = {name: [] for name in PER_LAYER}
    n, step = len(data), config.batch_size
    for start in range(0, n, step):
        clean = model.prepare(data.images[start:start + step])
        problem = GPEProblem(clean, inputs.layers, lambda x: forward_to(model.module, x, inputs.layers), units,
                             row_features=lambda x, rows: forward_by_rows(model.module, x, inputs.layers, rows))
        chunk = progress.child(start / n, min(start + step, n) / n)
        outcome = optimise(problem, config.gpe(inputs.seed + start), chunk)
        _collect(parts, outcome)
    per_layer = {name: {layer: np.concatenate([p[i] for p in parts[name]])
                        for i, layer in enumerate(inputs.layers)} for name in PER_LAYER}
    fg = None if data.foreground is None else units.downsample_mask(torch.as_tensor(data.foreground)).numpy()
    return InformationResult(config, list(inputs.layers), data.images, eval_iterations=outcome.eval_iterations,
                             unit_dims=units.dims.numpy(), sample_names=list(data.names),
                             foreground_cells=fg, **per_layer)


def _collect(parts: dict, outcome: GPEOutcome) -> None:
    """Append one chunk's (L, B, ...) tensors as numpy, split later by layer."""
    values = {"sigma": outcome.log_sigma.exp(), "entropy": outcome.entropy,
              "ratio_trace": outcome.ratio_trace, "lambda_trace": outcome.lambda_trace,
              "chosen": outcome.chosen, "calibrated_rows": outcome.calibrated,
              "reference": outcome.reference}
    for name, value in values.items():
        parts[name].append(value.detach().cpu().numpy())
