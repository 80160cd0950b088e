"""How `deepscope train` builds and feeds a point model (engine/models/training.py calls these).

The switches are `--set density=true` etc. (TrainConfig); each architecture takes those
of `SWITCHES`, and a switch it has no place for is bad input, not silently ignored.
Augmentation: each training batch may be turned about +z or uniformly in SO(3), and
jittered with Gaussian noise (the rotation-augmented checkpoints of spec §5.3 item 3).
After training, the BatchNorm statistics are measured afresh (`recalibrate_batchnorm`).
"""
from __future__ import annotations

from functools import partial

import torch
from torch import nn

from engine.data.pointops import random_rotations, random_z_rotations, rotate
from engine.errors import BadInput
from engine.models.pointnets import SWITCHES
from engine.models.pointnets.pointnet2 import MULTISCALE

ROTATIONS = ("none", "z", "so3")
ALL_SWITCHES = ("density", "weight", "orientation", "tnets")
RECALIBRATION_CLOUDS = 256  # plenty for every channel's mean and variance, at a fraction of an epoch


def check_settings(arch: str, config) -> None:
    """BadInput for a point setting the architecture does not take."""
    for name in ALL_SWITCHES:
        if getattr(config, name) and name not in SWITCHES.get(arch, ()):
            takers = [a for a, names in SWITCHES.items() if name in names]
            raise BadInput(f"setting {name} applies to {', '.join(takers)}, not {arch}")
    if arch not in SWITCHES and (config.rotate != "none" or config.jitter):
        raise BadInput(f"settings rotate and jitter augment point clouds; {arch} reads no points")


def arch_args(arch: str, dataset, config) -> dict:
    """What model.json keeps to rebuild the model: classes, point count, the switches."""
    args = {"num_classes": len(dataset.class_names), "num_points": dataset.num_points}
    args.update({name: getattr(config, name) for name in SWITCHES[arch]})
    if arch in MULTISCALE:
        args["multiscale"] = MULTISCALE[arch]
    return args


def augmentation(config):
    """`augment(inputs, generator)` for the training loop, or None when nothing is varied."""
    if config.rotate == "none" and not config.jitter:
        return None
    return partial(augment_clouds, rotation=config.rotate, jitter=config.jitter)


def augment_clouds(inputs: list[torch.Tensor], generator: torch.Generator, rotation: str,
                   jitter: float) -> list[torch.Tensor]:
    """The batch (B, N, 3) rotated per cloud and jittered, reproducibly from `generator`."""
    (points,) = inputs
    if rotation != "none":
        seed = int(torch.randint(2**31, (1,), generator=generator))
        draw = random_z_rotations if rotation == "z" else random_rotations
        points = rotate(points, draw(len(points), seed))
    if jitter:
        points = points + jitter * torch.randn(points.shape, generator=generator)
    return [points]


def recalibrate_batchnorm(model: nn.Module, points: torch.Tensor, batch_size: int, progress) -> None:
    """Every BatchNorm's running mean and variance, averaged afresh over the first 256
    training clouds at the final weights (torch.optim.swa_utils.update_bn, with progress).
    Why: after a short training the running variances still hold much of their initial 1
    (0.9^steps forgets it slowly), while the offsets in a ball of radius 0.1 vary by ~1e-3,
    so in eval mode, which every analysis uses (spec §5.7 "Shared state"), the network
    would see its inputs shrunk many times over; measured, held-out accuracy fell to chance."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the batches
    points = points[:RECALIBRATION_CLOUDS]
    chunks = points.tensor_split(max(1, -(-len(points) // batch_size)))  # no batch of one cloud
    model.train()
    with torch.no_grad():
        for i, chunk in enumerate(chunks):
            progress.step(i, len(chunks), "BatchNorm statistics")
            model(chunk)
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    model.eval()
