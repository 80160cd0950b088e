"""`pointcloud-utility`: the architecture-utility metrics of a point-cloud classifier (spec §5.3).

For each of the first `samples` clouds: per-point σ at the layer (default `fc512`), calibrated
at D/D_ref ≈ τ with the sampling fixed on the clean cloud (§5.2), which gives information
discarding (item 1), per-point entropy and importance, and neighbourhood inconsistency
(item 5); σ on `rotations` rotated copies, compared pairwise (item 3); and the cost of
adversarial attacks toward the other classes (item 4). With `--model2` the same runs on the
second model, for the with/without table of one module (§5.4).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from engine.data.pointops import random_rotations, rotate, rotation_about_axis
from engine.errors import BadInput
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.pointcloud_utility._adversarial import AttackSettings, attack
from engine.layers import pick_layers
from engine.methods.pointcloud_utility._entropy import point_sigma
from engine.methods.pointcloud_utility._metrics import (clipped_share, neighbourhood_inconsistency,
                                                         rotation_divergence)
from engine.methods.pointcloud_utility.config import PointUtilityConfig
from engine.methods.pointcloud_utility.result import ModelUtility, PointUtilityResult


def compute(inputs: MethodInputs, config: PointUtilityConfig, progress: Progress) -> PointUtilityResult:
    data = inputs.data
    count = min(config.samples, len(data))
    if count < 1:
        raise BadInput(f"{data.spec} holds no cloud to analyse")
    clouds = torch.as_tensor(data.points[:count], dtype=torch.float32)
    labels = torch.as_tensor(data.labels[:count])
    second = inputs.model2 is not None
    first = measure(inputs.model, inputs.layers[0], clouds, labels, config, inputs.seed,
                    progress.child(0.0, 0.5 if second else 1.0))
    other = measure(inputs.model2, pick_layers(inputs.model2.module, [])[0], clouds, labels, config, inputs.seed,
                    progress.child(0.5, 1.0)) if second else None
    parts = None if data.part_labels is None else data.part_labels[:count]
    return PointUtilityResult(config, data.points[:count], data.labels[:count], list(data.class_names),
                              list(data.names[:count]), first, other, inputs.model2.spec if second else "",
                              parts, list(data.part_names))


def measure(model, layer: str, clouds: torch.Tensor, labels: torch.Tensor, config: PointUtilityConfig,
            seed: int, progress: Progress) -> ModelUtility:
    """Every §5.3 metric of one model on the clouds (B, N, 3)."""
    module, device = model.module.eval(), model.device
    clouds = clouds.to(device)
    settings = config.gpe(seed)
    outcome = point_sigma(module, clouds, layer, settings, progress.child(0.0, 0.3))
    sigma, entropy = outcome.log_sigma[0].exp(), outcome.entropy[0]
    clip = 0.99 * config.sigma_max  # "at the clamp", as the code's 0.079 for 0.08 (§5.3 item 5)
    rotation = rotation_robustness(module, layer, clouds, config, seed, progress.child(0.3, 0.7))
    with torch.no_grad():
        logits = module(clouds)  # the clean predictions: accuracy, and the attacks' targets
    costs, targets = adversarial_costs(module, clouds, labels, logits, config, seed, progress.child(0.7, 1.0))
    return ModelUtility(
        layer=layer, sigma=sigma.cpu().numpy(), entropy=entropy.cpu().numpy(),
        importance=importance(entropy, config).cpu().numpy(),
        calibrated=outcome.calibrated[0].cpu().numpy(), chosen_ratio=outcome.chosen_ratio[0].cpu().numpy(),
        neighbourhood=neighbourhood_inconsistency(clouds, sigma, config.neighbours, clip).cpu().numpy(),
        clipped=clipped_share(sigma, clip).cpu().numpy(),
        rotation=rotation, attack_cost=costs, attack_targets=targets,
        accuracy=accuracy(logits, labels))


def importance(entropy: torch.Tensor, config: PointUtilityConfig) -> torch.Tensor:
    """[ours] Nats a point keeps: the entropy it would have at the clamp (fully discarded)
    minus its own, ≥ 0; large where the layer tolerates little noise on the point."""
    ceiling = 3.0 * (0.5 * math.log(2 * math.pi * math.e) + math.log(config.sigma_max))
    return (ceiling - entropy).clamp(min=0.0)


def rotations_of(config: PointUtilityConfig, seed: int) -> np.ndarray:
    """(R, 3, 3): uniform on SO(3), or the code's axis (θ ~ U[0, π], φ ~ U[0, 2π]) and angle (§5.3, §5.7)."""
    if config.rotation_sampling == "uniform":
        return random_rotations(config.rotations, seed)
    rng = np.random.default_rng(seed)
    theta, phi, angle = rng.uniform(0, np.pi, config.rotations), rng.uniform(0, 2 * np.pi, config.rotations), \
        rng.uniform(0, 2 * np.pi, config.rotations)
    axes = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], -1)
    return np.stack([rotation_about_axis(a, t) for a, t in zip(axes, angle)])


def rotation_robustness(module, layer: str, clouds: torch.Tensor, config: PointUtilityConfig, seed: int,
                        progress: Progress) -> np.ndarray:
    """(B,) the JS divergence of σ across the rotated copies of each cloud (§5.3 item 3); NaN
    when `rotations` < 2. The points keep their order, so σ_i compares point i across poses."""
    if config.rotations < 2:
        return np.full(clouds.shape[0], np.nan)
    matrices = torch.as_tensor(rotations_of(config, seed), dtype=clouds.dtype, device=clouds.device)
    values = []
    for b, cloud in enumerate(clouds):
        copies = rotate(cloud.expand(len(matrices), -1, -1), matrices)
        outcome = point_sigma(module, copies, layer, config.gpe(seed), progress.child(b / len(clouds),
                                                                                         (b + 1) / len(clouds)))
        values.append(float(rotation_divergence(outcome.log_sigma[0].exp())))
    return np.asarray(values)


def adversarial_costs(module, clouds: torch.Tensor, labels: torch.Tensor, logits: torch.Tensor,
                      config: PointUtilityConfig, seed: int, progress: Progress) -> tuple[np.ndarray, np.ndarray]:
    """(B, T) ‖ε‖² of the first success toward each target (NaN: not fooled) and the targets
    (−1 where a cloud has fewer), T the other classes or `attack_targets` (§5.3 item 4), the
    most likely wrong classes first by the clean `logits`."""
    classes = logits.shape[1]
    wanted = classes - 1 if config.attack_targets <= 0 else min(config.attack_targets, classes - 1)
    settings = AttackSettings(config.attack_lambda, config.attack_lr, config.attack_steps, config.max_offset, seed)
    costs, targets = np.full((len(clouds), wanted), np.nan), np.full((len(clouds), wanted), -1)
    for b, cloud in enumerate(clouds):
        truth = int(labels[b]) if labels[b] >= 0 else int(logits[b].argmax())
        ranked = [k for k in logits[b].argsort(descending=True).tolist() if k != truth][:wanted]
        # no sampling plan: the attacked cloud is sampled anew, an input of its own
        outcome = attack(module, cloud, torch.tensor(ranked, device=cloud.device), settings,
                         progress.child(b / len(clouds), (b + 1) / len(clouds)))
        costs[b], targets[b] = outcome.cost.numpy(), ranked
    return costs, targets


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    known = labels >= 0
    if not known.any():
        return math.nan
    predicted = logits.argmax(1).cpu()
    return float((predicted[known] == labels[known]).float().mean())
