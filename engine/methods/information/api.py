"""`information`: what of the input each chosen layer keeps (Ma et al.), on the engine of §1.

spec: information §3.1 (discarding: entropy per σ cell) and §3.2 (reconstruction: per-pixel
uncertainty of the input rebuilt from the layer). Samples go in chunks; every chunk
optimises all chosen layers at once, each row leaving the network at its own layer.
"""
from __future__ import annotations

import numpy as np
import torch

from engine.data import load_data
from engine.errors import BadInput
from engine.jobs import Progress
from engine.layers import forward_by_rows, forward_to
from engine.methods.base import MethodInputs
from engine.methods.information._gpe import GPEOutcome, GPEProblem, optimise
from engine.methods.information._reconstruction import ReconstructionPenalty, train_decoders
from engine.methods.information._text import TextInputs
from engine.methods.information._units import ImageCells
from engine.methods.information.config import InformationConfig
from engine.methods.information.result import PER_LAYER, InformationResult


def compute(inputs: MethodInputs, config: InformationConfig, progress: Progress) -> InformationResult:
    if inputs.data.kind == "text":
        return _compute_text(inputs, config, progress)
    data, model = inputs.data, inputs.model
    units = ImageCells((3, *data.image_size), config.grid)
    decoders = None
    if config.mode == "reconstruction":
        decoders = _decoders(inputs, config, progress.child(0.0, 0.3))
        progress = progress.child(0.3, 1.0)
    problem = (_image_problem, (model, data.images, inputs.layers, units, decoders, config.batch_size))
    per_layer, iterations, spread = _repeated(problem, len(data), inputs, config, progress)
    return InformationResult(config, list(inputs.layers), data.images, eval_iterations=iterations,
                             unit_dims=units.dims.numpy(), sample_names=list(data.names),
                             foreground_share=_foreground(data, units, config), entropy_spread=spread,
                             **per_layer)


def _repeated(problem: tuple, n: int, inputs: MethodInputs, config: InformationConfig, progress: Progress):
    """The first run's results, and with `repeats` ≥ 2 the per-unit std of the entropy over
    runs with other noise seeds (spec: information §1.5, repeatability estimate). `problem` is
    (make, its arguments): make(*arguments, start) is the chunk of samples from `start`."""
    runs = []
    for r in range(config.repeats):
        part = progress.child(r / config.repeats, (r + 1) / config.repeats)
        runs.append(_chunks(problem, n, inputs, config, inputs.seed + 7919 * r, part))
    per_layer, iterations = runs[0]
    if config.repeats < 2:
        return per_layer, iterations, None
    spread = {layer: np.std(np.stack([run[0]["entropy"][layer] for run in runs]), axis=0)
              for layer in inputs.layers}
    return per_layer, iterations, spread


def _chunks(problem: tuple, n: int, inputs: MethodInputs, config: InformationConfig, seed: int,
            progress: Progress) -> tuple[dict, list]:
    """Optimise the samples `batch_size` at a time, each chunk a piece of work of the run's
    executor (here, or a Ray task: every chunk has its own noise seed, so where it runs does not
    change it); per-layer arrays over all samples, the traces on the union of every chunk's
    evaluation steps (paper mode refines per chunk)."""
    parts: dict[str, list] = {name: [] for name in PER_LAYER}
    make, arguments = problem
    outcomes = inputs.executor.map(_optimised_chunk, list(range(0, n, config.batch_size)), progress,
                                   fixed=(make, *arguments), shared=(config, seed))
    iterations = sorted(set().union(*(outcome.eval_iterations for outcome in outcomes)))
    for outcome in outcomes:
        _collect(parts, outcome.on_iterations(iterations))
    return _by_layer(parts, inputs.layers), iterations


def _optimised_chunk(*pieces) -> GPEOutcome:
    """(make, its arguments…, config, seed, start, progress): one chunk's optimisation."""
    make, *arguments, config, seed, start, progress = pieces
    return optimise(make(*arguments, start), config.gpe(seed + start), progress)


