"""Training the interpretable PartWorld CNN and its ordinary twin (issue 5 §1).

spec: interpretable-cnn §2.2, §2.5-2.6. Both start from a trained PartWorld CNN's
conv1-conv5 (`base_model`; empty: from scratch) with a fresh conv6 and head, and train on
the same rows in the same order; the interpretable one adds its filter loss to the
classification loss after each training forward. Single-category training (`category`)
is the spec's recipe: that class's images and their horizontal flips, replicated so that
they make 3/4 of each epoch, against all other images; a two-way softmax, which is the
logistic loss on the logit difference (§2.6 "Loss: logistic").
`training._train` calls `prepare` and runs the generic loop with what it returns.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import torch
from torch import nn

from engine.errors import BadInput, choices
from engine.models import interpretable_torchvision as tv
from engine.models.interpretable import (ARCH as ICNN_ARCH, InterpretableConfig, MaskedLayers,
                                         category_targets, kappa)
from engine.models.interpretable_archs import ARCHITECTURES, ARCHS, TORCHVISION_ARCHS
from engine.models.partworld_cnn import DEFAULT_WIDTHS, PartWorldCNN
from engine.settings import to_dict

# a residual block's class name (torchvision's ResNet/ResNeXt, MobileNet, DenseNet's concatenation)
_RESIDUAL = ("BasicBlock", "Bottleneck", "InvertedResidual", "_DenseBlock", "ResidualBlock")
_BASE_CONVS = tuple(f"conv{i}." for i in range(1, 6))
INTERPRETABLE = (ICNN_ARCH, tv.ICNN_ARCH)  # the architectures with masked layers and a filter loss


@dataclass
class Plan:
    """What the generic trainer needs for one of `ARCHS`: the model, its arch_args, the
    rows of an epoch, the extra loss, and the record for model.json's "training"."""

    model: nn.Module
    arch_args: dict
    dataset: object
    rows: np.ndarray
    extra_loss: object | None
    record: dict = field(default_factory=dict)


def prepare(arch: str, dataset, config, progress) -> Plan:
    """The model (from `config.base_model` or fresh), the (single-category) data, the loss."""
    category = category_index(config.category, dataset.class_names)
    if category is None:
        _check_counts(dataset, range(len(dataset.class_names)), config.min_category_images)
        data, rows = dataset, np.arange(len(dataset))
    else:
        _check_counts(dataset, [category], config.min_category_images)
        data, rows = single_category(dataset, category, config.positive_share)
    base = load_base(arch, config, progress)
    arch_args = {"num_classes": len(data.class_names), "new_filters": config.new_filters,
                 **_base_args(arch, base, config)}
    if arch in INTERPRETABLE:
        icnn = replace(InterpretableConfig(), mu=config.mu, normaliser=config.normaliser,
                       kappa_mag=config.kappa_mag)
        arch_args.update(categories=1 if category is not None else len(data.class_names),
                         config=to_dict(icnn))
    model = ARCHITECTURES[arch](**arch_args)
    if base is not None:
        copy_base(model, base)
    record = {"category": config.category or "all", "base_model": config.base_model or "none"}
    return Plan(model, arch_args, data, rows, _extra_loss(model, data, rows), record)


def _base_args(arch: str, base: nn.Module | None, config) -> dict:
    """What the architecture takes from its base: PartWorld widths, or torchvision's arch and head."""
    if arch in TORCHVISION_ARCHS:
        return {"base_arch": config.base_model.partition(":")[2], "head": config.head}
    return {"widths": list(_widths(base) if base is not None else DEFAULT_WIDTHS), "head": config.head}


def _extra_loss(model: nn.Module, data, rows: np.ndarray):
    """The filter loss of §2.4's total loss, with the category densities set once (§2.5 step 3)."""
    if not isinstance(model, MaskedLayers) or not model.masked_layers():
        return None
    categories = model.masked_layers()[0].categories
    ids = (1,) if categories == 1 else tuple(range(categories))  # single: label 1 is the category
    targets = category_targets(torch.from_numpy(data.labels[rows]), ids)
    for layer in model.masked_layers():
        layer.set_density(targets.double().mean(0))
    return partial(_filter_loss, ids=ids)


def _filter_loss(model: MaskedLayers, labels: torch.Tensor, epoch: int, ids) -> torch.Tensor:
    """After a training forward: Σ of the masked layers' filter losses; β and table A update."""
    return model.filter_loss(category_targets(labels, ids), epoch)


def category_index(name: str, class_names: list[str]) -> int | None:
    if not name:
        return None
    if name not in class_names:
        raise BadInput(f"unknown category {name!r}; valid: {choices(class_names)}")
    return class_names.index(name)


def _check_counts(dataset, categories, minimum: int) -> None:
    """Each trained category needs `minimum` images, or its filters learn from noise (issue 5 §5)."""
    counts = np.bincount(dataset.labels, minlength=len(dataset.class_names))
    for k in categories:
        if counts[k] < minimum:
            raise BadInput(f"category {dataset.class_names[k]!r} has {counts[k]} training images in "
                           f"{dataset.spec or 'the data'}; interpretable training needs at least "
                           f"{minimum} (min_category_images)")


