"""Training g on cached features: MSE plus the gate penalty (spec: knowledge-consistency §4.3).

loss = MSE(g(f_A), f_B) / Var(f_B) + Σ_i α p_i², with Adam, the learning rate falling
log-uniformly over the epochs (the released `logspace`). [ours] The MSE is taken over B's
variance on the training images (one number), so that α weighs the same against the fit on
any layer, whatever its scale. Every step is a progress report and a cancellation point.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.jobs import Progress
from engine.methods.consistency._network import ReconstructionNet


def centred_variance(x: torch.Tensor) -> float:
    """Mean over channels of each channel's variance over samples and positions (Variance.py, §4.4)."""
    x = x.double()
    return float(((x - x.mean((0, 2, 3), keepdim=True)) ** 2).mean())


def channel_std(x: torch.Tensor) -> torch.Tensor:
    """(C,) each channel's std over samples and positions: global mode's fixed input scale."""
    return x.double().transpose(0, 1).flatten(1).std(1).float()


@dataclass
class Fitted:
    net: ReconstructionNet
    curve: np.ndarray   # (E, 3) per epoch: mean training MSE and penalty, held-out MSE (÷ Var(f_B))


def fit(source: torch.Tensor, target: torch.Tensor, held: tuple, config, seed: int,
        progress: Progress) -> Fitted:
    """g from `source` to `target` (training images); `held` = (source, target) held out."""
    torch.manual_seed(seed)
    unit = centred_variance(target)
    net = ReconstructionNet(source.shape[1], target.shape[1], config.max_order, config.kernel,
                            config.normalisation, unit**0.5).to(source.device)
    if config.normalisation == "global":
        net.input_scale.set_std(channel_std(source))
    optimizer = torch.optim.Adam(net.parameters(), config.lr, weight_decay=config.weight_decay)
    order = torch.Generator().manual_seed(seed)
    steps = -(-len(source) // config.batch_size)
    curve = []
    for epoch in range(config.epochs):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, epoch)
        net.train()
        sums = np.zeros(2)
        for step, batch in enumerate(torch.randperm(len(source), generator=order).split(config.batch_size)):
            progress.step(epoch * steps + step, config.epochs * steps, f"epoch {epoch + 1}/{config.epochs}")
            sums += train_step(net, optimizer, source[batch], target[batch], unit, config.alpha) * len(batch)
        curve.append([*(sums / len(source)), held_out_mse(net, *held, unit, config.batch_size, progress)])
    return Fitted(net.eval().requires_grad_(False), np.asarray(curve, np.float32))


def learning_rate(config, epoch: int) -> float:
    """The released log-uniform fall over the epochs (`logspace`, `lr_decades` decades)."""
    return config.lr * 10 ** (-config.lr_decades * epoch / max(config.epochs - 1, 1))


def train_step(net, optimizer, source, target, unit: float, alpha: float) -> np.ndarray:
    """One Adam step on MSE ÷ Var(target) + α Σ p_i² (§4.3); returns (MSE, penalty)."""
    mse = F.mse_loss(net(source), target) / unit
    penalty = alpha * (net.gates() ** 2).sum()
    optimizer.zero_grad(set_to_none=True)
    (mse + penalty).backward()
    optimizer.step()
    return np.array([mse.detach().item(), penalty.detach().item()])


def held_out_mse(net: ReconstructionNet, source: torch.Tensor, target: torch.Tensor, unit: float,
                 batch_size: int, progress: Progress) -> float:
    net.eval()
    error = 0.0
    with torch.no_grad():
        for inputs, wanted in zip(source.split(batch_size), target.split(batch_size)):
            progress.check()
            error += float(F.mse_loss(net(inputs), wanted, reduction="sum"))
    return error / target.numel() / unit
