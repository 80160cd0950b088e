"""Mined relations between attributes' inference patterns (spec: concepts-bias-trees §5.2 steps 1-3)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.errors import BadInput
from engine.jobs import Progress
from engine.layers import hooked


@dataclass
class Patterns:
    """What §5.2 steps 1-2 need from the data, accumulated batch by batch (A attributes, N images).

    cosine:   (A, A) E_I[cos(ρ_a, ρ_b)] over the images
    logits:   (N, A) y_a of every image
    evidence: (M, A, h, w) ρ_a summed over channels, on the first M images
    """

    cosine: np.ndarray
    logits: np.ndarray
    evidence: np.ndarray


def contributions(model, x: torch.Tensor, layer: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits (B, A), g_a ∘ x (B, A, C, h, w)) at `layer`: one backward per attribute over the
    whole batch (§5.2 cost: A backward passes), the hook removed whatever happens."""
    store: dict[str, torch.Tensor] = {}
    with torch.enable_grad(), hooked(model, [layer], store):
        logits = model(x.requires_grad_(True))
        features = store[layer]
        if features.dim() != 4:
            raise BadInput(f"layer {layer} gives {tuple(features.shape)}: dataset-bias reads conv maps (B, C, h, w)")
        grads = [torch.autograd.grad(logits[:, a].sum(), features, retain_graph=a + 1 < logits.shape[1])[0]
                 for a in range(logits.shape[1])]
    return logits.detach(), torch.stack(grads, 1) * features.detach()[:, None]


def pattern_cosines(signed: torch.Tensor) -> torch.Tensor:
    """(B, A, A) cos(ρ_a, ρ_b) per image, ρ = max(g∘x, 0) flattened; a ρ that is all zero has cosine 0."""
    rho = signed.clamp(min=0).flatten(2)
    unit = rho / rho.norm(dim=2, keepdim=True).clamp(min=1e-12)
    return unit @ unit.transpose(1, 2)


def mine(model, images: np.ndarray, layer: str, batch_size: int, kept: int, progress: Progress) -> Patterns:
    """Steps 1-2 over every image: the mean cosines, the logits and the kept images' maps."""
    total, logits, evidence = None, [], []
    for start in range(0, len(images), batch_size):
        progress.step(start, len(images), f"contribution maps {start}/{len(images)}")
        y, maps = contributions(model.module, model.prepare(images[start:start + batch_size]), layer)
        cosines = pattern_cosines(maps).sum(0)
        total = cosines if total is None else total + cosines
        logits.append(y.cpu())
        if start < kept:
            evidence.append(maps[:kept - start].clamp(min=0).sum(2).cpu())
    return Patterns((total / len(images)).cpu().numpy().astype(np.float64), torch.cat(logits).numpy(),
                    torch.cat(evidence).numpy())


def output_signs(logits: np.ndarray) -> np.ndarray:
    """sign(corr_I(y_a, y_b)); a logit constant over the images correlates with nothing (0)."""
    centred = logits - logits.mean(0)
    spread = np.sqrt((centred ** 2).sum(0))
    live = spread > 1e-12 * max(1.0, float(np.abs(logits).max()))
    unit = np.where(live, centred / np.where(live, spread, 1.0), 0.0)
    return np.sign(np.round(unit.T @ unit, 12))


def parse_truth(text: str, names: list[str]) -> np.ndarray:
    """R* from 'a:b:+1,c:d:-1' (symmetric; unnamed pairs 0; §5.2 inputs: people state it)."""
    truth = np.zeros((len(names), len(names)))
    for item in filter(None, (t.strip() for t in text.split(","))):
        bits = [b.strip() for b in item.split(":")]
        if len(bits) != 3 or bits[2] not in ("+1", "1", "0", "-1") or bits[0] == bits[1]:
            raise BadInput(f"truth item {item!r} must be a:b:+1, a:b:0 or a:b:-1 with two different attributes")
        a, b = (attribute_index(bit, names) for bit in bits[:2])
        truth[a, b] = truth[b, a] = int(bits[2])
    return truth


def attribute_index(name: str, names: list[str]) -> int:
    if name not in names:
        raise BadInput(f"attribute {name!r} is not one of the model's outputs: {', '.join(names)}")
    return names.index(name)


def ranked_pairs(mined: np.ndarray, truth: np.ndarray, kappa: float, names: list[str]) -> list[dict]:
    """Every pair a < b ranked by |r_ab − κ R*_ab| (§5.2 step 3), the most suspicious first."""
    rows = [{"a": names[a], "b": names[b], "mined": float(mined[a, b]), "truth": float(truth[a, b]),
             "score": float(abs(mined[a, b] - kappa * truth[a, b]))}
            for a in range(len(names)) for b in range(a + 1, len(names))]
    return sorted(rows, key=lambda row: -row["score"])
