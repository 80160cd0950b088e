"""Interpretable layers on torchvision VGG and AlexNet (issue 5 §1; spec interpretable-cnn §2.2).

Untrained bases (nothing is downloaded) with a few filters in the new conv so the FC
stacks stay small; one tiny training run from a base weights file the test writes.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from safetensors.torch import save_file
from torch import nn

from engine.errors import BadInput
from engine.jobs import Progress
from engine.layers import forward_to
from engine.models import build_arch, interpretable_training, load_model
from engine.models.interpretable import InterpretableConv
from engine.models.interpretable_torchvision import IMAGENET_MEAN, IMAGENET_STD, top_conv_end
from engine.models.training import TrainConfig, train
from engine.receptive_field import unit_grid


def test_vgg_gets_the_papers_layers_after_its_top_conv_and_keeps_its_fc_stack():
    model = build_arch("torchvision-icnn", base_arch="vgg11", num_classes=3, new_filters=8, categories=3)
    assert model.layer_names[-4:] == ("top_masked", "new_conv", "new_pool", "new_masked")
    assert model.default_layer == "new_masked"
    assert isinstance(model.features[-1], nn.ReLU) and isinstance(model.features[-2], nn.Conv2d)
    assert isinstance(model.new_pool, nn.MaxPool2d) and model.new_pool.kernel_size == 2
    assert [m.categories for m in model.masked_layers()] == [3, 3]
    linears = [m for m in model.classifier if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(8 * 7 * 7, 4096), (4096, 4096), (4096, 3)]
    assert model.eval()(torch.rand(2, 3, 64, 64)).shape == (2, 3)


def test_alexnet_pools_the_new_maps_with_its_own_3x3_pool_and_the_twin_has_no_masks():
    twin = build_arch("torchvision-cnn", base_arch="alexnet", num_classes=2, new_filters=4, head="gap")
    assert twin.masked_layers() == [] and twin.default_layer == "new_pool"
    assert not any(isinstance(m, InterpretableConv) for m in twin.modules())
    assert (twin.new_pool.kernel_size, twin.new_pool.stride) == (3, 2)
    assert twin.classifier.in_features == 4
    assert twin.eval()(torch.rand(1, 3, 96, 96)).shape == (1, 2)


def test_the_masked_layer_reads_the_top_conv_after_relu_of_normalised_input():
    torch.manual_seed(0)
    model = build_arch("torchvision-icnn", base_arch="alexnet", num_classes=2, new_filters=4).eval()
    x = torch.rand(2, 3, 96, 96)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (IMAGENET_MEAN, IMAGENET_STD))
    with torch.no_grad():
        expected = model.features((x - mean) / std)
        seen = model.top_masked.masked(expected)
        store = forward_to(model, x, ["top_masked"])
    assert (expected >= 0).all()
    assert torch.allclose(store["top_masked"], seen.output)


def test_receptive_field_of_the_new_masked_layer_walks_the_whole_stack():
    model = build_arch("torchvision-icnn", base_arch="vgg11", num_classes=2, new_filters=4, head="gap")
    grid = unit_grid(model.eval(), "new_masked", 64)
    assert grid.walked and grid.stride == 32  # four VGG pools before the top conv, then new_pool


def test_top_conv_end_refuses_a_stack_without_conv():
    with pytest.raises(BadInput, match="no conv layer"):
        top_conv_end(nn.Sequential(nn.ReLU(), nn.MaxPool2d(2)))


def base_file(tmp_path, arch: str = "alexnet") -> str:
    torch.manual_seed(1)
    path = tmp_path / f"{arch}.safetensors"
    save_file({k: v.contiguous() for k, v in torchvision.models.get_model(arch, num_classes=5).state_dict().items()},
              str(path))
    return str(path)


def tiny(weights: str, **changes) -> TrainConfig:
    quick = dict(epochs=1, batch_size=8, min_category_images=1, val_data="demo:partworld?n=6&seed=1",
                 base_model="torchvision:alexnet", base_weights=weights, head="gap", new_filters=8)
    return TrainConfig(**{**quick, **changes})


def test_tiny_training_starts_from_the_base_features_and_reloads(tmp_path):
    weights = base_file(tmp_path)
    description = train("torchvision-icnn", "demo:partworld?n=16&seed=0", str(tmp_path / "m"),
                        tiny(weights), Progress())
    assert description["arch_args"]["base_arch"] == "alexnet" and description["arch_args"]["head"] == "gap"
    assert description["training"]["epochs"][0]["kappa/new_masked"] > 0
    loaded = load_model(f"dir:{tmp_path / 'm'}")
    assert loaded.layers[-1] == "new_masked" and [m.categories for m in loaded.module.masked_layers()] == [5, 5]
    base = load_model("torchvision:alexnet", weights).module
    # the first conv is frozen by nothing: it moved, but it started at the base's (one epoch, small lr)
    first, trained_first = base.features[0].weight, loaded.module.features[0].weight
    assert first.shape == trained_first.shape
    assert torch.allclose(first, trained_first, atol=0.05)
    assert np.isfinite(description["training"]["val_accuracy"])


def test_torchvision_pair_needs_a_torchvision_base_and_weights_only_fit_it(tmp_path):
    with pytest.raises(BadInput, match=r"set base_model=torchvision:ARCH .* and base_weights=FILE"):
        train("torchvision-icnn", "demo:partworld?n=10", str(tmp_path / "m"),
              tiny("", base_model="demo:partworld-cnn"), Progress())
    with pytest.raises(BadInput, match=r"torchvision:alexnet needs --weights FILE"):
        train("torchvision-icnn", "demo:partworld?n=10", str(tmp_path / "m"), tiny(""), Progress())
    with pytest.raises(BadInput, match="base_weights applies to torchvision-icnn, torchvision-cnn only"):
        interpretable_training.check_settings("partworld-icnn", TrainConfig(base_weights="x.pt"))
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("arch, says", [("resnet18", "residual architecture"),
                                        ("squeezenet1_0", "is not a torchvision VGG or AlexNet")])
def test_bases_the_torchvision_pair_cannot_sit_on(arch, says):
    module = torchvision.models.get_model(arch, num_classes=2)
    with pytest.raises(BadInput, match=says):
        interpretable_training.check_base(module, f"torchvision:{arch}", "torchvision-icnn")
