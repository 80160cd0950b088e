"""`explainer`: an explainer network learns, without labels, to disentangle a performer's layer
into part features and to rebuild a higher layer from them (spec: concepts-bias-trees §6).

The performer stays frozen; its features at the explained layer L and at L′ are cached once.
After training on all but the last `held_out` share of the images: the interpretable track's
mean weight p (explained_share), the held-out relative reconstruction error at L′, the
performer's held-out accuracy when L′ reads the reconstruction, and the location instability
(interpretable-cnn §2.8, `location-instability`'s own measure and protocol) of the explainer's
interpretable filters against the performer's filters at L, on every image. The result carries
an `activations` record of both layers for the activation-maps view.
"""
from __future__ import annotations

import numpy as np
import torch

from engine.errors import BadInput
from engine.jobs import Progress
from engine.layers import layer_names
from engine.methods.activations.api import compute as activations
from engine.methods.activations.config import ActivationsConfig
from engine.methods.base import MethodInputs
from engine.methods.consistency.api import split_indices
from engine.methods.explainer._network import ExplainedPerformer, Explainer
from engine.methods.explainer._train import Cached, cache, train
from engine.methods.explainer.config import ExplainerConfig
from engine.methods.explainer.result import ExplainerResult
from engine.methods.explanatory_graph.api import analysed
from engine.methods.location_instability._maps import part_groups, require
from engine.methods.location_instability.api import filter_units, measure
from engine.methods.location_instability.config import LocationInstabilityConfig
from engine.models import LoadedModel
from engine.models.interpretable import InterpretableConfig


def compute(inputs: MethodInputs, config: ExplainerConfig, progress: Progress) -> ExplainerResult:
    model, data = inputs.model, inputs.data
    check(inputs, config)
    require(data, "landmarks")
    layer = inputs.layers[0]
    target = target_layer(model, layer, config.target_layer)
    train_rows, held_rows = split_indices(len(data.images), config.held_out)
    cached = cache(model, data.images, layer, target, config.batch_size, progress.child(0.0, 0.1))
    check_maps(cached, layer, target)
    torch.manual_seed(inputs.seed)
    explainer = build(cached, config)
    curve = train(explainer, model, cached, data.images, train_rows, target, config, inputs.seed,
                  progress.child(0.1, 0.75))
    composite = LoadedModel(ExplainedPerformer(model.module, explainer, layer, target), f"{model.spec} explained",
                            "explainer", list(model.class_names), model.input_size, model.normalize)
    share, error = reconstruction(explainer, cached, config.batch_size)
    instability = instabilities(composite, data, config, progress.child(0.75, 0.85))
    view = activations(MethodInputs(composite, data, list(composite.module.layer_names), inputs.seed),
                       ActivationsConfig(samples_kept=config.samples_kept, batch_size=config.batch_size),
                       progress.child(0.85, 1.0))
    # the performer's own predictions are the cached logits', the rebuilt ones the view's (its forward)
    accuracies = (held_accuracy(cached.logits.argmax(1).numpy(), data.labels, held_rows),
                  held_accuracy(view.predictions, data.labels, held_rows))
    progress.step(1.0, 1.0, "explainer trained")
    is_held = np.zeros(len(data.images), bool)
    is_held[held_rows] = True
    return ExplainerResult(config, layer, target, view, share, is_held, error, curve, *instability, *accuracies)


def held_accuracy(predictions: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> float:
    """Share of the labelled images among `rows` predicted right (NaN without labels)."""
    known = rows[labels[rows] >= 0]
    return float((predictions[known] == labels[known]).mean()) if len(known) else float("nan")


def check(inputs: MethodInputs, config: ExplainerConfig) -> None:
    if len(inputs.layers) != 1:
        raise BadInput(f"explainer explains one conv layer; --layers names {len(inputs.layers)}: "
                       f"{', '.join(inputs.layers)}")
    if min(config.epochs, config.batch_size, config.samples_kept) < 1 or config.filters < 0 or config.images < 2:
        raise BadInput("epochs, batch_size and samples_kept must be at least 1, filters at least 0 and "
                       "images at least 2")
    if min(config.share_weight, config.output_weight, config.kappa_mag) < 0:
        raise BadInput("share_weight, output_weight and kappa_mag must not be negative")


def below_default(module) -> list[str]:
    """Without --layers: the layer just below the model's default (last spatial) layer, so that the
    default one is there to rebuild (conv4 of the demo CNN, its conv5 rebuilt)."""
    layers = layer_names(module)
    default = getattr(module, "default_layer", None) or layers[-1]
    return [layers[max(layers.index(default) - 1, 0)]] if default in layers else []


def target_layer(model, layer: str, asked: str) -> str:
    """L′: the layer asked for, or the one after L among the model's layers."""
    layers = model.layers
    if layer not in layers:
        raise BadInput(f"explainer explains one of the model's layers ({', '.join(layers)}), not {layer}")
    later = layers[layers.index(layer) + 1:]
    if asked and asked not in later:
        raise BadInput(f"target_layer={asked} must come after {layer}; valid: {', '.join(later) or '(none)'}")
    if not later:
        raise BadInput(f"{layer} is the model's last layer: there is no higher layer to reconstruct")
    return asked or later[0]


def check_maps(cached: Cached, layer: str, target: str) -> None:
    for name, value in ((layer, cached.features), (target, cached.target)):
        if value.dim() != 4:
            raise BadInput(f"layer {name} gives {tuple(value.shape[1:])}, not maps: the explainer reads and "
                           "rebuilds conv features (give conv layers, e.g. --layers conv4)")


def build(cached: Cached, config: ExplainerConfig) -> Explainer:
    channels, target = cached.features.shape[1], cached.target
    icnn = InterpretableConfig(kappa_mag=config.kappa_mag)
    return Explainer(channels, config.filters or channels, target.shape[1], tuple(target.shape[2:]),
                     bool((target >= 0).all()), icnn)


@torch.no_grad()
def reconstruction(explainer: Explainer, cached: Cached, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(p, ‖f̂ − f‖² / ‖f‖² at L′) per image."""
    shares, errors = [], []
    for start in range(0, len(cached.features), batch_size):
        predicted, p = explainer.mixed(cached.features[start:start + batch_size])
        truth = cached.target[start:start + batch_size]
        shares.append(p)
        errors.append(((predicted - truth) ** 2).sum((1, 2, 3)) / (truth ** 2).sum((1, 2, 3)).clamp_min(1e-12))
    return torch.cat(shares).numpy(), torch.cat(errors).numpy()


def instabilities(composite: LoadedModel, data, config: ExplainerConfig, progress: Progress):
    """(explainer's, performer's) instability per filter: §2.8 on the same images, its default protocol."""
    images = analysed(data, config.crop)
    measured = LocationInstabilityConfig(crop=config.crop, images=config.images, class_name=config.class_name)
    layers = list(composite.module.layer_names)
    units = filter_units(composite, images.images, layers, config.batch_size, progress)
    diagonal = float(np.hypot(*images.images.shape[-2:]))
    groups = part_groups(images.part_names, config.class_name)
    found = {name: measure(xy, scores, images.landmarks, groups, measured, diagonal)
             for name, (xy, scores) in units.items()}
    return found[layers[1]].instability, found[layers[0]].instability
