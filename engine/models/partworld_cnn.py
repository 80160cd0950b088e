"""The demo CNN for PartWorld: a VGG-style stack with one named block a layer.

conv1..conv5 are `Sequential(conv3x3, BatchNorm, ReLU)`; three 2×2 max-pools bring a
96×96 image to 12×12 at conv4 and conv5 so part positions can be read from their maps
(issue 2 §4). Receptive-field centres are the conv4/conv5 pixel centres × 8 + 3.5.
"""
from __future__ import annotations

from torch import nn

from engine.errors import BadInput, choices

ARCH = "partworld-cnn"
# the same network with one logit per binary attribute, trained with binary cross-entropy on
# the faces family's attributes (issue 8; spec concepts-bias-trees §5.2 "multi-attribute CNN")
ATTRIBUTES_ARCH = "partworld-attributes"
DEFAULT_WIDTHS = (16, 32, 64, 64, 64)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=False))


class PartWorldCNN(nn.Module):
    """Five conv blocks, pools after conv1..conv3, global average pooling, one linear head."""

    layer_names = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc")
    default_layer = "conv5"

    def __init__(self, num_classes: int = 5, widths: tuple = DEFAULT_WIDTHS) -> None:
        super().__init__()
        w1, w2, w3, w4, w5 = widths
        self.conv1, self.pool1 = _block(3, w1), nn.MaxPool2d(2)
        self.conv2, self.pool2 = _block(w1, w2), nn.MaxPool2d(2)
        self.conv3, self.pool3 = _block(w2, w3), nn.MaxPool2d(2)
        self.conv4 = _block(w3, w4)
        self.conv5 = _block(w4, w5)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(w5, num_classes)

    def forward(self, x):
        x = self.pool1(self.conv1(x))
        x = self.pool2(self.conv2(x))
        x = self.pool3(self.conv3(x))
        x = self.conv5(self.conv4(x))
        return self.fc(self.gap(x).flatten(1))


BLOCKS = ("conv1", "pool1", "conv2", "pool2", "conv3", "pool3", "conv4", "conv5")


def adopt_blocks(target: nn.Module, num_classes: int, widths) -> None:
    """Give `target` a fresh PartWorldCNN's conv1…conv5 and pools under the same names (the
    six-layer variants build on them, in this construction order, so seeds match)."""
    base = PartWorldCNN(num_classes=num_classes, widths=tuple(widths))
    for name in BLOCKS:
        setattr(target, name, getattr(base, name))


# heads of the six-layer variants: "paper" and "gap" keep the base's own (GAP + one linear
# layer, §2.2 "the original FC layers"); "fc" [ours] is a small piecewise-linear FC stack
# like VGG's fc6-fc8, so that ∂ŷ/∂x differs from image to image (concepts-bias-trees §4.2)
SIX_LAYER_HEADS = ("paper", "gap", "fc")
FC_POOLED, FC_HIDDEN = 6, 128  # "fc": the 12×12 maps max-pooled to 6×6, then 128 hidden units


def adopt_six_layers(target: nn.Module, num_classes: int, widths, new_filters: int = 0,
                     head: str = "paper") -> tuple[int, int]:
    """conv1…conv5 as `adopt_blocks`, then conv6 (3×3, bias, ReLU, maps as conv5's), the
    head's pooling (`head_pool`) and the head (`fc`); returns (conv5's, conv6's) widths."""
    if head not in SIX_LAYER_HEADS:
        raise BadInput(f"head {head!r}; valid: {choices(SIX_LAYER_HEADS)}")
    adopt_blocks(target, num_classes, widths)
    top, new = widths[-1], new_filters or widths[-1]
    target.conv6 = nn.Sequential(nn.Conv2d(top, new, 3, padding=1, bias=True), nn.ReLU(inplace=False))
    if head == "fc":
        target.head_pool = nn.AdaptiveMaxPool2d(FC_POOLED)
        target.fc = nn.Sequential(nn.Linear(new * FC_POOLED ** 2, FC_HIDDEN), nn.ReLU(inplace=False),
                                  nn.Linear(FC_HIDDEN, num_classes))
    else:
        target.head_pool = nn.AdaptiveAvgPool2d(1)
        target.fc = nn.Linear(new, num_classes)
    return top, new


def build(num_classes: int = 5, widths=DEFAULT_WIDTHS) -> PartWorldCNN:
    return PartWorldCNN(num_classes=num_classes, widths=tuple(widths))
