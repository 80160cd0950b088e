"""Performer and concept scores on the images, and the prior weights w (spec: concepts-bias-trees
§3.2 steps 1-3, §3.3 "precompute").

h is the input image [ours, the brief's choice]: its gradient exists whether the concepts come
from --model2 or from the performer's own outputs, so one code path serves both (a shared
intermediate layer exists only in the second case). Per image we keep only the Gram matrix
∇y_i·∇y_j, the products ∇y_i·∇ŷ and |∇ŷ|² (n+1 backward passes a batch, §3.3): the ridge least
squares needs no more, and the scores' standardisation rescales these exactly afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.errors import BadInput
from engine.jobs import Progress


@dataclass
class Scores:
    """N images, n concepts; raw (unstandardised) values."""

    yhat: np.ndarray    # (N,) the performer's target logit
    concepts: np.ndarray  # (N, n) the concept scores y_i
    gram: np.ndarray    # (N, n, n) ∇_h y_i · ∇_h y_j
    cross: np.ndarray   # (N, n) ∇_h y_i · ∇_h ŷ
    norm: np.ndarray    # (N,) |∇_h ŷ|²


@dataclass
class Sources:
    """Where ŷ and the y_i come from: the performer's column `target`, and `columns` of
    `concept_model` (the performer itself when None)."""

    performer: object
    target: int
    concept_model: object | None
    columns: list[int]


def outputs_of(model, x: torch.Tensor) -> torch.Tensor:
    out = model.module(model.prepare(x.to(model.device)))
    if out.dim() != 2:
        raise BadInput(f"{model.spec} gives outputs of shape {tuple(out.shape)}: concepts explains "
                       "one logit of (batch, outputs)")
    return out


def score_batch(sources: Sources, images: np.ndarray) -> tuple[np.ndarray, ...]:
    """(ŷ, y, gram, cross, norm) of one batch; gradients with respect to the images only."""
    x = torch.as_tensor(images, dtype=torch.float32).requires_grad_(True)
    out = outputs_of(sources.performer, x)
    yhat = out[:, sources.target]
    ys = (out if sources.concept_model is None else outputs_of(sources.concept_model, x))[:, sources.columns]
    g_hat = torch.autograd.grad(yhat.sum(), x, retain_graph=True)[0].flatten(1).double()
    g = torch.stack([torch.autograd.grad(ys[:, i].sum(), x, retain_graph=True)[0].flatten(1)
                     for i in range(ys.shape[1])], 1).double()   # (B, n, D): outputs are per image (eval)
    return tuple(t.detach().cpu().numpy() for t in
                 (yhat.double(), ys.double(), g @ g.transpose(1, 2), (g @ g_hat[:, :, None])[..., 0],
                  (g_hat**2).sum(1)))


def score_images(sources: Sources, images: np.ndarray, batch_size: int, progress: Progress) -> Scores:
    parts = []
    for start in range(0, len(images), batch_size):
        progress.step(start, len(images), f"scores and gradients {start}/{len(images)}")
        parts.append(score_batch(sources, images[start:start + batch_size]))
    return Scores(*(np.concatenate(p) for p in zip(*parts)))


def standardiser(values: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over the data of each column (spec §3.3 pitfall: else α absorbs the scale)."""
    mean, std = values.mean(0), values.std(0)
    flat = [name for name, s in zip(names, np.atleast_1d(std)) if not s > 1e-12]
    if flat:
        raise BadInput(f"{', '.join(flat)} is constant over the data: nothing to explain or explain by")
    return mean, std


def prior_weights(scores: Scores, concept_std: np.ndarray, yhat_std: float, ridge: float):
    """(N, n) w = argmin |∇ŷ − Σ w_i ∇y_i|² + ρ|w|² on the standardised scores (§3.2 step 3), and
    (N,) the share of |∇ŷ|² the projection explains (R²; 0 where ∇ŷ vanishes).
    ρ = `ridge` × the mean over images of trace(Gram)/n."""
    scale = 1.0 / concept_std
    gram = scores.gram * scale[None, :, None] * scale[None, None, :]
    cross = scores.cross * scale[None, :] / yhat_std
    norm = scores.norm / yhat_std**2
    n = gram.shape[1]
    rho = ridge * float(np.trace(gram, axis1=1, axis2=2).mean()) / n
    if not rho > 0:
        raise BadInput("the concepts' gradients vanish on every image (or ridge ≤ 0): no prior weights")
    w = np.linalg.solve(gram + rho * np.eye(n), cross[..., None])[..., 0]
    left = norm - 2 * (w * cross).sum(1) + np.einsum("bi,bij,bj->b", w, gram, w)
    r2 = np.where(norm > 0, 1 - left / np.where(norm > 0, norm, 1), 0.0)
    return w, r2
