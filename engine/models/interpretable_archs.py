"""The architectures of issue 5 §1 as the registry builds them from model.json.

`partworld-icnn`: `InterpretablePartWorldCNN` with its `InterpretableConfig` saved in
arch_args["config"], so `dir:` and `demo:` loading rebuild its masks exactly.
`partworld-cnn6`, its ordinary twin (spec: interpretable-cnn §2.2): conv1..conv5 as `PartWorldCNN`, then the new 3×3 conv with
bias and ReLU (conv6) and the head (`head`: the base's GAP + linear, or an FC stack),
exactly as `InterpretablePartWorldCNN`
without its two masked layers and filter loss, so the two train the same way and compare
layer for layer (§2.9 "ordinary → interpretable"). Built in the same order from the same
seed, its conv6 and fc start with the interpretable model's weights.
`torchvision-icnn` and its twin `torchvision-cnn`: the same change on a torchvision VGG or
AlexNet (`interpretable_torchvision`), its base named in arch_args["base_arch"].
"""
from __future__ import annotations

from torch import nn

from engine import settings
from engine.models.interpretable import ARCH as ICNN_ARCH
from engine.models.interpretable import InterpretableConfig, InterpretablePartWorldCNN
from engine.models import interpretable_torchvision as tv
from engine.models.partworld_cnn import DEFAULT_WIDTHS, adopt_six_layers

TWIN_ARCH = "partworld-cnn6"
PARTWORLD_ARCHS = (ICNN_ARCH, TWIN_ARCH)
TORCHVISION_ARCHS = (tv.ICNN_ARCH, tv.TWIN_ARCH)
ARCHS = (*PARTWORLD_ARCHS, *TORCHVISION_ARCHS)


class PartWorldCNN6(nn.Module):
    """PartWorldCNN with a sixth conv layer (3×3, bias, ReLU, 12×12 maps) before the head."""

    layer_names = ("conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "fc")
    default_layer = "conv6"

    def __init__(self, num_classes: int = 5, widths: tuple = DEFAULT_WIDTHS, new_filters: int = 0,
                 head: str = "paper") -> None:
        super().__init__()
        adopt_six_layers(self, num_classes, widths, new_filters, head)

    def forward(self, x):
        x = self.pool1(self.conv1(x))
        x = self.pool2(self.conv2(x))
        x = self.pool3(self.conv3(x))
        x = self.conv6(self.conv5(self.conv4(x)))
        return self.fc(self.head_pool(x).flatten(1))


def build_twin(num_classes: int = 5, widths=DEFAULT_WIDTHS, new_filters: int = 0,
               head: str = "paper") -> PartWorldCNN6:
    return PartWorldCNN6(num_classes, tuple(widths), new_filters, head)


def build_icnn(num_classes: int = 5, widths=DEFAULT_WIDTHS, new_filters: int = 0, categories: int = 1,
               config: dict | None = None, head: str = "paper") -> InterpretablePartWorldCNN:
    """The interpretable model; `config` is `InterpretableConfig` as a dict (model.json)."""
    return InterpretablePartWorldCNN(num_classes, tuple(widths), new_filters, categories, _parsed(config),
                                     head)


def build_torchvision_icnn(base_arch: str = "vgg16", num_classes: int = 2, new_filters: int = 0,
                           categories: int = 1, config: dict | None = None,
                           head: str = "paper") -> tv.TorchvisionICNN:
    return tv.TorchvisionICNN(base_arch, num_classes, new_filters, categories, _parsed(config), True, head)


def build_torchvision_twin(base_arch: str = "vgg16", num_classes: int = 2, new_filters: int = 0,
                           head: str = "paper") -> tv.TorchvisionICNN:
    return tv.TorchvisionICNN(base_arch, num_classes, new_filters, interpretable=False, head=head)


def _parsed(config: dict | None) -> InterpretableConfig:
    return settings.from_dict(InterpretableConfig, config or {})


ARCHITECTURES = {ICNN_ARCH: build_icnn, TWIN_ARCH: build_twin,
                 tv.ICNN_ARCH: build_torchvision_icnn, tv.TWIN_ARCH: build_torchvision_twin}