def _image_problem(model, images, layers, units, decoders, step: int, start: int) -> GPEProblem:
    return _problem(model, layers, model.prepare(images[start:start + step]), units, decoders)


def _text_problem(text: TextInputs, step: int, start: int) -> GPEProblem:
    return text.problem(start, start + step)


def _compute_text(inputs: MethodInputs, config: InformationConfig, progress: Progress) -> InformationResult:
    """Guan et al.: per-token entropy, every chosen layer at once (spec: information §2)."""
    if config.mode != "discarding":
        raise BadInput(f"mode={config.mode} needs images; text takes mode=discarding")
    text = TextInputs(inputs.model, inputs.data, inputs.layers)
    per_layer, iterations, spread = _repeated((_text_problem, (text, config.batch_size)), len(inputs.data), inputs,
                                              config, progress)
    pads = ~text.mask.cpu().numpy()
    for values in [per_layer["sigma"], per_layer["entropy"], spread or {}]:  # padding: no σ, no entropy
        for layer in values:
            values[layer][pads] = np.nan
    return InformationResult(config, list(inputs.layers), None, eval_iterations=iterations,
                             unit_dims=text.units(text.mask).dims.numpy(), sample_names=list(inputs.data.names),
                             words=text.words, keyword_masks=_keyword_masks(inputs.data, pads.shape),
                             entropy_spread=spread, **per_layer)


def _keyword_masks(data, shape: tuple) -> np.ndarray | None:
    if data.keyword_masks is None:
        return None
    out = np.zeros(shape, bool)
    for i, mask in enumerate(data.keyword_masks):
        out[i, :min(len(mask), shape[1])] = mask[:shape[1]]
    return out


def _by_layer(parts: dict, layers: list[str]) -> dict:
    return {name: {layer: np.concatenate([p[i] for p in parts[name]]) for i, layer in enumerate(layers)}
            for name in PER_LAYER}


def _problem(model, layers: list[str], clean: torch.Tensor, units, decoders) -> GPEProblem:
    module = model.module
    penalty = None
    if decoders is not None:
        with torch.no_grad():
            shapes = {k: v.shape[1:] for k, v in forward_to(module, clean[:1], layers).items()}
        penalty = ReconstructionPenalty(decoders, clean, layers, shapes)
    return GPEProblem(clean, layers, lambda x: forward_to(module, x, layers), units,
                      row_features=lambda x, rows: forward_by_rows(module, x, layers, rows), penalty=penalty)


def _decoders(inputs: MethodInputs, config: InformationConfig, progress: Progress) -> dict:
    """Decoders g_l trained on `decoder_data` (or the analysed data), in model-input space."""
    data = load_data(config.decoder_data, inputs.model.input_size) if config.decoder_data else inputs.data
    images = inputs.model.prepare(data.images)
    try:
        return train_decoders(inputs.model.module, images, inputs.layers, config.decoder_epochs,
                              inputs.seed, progress)
    except ValueError as exc:
        raise BadInput(f"mode=reconstruction: {exc}") from None


def _foreground(data, units: ImageCells, config: InformationConfig) -> np.ndarray | None:
    """Share of each map element on the object: per σ cell (discarding) or per pixel (reconstruction)."""
    if data.foreground is None:
        return None
    if config.mode == "reconstruction":
        return data.foreground.astype(np.float32)
    return units.downsample_mask(torch.as_tensor(data.foreground)).numpy()


def _collect(parts: dict, outcome: GPEOutcome) -> None:
    """Append one chunk's (L, B, ...) tensors as numpy, split later by layer."""
    entropy = outcome.entropy if outcome.maps is None else 0.5 * outcome.maps  # RU: nats a pixel dimension
    values = {"sigma": outcome.log_sigma.exp(), "entropy": entropy,
              "ratio_trace": outcome.ratio_trace, "lambda_trace": outcome.lambda_trace,
              "chosen": outcome.chosen, "calibrated_rows": outcome.calibrated,
              "reference": outcome.reference}
    for name, value in values.items():
        parts[name].append(value.detach().cpu().numpy())
