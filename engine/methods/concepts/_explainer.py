"""The explainer g_θ and its training (spec: concepts-bias-trees §3.2, §3.3).

g_θ: a small CNN on the image → α ∈ R^n, with a learned scalar b, so that the standardised
ŷ ≈ Σ α_i y_i + b. Loss = mean (ŷ − Σ α_i y_i − b)² + λ(t)·mean |α/|α| − w/|w||² (the prior
loss's L2 option between normalised α and w, §3.2 step 4); λ falls log-uniformly from
`prior_weight` by `prior_decades` decades over training (large early, annealed: step 5 [ours]).
[ours] A spec names a ResNet-18 head (§3.3); three strided convolutions suffice for our small
images and train on a CPU in seconds. Every step is a progress report and a cancellation point.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.jobs import Progress

TINY = 1e-8  # keeps the normalisation of an all-zero α or w finite


class Explainer(nn.Module):
    def __init__(self, concepts: int, width: int) -> None:
        super().__init__()
        widths = (3, width, 2 * width, 2 * width)
        self.convs = nn.Sequential(*(layer for c_in, c_out in zip(widths, widths[1:])
                                     for layer in (nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.ReLU())))
        self.head = nn.Linear(widths[-1], concepts)
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] → (B, n) α."""
        return self.head(self.convs(images - 0.5).mean((2, 3)))


def unit(v: torch.Tensor) -> torch.Tensor:
    return v / (v.norm(dim=1, keepdim=True) + TINY)


def losses(net: Explainer, images, yhat, concepts, prior) -> tuple[torch.Tensor, torch.Tensor]:
    """(distillation MSE, prior L2) of one batch."""
    alpha = net(images)
    explained = (alpha * concepts).sum(1) + net.bias
    return F.mse_loss(explained, yhat), ((unit(alpha) - unit(prior)) ** 2).sum(1).mean()


def prior_lambda(config, epoch: int) -> float:
    return config.prior_weight * 10 ** (-config.prior_decades * epoch / max(config.epochs - 1, 1))


def train(tensors: tuple, train_idx: np.ndarray, held_idx: np.ndarray, config, seed: int,
          progress: Progress) -> tuple[Explainer, np.ndarray]:
    """g_θ fitted on `train_idx` of (images, ŷ, y, w); and (E, 3) per epoch: the training
    distillation MSE and prior loss, the held-out distillation MSE."""
    torch.manual_seed(seed)
    net = Explainer(tensors[2].shape[1], config.width)
    optimizer = torch.optim.Adam(net.parameters(), config.lr)
    order = torch.Generator().manual_seed(seed)
    train_set, held_set = (tuple(t[torch.as_tensor(i)] for t in tensors) for i in (train_idx, held_idx))
    steps, curve = -(-len(train_idx) // config.batch_size), []
    for epoch in range(config.epochs):
        net.train()
        sums, lam = np.zeros(2), prior_lambda(config, epoch)
        for step, batch in enumerate(torch.randperm(len(train_idx), generator=order).split(config.batch_size)):
            progress.step(epoch * steps + step, config.epochs * steps, f"epoch {epoch + 1}/{config.epochs}")
            dis, prior = losses(net, *(t[batch] for t in train_set))
            optimizer.zero_grad(set_to_none=True)
            (dis + lam * prior).backward()
            optimizer.step()
            sums += np.array([dis.item(), prior.item()]) * len(batch)
        net.eval()
        with torch.no_grad():
            held_dis = losses(net, *held_set)[0].item()
        curve.append([*(sums / len(train_idx)), held_dis])
    return net.requires_grad_(False), np.asarray(curve, np.float32)
