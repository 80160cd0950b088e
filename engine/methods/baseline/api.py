"""`baseline`: Captum's attributions of one class per image, batched, for comparison."""
from __future__ import annotations

import numpy as np
import torch

from engine.baselines import BASELINES, OnImages, attribute
from engine.errors import BadInput, choices
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.baseline.config import BaselineConfig
from engine.methods.baseline.result import BaselineResult


def compute(inputs: MethodInputs, config: BaselineConfig, progress: Progress) -> BaselineResult:
    _check(config)
    model, data = inputs.model, inputs.data
    net = OnImages(model).eval()
    layer = dict(model.module.named_modules())[inputs.layers[0]]
    n, step = len(data), config.batch_size
    maps = {name: [] for name in config.methods}
    targets, predictions, deltas = [], [], []
    for start in range(0, n, step):
        images = torch.as_tensor(data.images[start:start + step], device=model.device)
        with torch.no_grad():
            predicted = net(images).argmax(1)
        target = _targets(config.target, predicted, data.labels[start:start + step], model)
        for i, name in enumerate(config.methods):
            progress.step(start + step * i / len(config.methods), n, f"{name} {start}/{n}")
            attr, delta = attribute(name, net, images, target, layer, config)
            maps[name].append(attr.detach().float().cpu().numpy())
            if delta is not None:
                deltas.append(delta.detach().cpu().numpy())
        targets.append(target.cpu().numpy())
        predictions.append(predicted.cpu().numpy())
    return BaselineResult(
        config, inputs.layers[0], data.images, {k: np.concatenate(v) for k, v in maps.items()},
        np.concatenate(targets), np.concatenate(predictions), data.labels,
        model.class_names or data.class_names, list(data.names),
        np.concatenate(deltas) if deltas else None, data.foreground)


def _check(config: BaselineConfig) -> None:
    unknown = [m for m in config.methods if m not in BASELINES]
    if unknown or not config.methods:
        raise BadInput(f"unknown baseline {', '.join(unknown) or '(none given)'}; valid: {choices(BASELINES)}")


def _targets(rule: str, predicted: torch.Tensor, labels: np.ndarray, model) -> torch.Tensor:
    if rule == "predicted":
        return predicted
    if rule == "label":
        if (labels < 0).any():
            raise BadInput("target=label, but some samples have no label")
        return torch.as_tensor(labels, device=predicted.device)
    if rule.isdigit():
        return torch.full_like(predicted, int(rule))
    raise BadInput(f"target={rule!r}; valid: predicted, label, or a class index")
