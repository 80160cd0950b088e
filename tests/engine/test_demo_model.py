"""The shipped demo model: what it was trained to do, and `deepscope demo`'s behaviour."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine import demo
from engine.data import load_data
from engine.jobs import Progress
from engine.models import DEMO_MODELS, RESOURCES, load_model
from engine.models.training import evaluate


@pytest.mark.slow
def test_demo_model_classifies_partworld_of_another_seed():
    model = load_model("demo:partworld-cnn")
    data = load_data("demo:partworld?n=400&seed=11")
    assert model.class_names == data.class_names
    assert evaluate(model.module, data.images, data.labels) >= 0.95


def test_demo_model_keeps_12x12_maps_at_conv4_and_conv5():
    model = load_model("demo:partworld-cnn")
    from engine.layers import capture  # noqa: PLC0415

    maps = capture(model.module, model.prepare(np.zeros((1, 3, 96, 96), np.float32)), ["conv4", "conv5"])
    assert maps["conv4"].shape[-2:] == (12, 12) and maps["conv5"].shape[-2:] == (12, 12)


def test_shipped_model_records_the_command_that_reproduces_it():
    described = json.loads((DEMO_MODELS["partworld-cnn"] / "model.json").read_text())
    command = described["training"]["command"]
    assert command == ('deepscope train partworld-cnn --data "demo:partworld?n=3000&seed=0" '
                       "--out resources/demo/partworld-cnn")
    assert command in (RESOURCES / "README.md").read_text()
    assert described["training"]["val_accuracy"] >= 0.95


@pytest.mark.parametrize("name, arch, extra, size", [
    ("partworld-icnn", "partworld-icnn", "", 600_000), ("partworld-cnn6", "partworld-cnn6", "", 600_000),
    ("partworld-icnn-fc", "partworld-icnn", " --set head=fc", 1_800_000)])
def test_interpretable_pair_records_its_command_and_starts_from_the_demo_cnn(name, arch, extra, size):
    described = json.loads((DEMO_MODELS[name] / "model.json").read_text())
    command = described["training"]["command"]
    assert command == (f'deepscope train {arch} --data "demo:partworld?n=1500&seed=0" '
                       f"--out resources/demo/{name} --set epochs=4{extra}")
    assert command in (RESOURCES / "README.md").read_text()
    assert described["training"]["base_model"] == "demo:partworld-cnn"
    assert described["training"]["category"] == "all"
    assert described["training"]["val_accuracy"] >= 0.95
    assert (DEMO_MODELS[name] / "weights.safetensors").stat().st_size < size


def test_demo_interpretable_model_rebuilds_its_masked_layers():
    module = load_model("demo:partworld-icnn").module
    assert [layer.categories for layer in module.masked_layers()] == [5, 5]
    assert all(np.isfinite(layer.beta.numpy()).all() for layer in module.masked_layers())
    assert load_model("demo:partworld-cnn6").layers == ["conv1", "conv2", "conv3", "conv4", "conv5",
                                                         "conv6", "fc"]


def test_demo_checks_present_weights_without_training(monkeypatch):
    monkeypatch.setattr(demo, "train", lambda *a, **k: pytest.fail("must not retrain"))
    assert demo.ensure_demo_models(Progress()) == {name: "ok" for name in demo.DEMO_RECIPES}


def test_demo_trains_missing_weights(monkeypatch, tmp_path):
    folder = tmp_path / "partworld-cnn"
    monkeypatch.setitem(DEMO_MODELS, "partworld-cnn", folder)
    monkeypatch.setitem(demo.DEMO_RECIPES, "partworld-cnn",
                        ("partworld-cnn", "demo:partworld?n=10&seed=0&size=32", {}))
    quick = demo.TrainConfig(epochs=1, val_data="demo:partworld?n=5&seed=1&size=32")
    assert demo.ensure_demo_models(Progress(), config=quick)["partworld-cnn"] == "trained"
    assert load_model("demo:partworld-cnn").input_size == (32, 32)


@pytest.mark.slow
def test_every_baseline_points_at_the_object_more_than_chance():
    """On the trained demo model, each attribution puts more of its positive mass on the
    object than the object's share of the image (measured ≈0.19–0.43 against ≈0.12)."""
    from engine.analysis import AnalysisRequest, execute  # noqa: PLC0415

    request = AnalysisRequest("baseline", "demo:partworld-cnn", "demo:partworld?n=16&seed=7",
                              settings={"ig_steps": "16"})
    metrics = execute(request, Progress()).metrics
    area = metrics["foreground_area"]
    for name in ("saliency", "integrated_gradients", "grad_cam", "occlusion"):
        assert metrics[f"foreground_share/{name}"] > 1.3 * area, (name, metrics)
