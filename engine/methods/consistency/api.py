"""`consistency`: what two networks share at each order of nonlinearity, and where one is blind.

spec: knowledge-consistency §4. Per layer pair (A's layer from --layers, B's of the same name
or from `layer2`), both models' features are computed once on the data (§4.3 caches them);
for each direction a g_θ (§4.2) is fitted on all but the last `held_out` share of the images
(§4.3) and measured on those (§4.4: ρ of each order and of the residual, and where they sit).
A→B's residual is A's blind spots, B→A's A's unreliable features (§4.5). The released code
takes maps before a ReLU (§4.3); on post-ReLU maps (all ≥ 0) the branches' ReLUs may all turn
off (the result's `relu_on`): in our blocks `conv4.1` is conv4 after BatchNorm, before its ReLU.
"""
from __future__ import annotations

import numpy as np
import torch

from engine.errors import BadInput
from engine.jobs import Progress
from engine.layers import forward_to, pick_layers
from engine.methods.base import MethodInputs
from engine.methods.consistency._training import centred_variance, fit
from engine.methods.consistency._variance import component_energy, energy, split, variance_ratios
from engine.methods.consistency.config import ConsistencyConfig
from engine.methods.consistency.result import ConsistencyResult, Direction, LayerPair
from engine.methods.explanatory_graph.api import to_uint8

FEATURES = 0.1  # share of the progress bar for computing both models' features


def compute(inputs: MethodInputs, config: ConsistencyConfig, progress: Progress) -> ConsistencyResult:
    check(config)
    if inputs.model2 is None:
        raise BadInput("consistency compares two networks: give the second with --model2 SPEC")
    pairs = layer_pairs(inputs, config)
    images = inputs.data.images
    train, held = split_indices(len(images), config.held_out)
    features_a, features_b = both_features(inputs, pairs, config.batch_size, progress.child(0, FEATURES))
    measured = []
    for index, (a, b) in enumerate(pairs):
        span = progress.child(FEATURES + (1 - FEATURES) * index / len(pairs),
                              FEATURES + (1 - FEATURES) * (index + 1) / len(pairs))
        f_a, f_b = same_size(a, features_a[a], b, features_b[b])
        seed = inputs.seed + 2 * index
        measured.append(LayerPair(a, b, measure(f_a, f_b, train, held, config, seed, span.child(0, 0.5)),
                                  measure(f_b, f_a, train, held, config, seed + 1, span.child(0.5, 1))))
    progress.step(1.0, 1.0, "consistency measured")
    kept = held[:config.maps_images]
    return ConsistencyResult(config, measured, to_uint8(images[kept]), [inputs.data.names[k] for k in kept],
                             inputs.model2.spec, {"train": len(train), "held_out": len(held)})


def both_features(inputs: MethodInputs, pairs: list, batch_size: int, progress: Progress) -> tuple[dict, dict]:
    """A's layers' features and B's, each computed once (§4.3 caches them)."""
    images = inputs.data.images
    features_a = collect(inputs.model, images, [a for a, _ in pairs], batch_size, progress.child(0, 0.5))
    try:
        return features_a, collect(inputs.model2, images, [b for _, b in pairs], batch_size, progress.child(0.5, 1))
    except RuntimeError as exc:
        raise BadInput(f"the images do not fit --model2 {inputs.model2.spec} "
                       f"({str(exc).strip().splitlines()[0][:160]})") from None


def check(config: ConsistencyConfig) -> None:
    if config.max_order < 0 or config.kernel < 1 or config.kernel % 2 == 0:
        raise BadInput(f"max_order={config.max_order}, kernel={config.kernel}: K must be ≥ 0 and the kernel "
                       "an odd size (same-size maps)")
    if not 0 < config.held_out < 1 or min(config.epochs, config.batch_size, config.maps_images) < 1:
        raise BadInput(f"held_out={config.held_out} must lie in (0, 1), and epochs, batch_size and "
                       "maps_images be at least 1")


def layer_pairs(inputs: MethodInputs, config: ConsistencyConfig) -> list[tuple[str, str]]:
    """(A's layer, B's layer) for each of --layers: B's of the same name, or `layer2`'s in order."""
    layers_b = list(config.layer2) or list(inputs.layers)
    if len(layers_b) != len(inputs.layers):
        raise BadInput(f"layer2 names {len(layers_b)} layers of --model2 for {len(inputs.layers)} of --layers: "
                       "give one each, in the same order")
    try:
        pick_layers(inputs.model2.module, layers_b)
    except BadInput as exc:
        raise BadInput(f"--model2 {inputs.model2.spec}: {exc} (pair other layers with --set layer2=...)") from None
    return list(zip(inputs.layers, layers_b))


def split_indices(n: int, held_out: float) -> tuple[np.ndarray, np.ndarray]:
    """(training, held-out) image indices: the last `held_out` share is held out (§4.4: g overfits)."""
    held = int(round(n * held_out))
    if held < 1 or held >= n:
        raise BadInput(f"{n} images with held_out={held_out}: need at least one image to fit g on "
                       "and one to measure it on")
    return np.arange(n - held), np.arange(n - held, n)


def collect(model, images: np.ndarray, layers: list[str], batch_size: int, progress: Progress) -> dict:
    """Per layer, (N, C, h, w) float32 features on the model's device (a flat layer as C×1×1)."""
    chunks = {layer: [] for layer in layers}
    for start in range(0, len(images), batch_size):
        progress.step(start, len(images), f"features {start}/{len(images)}")
        with torch.no_grad():
            out = forward_to(model.module, model.prepare(images[start:start + batch_size]), layers)
        for layer in layers:
            chunks[layer].append(as_maps(layer, out[layer].float()))
    return {layer: torch.cat(c) for layer, c in chunks.items()}


def as_maps(layer: str, output: torch.Tensor) -> torch.Tensor:
    if output.dim() == 2:
        return output[:, :, None, None]
    if output.dim() != 4:
        raise BadInput(f"layer {layer} gives {tuple(output.shape)}: consistency compares conv maps "
                       "(B, C, h, w) or flat features (B, C)")
    return output


def same_size(a: str, f_a: torch.Tensor, b: str, f_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """§4.1: the two layers' maps must have the same spatial size; both on A's device."""
    if f_a.shape[2:] != f_b.shape[2:]:
        raise BadInput(f"A's {a} maps are {tuple(f_a.shape[2:])} but B's {b} are {tuple(f_b.shape[2:])}: "
                       "knowledge consistency pairs layers of the same spatial size (§4.1)")
    return f_a, f_b.to(f_a.device)


def measure(source, target, train, held, config: ConsistencyConfig, seed: int, progress: Progress) -> Direction:
    """Fit g from `source` to `target` on the training images; its components on both sets."""
    for name, values in (("training", target[train]), ("held-out", target[held])):
        if centred_variance(values) <= 0:
            raise BadInput(f"the target layer is constant on the {name} images: no variance to explain")
    fitted = fit(source[train], target[train], (source[held], target[held]), config, seed, progress)
    held_parts, relu_on = split(fitted.net, source[held], target[held], config.batch_size, progress)
    train_parts, _ = split(fitted.net, source[train], target[train], config.batch_size, progress)
    kept = min(config.maps_images, len(held))
    return Direction(variance_ratios(held_parts, target[held]), variance_ratios(train_parts, target[train]),
                     fitted.net.gates().cpu().numpy(), relu_on, fitted.curve, held_parts[:kept].cpu().numpy(),
                     component_energy(held_parts, kept), energy(target[held][:kept], target[held]))

