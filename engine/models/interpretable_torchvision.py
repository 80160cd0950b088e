"""Interpretable filters on torchvision's VGG and AlexNet (issue 5 §1; spec: interpretable-cnn §2.2).

As the authors' `vgg_vd_16.m` builds it: the base's conv stack up to its top conv and ReLU,
that layer's filters masked (`top_masked`), a new 3×3 conv with bias and ReLU (`new_conv`),
the base's last pooling (VGG's 2×2, AlexNet's 3×3/2) as `new_pool`, the pooled maps masked
(`new_masked`, where filter interpretability is evaluated), then the head. The head is the
base's own (adaptive pooling + its FC stack, re-initialised, §2.2) with `head="paper"`, or
[ours] global average pooling + one linear layer with `head="gap"`, for small data on a CPU.
`interpretable=False` builds the ordinary twin: the same layers without the two masks.

The model normalises its input with ImageNet's statistics itself (the base was trained so),
so it reads the [0, 1] images every other DeepScope model reads.
"""
from __future__ import annotations

import torch
from torch import nn

from engine.errors import BadInput, choices
from engine.models.interpretable import InterpretableConfig, InterpretableConv, MaskedLayers

ICNN_ARCH, TWIN_ARCH = "torchvision-icnn", "torchvision-cnn"
BASES = ("alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn")
HEADS = ("paper", "gap")
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def base_network(arch: str, num_classes: int = 1000) -> nn.Module:
    """An untrained torchvision base (nothing downloaded); BadInput for what we cannot extend."""
    if arch not in BASES:
        raise BadInput(f"interpretable layers attach to torchvision {choices(BASES)}, not {arch!r}")
    import torchvision  # noqa: PLC0415 (slow import, only when asked for)

    return torchvision.models.get_model(arch, weights=None, num_classes=num_classes)


def top_conv_end(features: nn.Sequential) -> int:
    """Index just past the top conv layer's ReLU in a VGG/AlexNet `features` stack."""
    convs = [i for i, m in enumerate(features) if isinstance(m, nn.Conv2d)]
    if not convs:
        raise BadInput("the base network has no conv layer to attach the interpretable layer to")
    relus = [i for i, m in enumerate(features) if isinstance(m, nn.ReLU) and i > convs[-1]]
    if not relus:
        raise BadInput("the base network's top conv layer has no ReLU after it")
    return relus[0] + 1


class TorchvisionICNN(MaskedLayers, nn.Module):
    """A VGG/AlexNet with the interpretable layers of §2.2 (or without: the ordinary twin)."""

    def __init__(self, base_arch: str = "vgg16", num_classes: int = 2, new_filters: int = 0,
                 categories: int = 1, config: InterpretableConfig = InterpretableConfig(),
                 interpretable: bool = True, head: str = "paper") -> None:
        super().__init__()
        if head not in HEADS:
            raise BadInput(f"head {head!r}; valid: {choices(HEADS)}")
        base = base_network(base_arch, num_classes)
        end = top_conv_end(base.features)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.features = base.features[:end]
        top = [m for m in self.features if isinstance(m, nn.Conv2d)][-1].out_channels
        new = new_filters or top
        if interpretable:
            self.top_masked = InterpretableConv(top, categories, config)
        self.new_conv = nn.Sequential(nn.Conv2d(top, new, 3, padding=1, bias=True), nn.ReLU(inplace=False))
        self.new_pool = base.features[end]  # the pool the base had after its top conv
        if interpretable:
            self.new_masked = InterpretableConv(new, categories, config)
        self.pool, self.classifier = _head(base, new, num_classes, head)
        self.interpretable_layers = ("top_masked", "new_masked") if interpretable else ()
        convs = [f"features.{i}" for i, m in enumerate(self.features) if isinstance(m, nn.Conv2d)]
        self.layer_names = (*convs, *self.interpretable_layers[:1], "new_conv", "new_pool",
                            *self.interpretable_layers[1:])
        self.default_layer = "new_masked" if interpretable else "new_pool"  # §2.2: evaluated there

    def forward(self, x):
        x = self.features((x - self.mean) / self.std)
        if self.interpretable_layers:
            x = self.top_masked(x)
        x = self.new_pool(self.new_conv(x))
        if self.interpretable_layers:
            x = self.new_masked(x)
        return self.classifier(self.pool(x).flatten(1))


def _head(base: nn.Module, channels: int, num_classes: int, head: str) -> tuple[nn.Module, nn.Module]:
    """(pooling, classifier): the base's FC stack fresh, its first layer sized to `channels`
    maps ("paper"), or global average pooling and one linear layer ("gap")."""
    if head == "gap":
        return nn.AdaptiveAvgPool2d(1), nn.Linear(channels, num_classes)
    classifier = base.classifier
    first = next(i for i, m in enumerate(classifier) if isinstance(m, nn.Linear))
    area = _area(base.avgpool.output_size)
    classifier[first] = nn.Linear(channels * area, classifier[first].out_features)
    return base.avgpool, classifier


def _area(size) -> int:
    rows, cols = (size, size) if isinstance(size, int) else size
    return rows * cols


def copy_base_features(model: TorchvisionICNN, base: nn.Module) -> None:
    """The base's trained conv stack up to its top conv (§2.2: pretrained convs); the new
    conv and the head stay fresh."""
    kept = base.features[:len(model.features)].state_dict()
    model.features.load_state_dict(kept)