def single_category(dataset, category: int, share: float):
    """(data, rows): labels 1 for `category` (its images and their horizontal flips) and 0
    for the rest; `rows` repeats the positives so they make `share` of an epoch (§2.6)."""
    positive = dataset.labels == category
    images = np.concatenate([dataset.images, dataset.images[positive][..., ::-1]])
    labels = np.concatenate([positive, np.ones(int(positive.sum()), bool)]).astype(np.int64)
    name = dataset.class_names[category]
    data = replace(dataset, images=np.ascontiguousarray(images), labels=labels,
                   class_names=[f"not-{name}", name], part_names=[], landmarks=None,
                   part_masks=None, foreground=None, attributes=None, attribute_names=[], names=[])
    return data, replicated_rows(labels, share)


def replicated_rows(labels: np.ndarray, share: float) -> np.ndarray:
    """Every negative once, the positives cycled until they are `share` of the rows."""
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    wanted = max(len(positives), round(share / (1 - share) * len(negatives)))
    return np.concatenate([negatives, np.resize(positives, wanted)])


def load_base(arch: str, config, progress) -> nn.Module | None:
    """The trained CNN whose conv layers the new model starts from, checked (issue 5 §5);
    None for a PartWorld model trained from scratch (`base_model` empty)."""
    from engine.models import load_model  # noqa: PLC0415 (engine.models imports this package's archs)

    spec = config.base_model
    if arch in TORCHVISION_ARCHS and not spec.startswith("torchvision:"):
        raise BadInput(f"{arch} starts from a torchvision base: set base_model=torchvision:ARCH "
                       f"({choices(tv.BASES)}) and base_weights=FILE (nothing is downloaded)")
    if not spec:
        return None
    progress.check()
    loaded = load_model(spec, config.base_weights or None)
    check_base(loaded.module, spec, arch)
    return loaded.module


def check_base(module: nn.Module, spec: str, arch: str = ICNN_ARCH) -> None:
    """BadInput unless `module` is a plain conv stack of the kind `arch` sits on."""
    kinds = {getattr(m, "original_name", type(m).__name__) for m in module.modules()}
    if "Conv2d" not in kinds:
        raise BadInput(f"base model {spec} has no conv layer to attach the interpretable layer to")
    if kinds & set(_RESIDUAL) or "resnet" in type(module).__name__.lower():
        raise BadInput(f"base model {spec} is a residual architecture: its skip connections would "
                       "bypass the masked layer, so its filters need not stay interpretable (the "
                       "paper avoids residual nets, spec §2.2); use a plain conv stack")
    if arch in TORCHVISION_ARCHS:
        if type(module).__name__ not in ("VGG", "AlexNet"):
            raise BadInput(f"base model {spec} is not a torchvision VGG or AlexNet; {arch} attaches "
                           f"to {choices(tv.BASES)}")
    elif not isinstance(module, PartWorldCNN):
        raise BadInput(f"base model {spec} is not a PartWorld CNN (conv1-conv5); {arch} attaches to "
                       "partworld-cnn models (torchvision VGG/AlexNet: torchvision-icnn)")


def _widths(base: PartWorldCNN) -> tuple[int, ...]:
    return tuple(getattr(base, f"conv{i}")[0].out_channels for i in range(1, 6))


def copy_base(model: nn.Module, base: nn.Module) -> None:
    """The base's trained conv layers; the new conv and the head stay fresh (§2.2)."""
    if isinstance(model, tv.TorchvisionICNN):
        tv.copy_base_features(model, base)
    else:
        copy_base_convs(model, base)


def copy_base_convs(model: nn.Module, base: PartWorldCNN) -> None:
    """conv1-conv5 (weights and BatchNorm statistics) from the base; conv6 and fc stay fresh
    (§2.2), as `InterpretablePartWorldCNN.from_base` does, for either architecture."""
    convs = {k: v for k, v in base.state_dict().items() if k.startswith(_BASE_CONVS)}
    missing, unexpected = model.load_state_dict(convs, strict=False)
    if unexpected or any(k.startswith(_BASE_CONVS) for k in missing):
        raise BadInput(f"the base model's conv1-conv5 do not fit {type(model).__name__}")


def check_settings(arch: str, config) -> None:
    """The interpretable settings mean nothing to other architectures: say so, do not ignore."""
    if arch not in ARCHS and (config.category or config.new_filters):
        raise BadInput(f"settings category and new_filters apply to {', '.join(ARCHS)} only, "
                       f"not {arch}")
    if arch not in TORCHVISION_ARCHS and config.base_weights:
        raise BadInput(f"setting base_weights applies to {', '.join(TORCHVISION_ARCHS)} only, not {arch}")


def kappa_of(layer, epoch: int) -> float:
    """κ of a masked layer in (1-based) epoch t (§2.5 step 4), for the per-epoch record."""
    return kappa(epoch, layer.config)


def finalise(model: nn.Module) -> None:
    """Before saving: the running normaliser's log Z, which the 'flipped' normaliser never
    sets (NaN = unset), becomes 0, since a loader rightly refuses weights holding NaN."""
    for layer in getattr(model, "masked_layers", list)():
        if layer.config.normaliser == "flipped":
            layer.running_log_z.zero_()
