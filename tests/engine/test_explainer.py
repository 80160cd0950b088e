"""The explainer network (issue 9 §1; spec: concepts-bias-trees §6) on a planted answer, and its
bad input.

Planted: images whose three channels each hold one Gaussian blob (a part) at a random place, with
a random brightness. The performer's layer `mix` sums the parts two by two (six channels: a+b,
b+c, a+c, twice), so each of its filters peaks on whichever of two parts is brighter: unsteady
against any one landmark. Pure part detectors (the channels themselves) are what an explainer
should recover: their location instability is the floor.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from engine.data.types import ImageDataset
from engine.errors import BadInput
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.explainer.api import below_default, compute
from engine.methods.explainer.config import ExplainerConfig
from engine.methods.explanatory_graph._metrics import filter_peaks, nanmean
from engine.methods.explanatory_graph.layout import pixel_xy
from engine.methods.location_instability._maps import part_groups
from engine.methods.location_instability.api import measure
from engine.methods.location_instability.config import LocationInstabilityConfig
from engine.models import LoadedModel

SIDE, PARTS = 48, 3
PAIRS = [(0, 1), (1, 2), (0, 2)] * 2


def blobs(n: int = 120, seed: int = 0) -> ImageDataset:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(6, SIDE - 6, (n, PARTS, 2))
    brightness = rng.uniform(0.5, 1.0, (n, PARTS))
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    d2 = (xx - centres[..., 0, None, None]) ** 2 + (yy - centres[..., 1, None, None]) ** 2
    images = (brightness[..., None, None] * np.exp(-d2 / (2 * 2.5 ** 2))).astype(np.float32)
    return ImageDataset(images, brightness.argmax(1), list("abc"), "test:blobs", [f"blob/{k}" for k in "abc"],
                        centres.astype(np.float32), names=[f"blobs-{i}" for i in range(n)])


class Mixed(nn.Module):
    """`mix`: the parts summed two by two (fixed); `top`: a random 3×3 conv (L′); `fc`: GAP + linear."""

    layer_names = ("mix", "top", "fc")
    default_layer = "top"

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.mix = nn.Sequential(nn.Conv2d(PARTS, len(PAIRS), 1, bias=False), nn.ReLU())
        weight = torch.zeros(len(PAIRS), PARTS)
        for c, pair in enumerate(PAIRS):
            weight[c, list(pair)] = 1.0
        self.mix[0].weight.data.copy_(weight[:, :, None, None])
        self.top = nn.Sequential(nn.Conv2d(len(PAIRS), len(PAIRS), 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(len(PAIRS), PARTS)

    def forward(self, x):
        return self.fc(self.top(self.mix(x)).mean((2, 3)))


def performer() -> LoadedModel:
    return LoadedModel(Mixed().eval(), "test:mixed", "test", list("abc"), (SIDE, SIDE))


def pure_detectors_instability(data: ImageDataset) -> float:
    """The floor: §2.8 on the part channels themselves (each peaks on its own blob)."""
    where, peak = filter_peaks(data.images)
    table = measure(pixel_xy(where, 0.0, 1.0), peak, data.landmarks, part_groups(data.part_names),
                    LocationInstabilityConfig(crop="none"), float(np.hypot(SIDE, SIDE)))
    return float(nanmean(table.instability))


@pytest.fixture(scope="module")
def explained(one_torch_thread):
    data = blobs()
    return data, compute(MethodInputs(performer(), data, ["mix"], 0), ExplainerConfig(crop="none"), Progress())


@pytest.mark.slow  # about 15 s on one thread
def test_the_explainer_unmixes_the_parts_its_filters_as_steady_as_pure_detectors(explained):
    """Measured (seed 0, defaults): explainer 0.088 (4 of its 6 filters fire), pure detectors 0.086,
    the mixed filters 0.153."""
    data, result = explained
    m, floor = result.metrics(), pure_detectors_instability(data)
    assert m["instability_performer"] > 1.5 * floor            # the mixture wanders between two parts
    assert m["instability_explainer"] < 0.7 * m["instability_performer"]
    assert m["instability_explainer"] < 1.1 * floor
    assert m["reconstruction_error"] < 0.5 and 0.0 < m["explained_share"] < 1.0
    assert result.target_layer == "top" and result.view.layers == ["performer.mix", "explainer.masked"]
    assert 1 <= m["live_filters_explainer"] <= len(PAIRS)


def test_without_layers_it_explains_the_layer_below_the_default():
    assert below_default(Mixed()) == ["mix"]


@pytest.mark.parametrize("layers, settings, message", [
    (["mix", "top"], {}, "explainer explains one conv layer; --layers names 2: mix, top"),
    (["top"], {}, "layer fc gives (3,), not maps"),
    (["mix"], {"target_layer": "mix"}, "target_layer=mix must come after mix; valid: top, fc"),
    (["mix"], {"epochs": 0}, "epochs, batch_size and samples_kept must be at least 1"),
    (["mix"], {"share_weight": -1.0}, "share_weight, output_weight and kappa_mag must not be negative"),
])
def test_bad_input_says_what_is_wrong(layers, settings, message):
    config = ExplainerConfig(crop="none", **settings)
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        compute(MethodInputs(performer(), blobs(8), layers, 0), config, Progress())


def test_data_without_landmarks_is_refused():
    data = blobs(8)
    data.landmarks = None
    with pytest.raises(BadInput, match="has no part landmarks"):
        compute(MethodInputs(performer(), data, ["mix"], 0), ExplainerConfig(crop="none"), Progress())
