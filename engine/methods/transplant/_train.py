"""The trainings of `transplant` over cached stem maps: one Adam loop serves them all."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from engine.jobs import Progress


def fit(modules: list[nn.Module], loss_of: Callable[[np.ndarray], torch.Tensor], rows: np.ndarray, config,
        seed: int, progress: Progress, what: str) -> float:
    """Adam over the modules' parameters, `config.epochs` passes over `rows` in random order;
    `loss_of(batch rows)` gives a step's loss. Returns the last epoch's mean loss."""
    params = [p for m in modules for p in m.parameters()]
    if not len(rows) or not params:
        return float("nan")
    optimiser = torch.optim.Adam(params, lr=config.lr)
    generator = np.random.default_rng(seed)
    for m in modules:
        m.train()
    mean = float("nan")
    for epoch in range(config.epochs):
        progress.step(epoch, config.epochs, f"{what}: epoch {epoch + 1}/{config.epochs}")
        order = generator.permutation(rows)
        losses = []
        for start in range(0, len(order), config.batch_size):
            loss = loss_of(order[start:start + config.batch_size])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        mean = float(np.mean(losses))
    for m in modules:
        m.eval()
    return mean
