"""Training the explainer on the performer's cached features, without labels (spec:
concepts-bias-trees §6: distillation, the interpretable filter loss, no annotations).

Loss per step [ours where the outline is silent]: the feature distillation ‖f̂ − f_L′‖² over
the mean ‖f_L′‖² of the training images; the masked layer's filter loss (interpretable-cnn
§2.5, every image a positive of its one category); share_weight·(−log p); and, with
output_weight, the KL divergence of the performer's softmax from f̂ against its own.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.jobs import Progress
from engine.layers import hooked
from engine.methods.explainer._network import Explainer, replaced


@dataclass
class Cached:
    """The performer on every image: f at L, f at L′ and its logits."""

    features: torch.Tensor  # (N,C,h,w)
    target: torch.Tensor    # (N,C′,h′,w′)
    logits: torch.Tensor    # (N,K)


def cache(model, images: np.ndarray, layer: str, target_layer: str, batch_size: int, progress: Progress) -> Cached:
    parts = {"features": [], "target": [], "logits": []}
    for start in range(0, len(images), batch_size):
        progress.step(start, len(images), f"performer features {start}/{len(images)}")
        store = {}
        with torch.no_grad(), hooked(model.module, [layer, target_layer], store):
            logits = model.module(model.prepare(images[start:start + batch_size]))
        for key, value in (("features", store[layer]), ("target", store[target_layer]), ("logits", logits)):
            parts[key].append(value.float())
    return Cached(*(torch.cat(parts[k]) for k in ("features", "target", "logits")))


@contextmanager
def frozen(module: torch.nn.Module):
    """The performer's parameters out of autograd while the explainer trains through its head."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


def step_loss(explainer: Explainer, model, cached: Cached, images: np.ndarray, rows: np.ndarray, target_layer: str,
              epoch: int, scale: float, config) -> tuple[torch.Tensor, torch.Tensor]:
    """(the loss, its four terms for the curve) on the images `rows`: one training step's."""
    predicted, p = explainer.mixed(cached.features[rows])
    distill = ((predicted - cached.target[rows]) ** 2).mean() / scale
    positives = torch.ones(len(rows), 1, dtype=torch.bool)
    filter_loss = explainer.masked.filter_loss(positives, epoch)
    share = -torch.log(p.clamp_min(1e-6)).mean()
    output = predicted.new_zeros(())
    if config.output_weight > 0:
        with replaced(model.module, target_layer, predicted):
            logits = model.module(model.prepare(images[rows]))
        output = F.kl_div(F.log_softmax(logits, 1), F.softmax(cached.logits[rows], 1), reduction="batchmean")
    terms = torch.stack([distill, filter_loss, share, output])
    return distill + filter_loss + config.share_weight * share + config.output_weight * output, terms.detach()


def train(explainer: Explainer, model, cached: Cached, images: np.ndarray, train_rows: np.ndarray,
          target_layer: str, config, seed: int, progress: Progress) -> np.ndarray:
    """Adam over `config.epochs`; (E, 4) the mean of each loss term per epoch."""
    generator = np.random.default_rng(seed)
    optimiser = torch.optim.Adam(explainer.parameters(), lr=config.lr)
    scale = float((cached.target[train_rows] ** 2).mean().clamp_min(1e-12))
    curve = np.zeros((config.epochs, 4))
    model.module.eval()
    with frozen(model.module):
        for epoch in range(1, config.epochs + 1):
            progress.step(epoch - 1, config.epochs, f"explainer epoch {epoch}/{config.epochs}")
            explainer.train()
            order = generator.permutation(train_rows)
            batches = [order[i:i + config.batch_size] for i in range(0, len(order), config.batch_size)]
            for rows in batches:
                loss, terms = step_loss(explainer, model, cached, images, rows, target_layer, epoch, scale, config)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                curve[epoch - 1] += terms.numpy() / len(batches)
    explainer.eval()
    return curve
