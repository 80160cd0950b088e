"""Training the interpretable PartWorld CNN and its twin (issue 5 §1, §5): tiny runs only.

Tiny data (32-pixel images, a handful of them), one epoch, the 4-filter test CNN as the
base: what is checked is the plumbing (folder, reload, loss, cancel, bad input), not skill.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from engine.errors import BadInput
from engine.jobs import Cancelled, Progress
from engine.models import LoadedModel, build_arch, interpretable_training, load_model, training
from engine.models.interpretable import InterpretablePartWorldCNN
from engine.models.interpretable_archs import PartWorldCNN6, build_torchvision_icnn
from engine.models.interpretable_training import check_base, replicated_rows
from engine.models.training import TrainConfig, train
from engine_testkit import TINY_WIDTHS

DATA = "demo:partworld?n=10&seed=0&size=32"
VAL = "demo:partworld?n=5&seed=1&size=32"


def tiny_config(base: str, **changes) -> TrainConfig:
    quick = {"epochs": 1, "batch_size": 5, "min_category_images": 2, "val_data": VAL}
    return TrainConfig(base_model=base, **{**quick, **changes})


def trained(arch: str, out, base: str, monkeypatch, **changes):
    """(description, the trained module as it was saved)."""
    saved = {}
    real = training.save_model_dir

    def keep(module, description, folder):
        saved["module"] = module
        return real(module, description, folder)

    monkeypatch.setattr(training, "save_model_dir", keep)
    description = train(arch, DATA, str(out), tiny_config(base, **changes), Progress())
    return description, saved["module"]


@pytest.mark.parametrize("arch", ["partworld-icnn", "partworld-cnn6"])
def test_tiny_training_writes_a_folder_that_reloads_to_the_same_forward(arch, tmp_path, model_spec,
                                                                        monkeypatch):
    description, module = trained(arch, tmp_path / "m", model_spec, monkeypatch)
    loaded = load_model(f"dir:{tmp_path / 'm'}")
    assert type(loaded.module) is type(module) and loaded.arch == arch
    assert description["arch_args"]["widths"] == list(TINY_WIDTHS)  # taken from the base
    x = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded.module(x), module.eval()(x))
    assert loaded.layers[-2] in ("conv6", "conv6_masked")
    assert description["training"]["base_model"] == model_spec


def test_interpretable_model_records_its_config_epochs_and_finite_beta(tmp_path, model_spec, monkeypatch):
    description, _ = trained("partworld-icnn", tmp_path / "m", model_spec, monkeypatch,
                             mu="centroid", epochs=2)
    loaded = load_model(f"dir:{tmp_path / 'm'}").module
    for layer in loaded.masked_layers():
        assert layer.config.mu == "centroid" and layer.categories == 5
        assert torch.isfinite(layer.beta).all()
        assert ((layer.beta >= 1.5) & (layer.beta <= 3.0)).all()
        assert torch.isclose(layer.density.sum(), torch.tensor(1.0))  # set once, every class
    epochs = description["training"]["epochs"]
    assert [row["epoch"] for row in epochs] == [1, 2]
    assert epochs[1]["kappa/conv6_masked"] == pytest.approx(epochs[0]["kappa/conv6_masked"] / 2)
    assert all(np.isfinite(row["filter_loss"]) for row in epochs)


def test_twin_starts_as_the_interpretable_model_and_the_filter_loss_reaches_conv6():
    torch.manual_seed(3)
    icnn = build_arch("partworld-icnn", widths=TINY_WIDTHS, categories=5)
    torch.manual_seed(3)
    twin = build_arch("partworld-cnn6", widths=TINY_WIDTHS)
    assert isinstance(icnn, InterpretablePartWorldCNN) and isinstance(twin, PartWorldCNN6)
    assert torch.equal(icnn.conv6[0].weight, twin.conv6[0].weight)
    assert torch.equal(icnn.fc.weight, twin.fc.weight)
    x, labels = torch.rand(6, 3, 32, 32), torch.tensor([0, 1, 2, 3, 4, 0])
    data = type("D", (), {"labels": labels.numpy()})()
    extra = interpretable_training._extra_loss(icnn, data, np.arange(6))

    def conv6_grad(use_filter_loss: bool) -> torch.Tensor:
        icnn.zero_grad()
        loss, extra_loss = training._batch_loss(icnn, [x], labels, 1, extra if use_filter_loss else None)
        (loss + extra_loss).backward()
        return icnn.conv6[0].weight.grad.clone()

    with_loss, without = conv6_grad(True), conv6_grad(False)
    assert not torch.allclose(with_loss, without)
    assert torch.isfinite(with_loss).all()


def test_single_category_trains_the_category_against_the_rest(tmp_path, model_spec, monkeypatch):
    description, module = trained("partworld-icnn", tmp_path / "m", model_spec, monkeypatch,
                                  category="car")
    assert description["class_names"] == ["not-car", "car"]
    assert description["arch_args"]["num_classes"] == 2 and description["arch_args"]["categories"] == 1
    assert description["training"]["category"] == "car"
    assert "--set category=car" in description["training"]["command"]
    assert load_model(f"dir:{tmp_path / 'm'}").class_names == ["not-car", "car"]


def test_positives_and_their_flips_are_three_quarters_of_an_epoch():
    labels = np.array([0] * 9 + [1] * 2)
    rows = replicated_rows(labels, 0.75)
    assert (labels[rows] == 1).sum() == 27 and (labels[rows] == 0).sum() == 9
    assert set(rows[labels[rows] == 1]) == {9, 10}


def test_cancel_mid_training_leaves_no_model_folder(tmp_path, model_spec):
    steps = []
    progress = Progress(lambda fraction, message: steps.append(message) or
                        (len(steps) == 4 and progress.token.cancel()))
    with pytest.raises(Cancelled):
        train("partworld-icnn", DATA, str(tmp_path / "m"), tiny_config(model_spec, batch_size=2), progress)
    assert any(m.startswith("epoch 1/") for m in steps)
    assert not (tmp_path / "m").exists()


# ---- bad input (issue 5 §5): one line each ----------------------------------------------

def bad(call) -> str:
    with pytest.raises(BadInput) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    return message


def test_base_without_a_conv_layer(tmp_path):
    message = bad(lambda: train("partworld-icnn", DATA, str(tmp_path / "m"),
                                tiny_config("demo:text-lstm"), Progress()))
    assert message == "base model demo:text-lstm has no conv layer to attach the interpretable layer to"
    assert not (tmp_path / "m").exists()


def test_residual_base_is_refused_with_the_papers_warning():
    resnet = LoadedModel(torchvision.models.resnet18(num_classes=5), "torchvision:resnet18", "resnet18")
    message = bad(lambda: check_base(resnet.module, resnet.spec))
    assert "residual architecture" in message and "skip connections" in message
    assert "bypass the masked layer" in message


def test_a_conv_base_that_is_not_a_partworld_cnn():
    message = bad(lambda: check_base(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), "torchscript:x.pt"))
    assert "is not a PartWorld CNN" in message


def test_category_with_too_few_images(tmp_path, model_spec):
    config = TrainConfig(epochs=1, base_model=model_spec, category="car", val_data=VAL)
    message = bad(lambda: train("partworld-icnn", DATA, str(tmp_path / "m"), config, Progress()))
    assert message.startswith("category 'car' has 2 training images in ")
    assert "needs at least 20 (min_category_images)" in message


def test_multi_category_needs_enough_images_of_every_class(tmp_path, model_spec):
    config = TrainConfig(epochs=1, base_model=model_spec, val_data=VAL)
    assert "has 2 training images" in bad(lambda: train("partworld-cnn6", DATA, str(tmp_path / "m"),
                                                        config, Progress()))


def test_unknown_category_and_category_for_another_architecture(tmp_path, model_spec):
    unknown = tiny_config(model_spec, category="boat")
    assert bad(lambda: train("partworld-icnn", DATA, str(tmp_path / "m"), unknown, Progress())) == \
        "unknown category 'boat'; valid: car, house, animal, flower, robot"
    other = tiny_config(model_spec, category="car")
    assert "apply to partworld-icnn, partworld-cnn6, torchvision-icnn, torchvision-cnn only" in \
        bad(lambda: train("partworld-cnn", DATA, str(tmp_path / "m"), other, Progress()))


def test_model_json_of_a_tiny_run_names_a_rebuildable_architecture(tmp_path, model_spec, monkeypatch):
    trained("partworld-cnn6", tmp_path / "m", model_spec, monkeypatch, new_filters=6)
    described = json.loads((tmp_path / "m" / "model.json").read_text())
    assert described["arch_args"] == {"num_classes": 5, "widths": list(TINY_WIDTHS), "new_filters": 6,
                                      "head": "paper"}
    assert load_model(f"dir:{tmp_path / 'm'}").module.conv6[0].out_channels == 6


def test_the_fc_head_is_piecewise_linear_and_its_gradient_varies_by_image(tmp_path, model_spec, monkeypatch):
    """head=fc: 6×6 max-pool, FC 128 + ReLU, FC (SIX_LAYER_HEADS); ∂ŷ/∂x then differs between
    images (a GAP + linear head gives every image W_c/L), what a decision tree needs (§4.2)."""
    trained("partworld-icnn", tmp_path / "m", model_spec, monkeypatch, head="fc")
    described = json.loads((tmp_path / "m" / "model.json").read_text())
    assert described["arch_args"]["head"] == "fc"
    module = load_model(f"dir:{tmp_path / 'm'}").module
    assert [type(m).__name__ for m in module.fc] == ["Linear", "ReLU", "Linear"]
    x = torch.rand(2, TINY_WIDTHS[-1], 12, 12, requires_grad=True)
    logits = module.fc(module.head_pool(x).flatten(1))
    g = torch.autograd.grad(logits[:, 0].sum(), x)[0]
    assert not torch.allclose(g[0], g[1])
    assert bad(lambda: build_torchvision_icnn("vgg11", head="fc")) == "head 'fc'; valid: paper, gap"
