"""Model specs and weight files the user may get wrong (issue 2 §7): one clear line each."""
from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from engine.errors import BadInput
from engine.models import IMAGENET_NORM, load_model
from engine.models.model_dir import MODEL_JSON, WEIGHTS
from engine_testkit import tiny_cnn, tiny_description, write_model_dir

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.*:FutureWarning")


def bad_input(spec: str, **kwargs) -> str:
    with pytest.raises(BadInput) as info:
        load_model(spec, **kwargs)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_dir_model_loads_the_saved_weights_in_eval_mode(tmp_path):
    module = tiny_cnn(seed=5)
    write_model_dir(tmp_path, module)
    loaded = load_model(f"dir:{tmp_path}")
    assert (loaded.arch, loaded.class_names, loaded.input_size) == \
        ("partworld-cnn", tiny_description()["class_names"], (32, 32))
    assert not loaded.module.training and loaded.layers[-1] == "fc"
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded.module(loaded.prepare(x)), module(x))


def test_missing_weights_file(tmp_path):
    write_model_dir(tmp_path)
    (tmp_path / WEIGHTS).unlink()
    assert bad_input(f"dir:{tmp_path}") == f"weights file {tmp_path / WEIGHTS} does not exist"


def test_folder_without_model_json(tmp_path):
    assert "is not a model folder (no model.json" in bad_input(f"dir:{tmp_path}")


def test_damaged_model_json(tmp_path):
    write_model_dir(tmp_path)
    (tmp_path / MODEL_JSON).write_text('{"arch": "partworld-cnn", ')
    assert bad_input(f"dir:{tmp_path}").startswith(f"{tmp_path / MODEL_JSON} is damaged")


def test_unknown_architecture_in_model_json(tmp_path):
    write_model_dir(tmp_path)
    (tmp_path / MODEL_JSON).write_text(json.dumps({"arch": "resnet9000"}))
    assert bad_input(f"dir:{tmp_path}") == ("unknown architecture 'resnet9000'; valid: partworld-cnn, "
                                            "partworld-attributes, partworld-icnn, partworld-cnn6, torchvision-icnn, "
                                            "torchvision-cnn, text-cnn, text-lstm, "
                                            "text-transformer, pointnet, pointnet2-ssg, pointnet2-msg, dgcnn")


def test_weights_of_random_bytes(tmp_path):
    write_model_dir(tmp_path)
    (tmp_path / WEIGHTS).write_bytes(np.random.default_rng(0).bytes(4096))
    assert "is not a readable safetensors file" in bad_input(f"dir:{tmp_path}")


def test_truncated_safetensors(tmp_path):
    write_model_dir(tmp_path)
    data = (tmp_path / WEIGHTS).read_bytes()
    (tmp_path / WEIGHTS).write_bytes(data[: len(data) // 2])
    message = bad_input(f"dir:{tmp_path}")
    assert message.startswith(f"{tmp_path / WEIGHTS} is not a readable safetensors file (")


def test_weights_of_other_widths_say_which_shapes_differ(tmp_path):
    write_model_dir(tmp_path, tiny_cnn(widths=(8, 4, 4, 4, 4)))
    (tmp_path / MODEL_JSON).write_text(json.dumps(tiny_description()))  # claims widths 4
    message = bad_input(f"dir:{tmp_path}")
    assert "do not fit partworld-cnn" in message
    assert "shape differs for: conv1.0.weight (file 8×3×3×3, model 4×3×3×3)" in message
    assert "missing keys" not in message and "unexpected keys" not in message


def test_weights_of_another_network_name_missing_and_unexpected_keys(tmp_path):
    write_model_dir(tmp_path, nn.Sequential(nn.Linear(3, 2)))
    (tmp_path / MODEL_JSON).write_text(json.dumps(tiny_description()))
    message = bad_input(f"dir:{tmp_path}")
    assert re.search(r"missing keys: conv1\.0\.weight, .*; unexpected keys: 0\.bias, 0\.weight$", message)


def test_nan_weights(tmp_path):
    module = tiny_cnn()
    with torch.no_grad():
        module.conv3[0].weight[0, 0, 0, 0] = float("nan")
    write_model_dir(tmp_path, module)
    assert bad_input(f"dir:{tmp_path}").endswith("hold NaN or Inf values in conv3.0.weight")


class _Marker:
    """Unpickling this creates a file: the proof that loading would run the file's code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_checkpoint_that_would_run_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.pt"
    torch.save({"fc.weight": torch.zeros(3, 512), "payload": _Marker(str(marker))}, path)
    message = bad_input("torchvision:resnet18", weights=str(path))
    assert "holds pickled Python objects that could run code" in message and "--trust-pickle" in message
    assert not marker.exists()


def test_random_bytes_checkpoint_is_damage_not_a_pickle_risk(tmp_path):
    path = tmp_path / "noise.pt"
    path.write_bytes(np.random.default_rng(1).bytes(2048))
    message = bad_input("torchvision:resnet18", weights=str(path))
    assert message.startswith(f"{path} is not a readable weights file (")
    assert "could run code" not in message


@pytest.fixture(scope="module")
def resnet3():
    torch.manual_seed(0)
    return torchvision.models.resnet18(num_classes=3).eval()


def test_pickled_module_loads_only_with_trust_pickle(tmp_path, resnet3):
    path = tmp_path / "whole-model.pt"
    torch.save(resnet3, path)
    assert "could run code" in bad_input("torchvision:resnet18", weights=str(path))
    loaded = load_model("torchvision:resnet18", weights=str(path), trust_pickle=True)
    for name, value in resnet3.state_dict().items():
        assert torch.equal(loaded.module.state_dict()[name], value), name


def test_torchvision_state_dict_loads_and_predicts(tmp_path, resnet3):
    path = tmp_path / "resnet18-3.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in resnet3.state_dict().items()}}, path)
    loaded = load_model("torchvision:resnet18", weights=str(path))
    assert loaded.arch == "resnet18" and loaded.normalize == IMAGENET_NORM
    x = torch.rand(2, 3, 64, 64)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in IMAGENET_NORM)
    with torch.no_grad():
        got = loaded.module(loaded.prepare(x))
        expected = resnet3((x - mean) / std)
    assert got.shape == (2, 3)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)


def test_torchvision_without_weights_downloads_nothing():
    assert bad_input("torchvision:resnet18") == \
        "torchvision:resnet18 needs --weights FILE (nothing is downloaded)"


def test_torchvision_unknown_architecture():
    assert bad_input("torchvision:resnet7", weights="x.pt").startswith(
        "unknown torchvision architecture 'resnet7'; valid: ")


def test_torchvision_weights_file_missing(tmp_path):
    assert bad_input("torchvision:resnet18", weights=str(tmp_path / "no.pt")) == \
        f"weights file {tmp_path / 'no.pt'} does not exist"


class Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.conv(x).relu().mean((2, 3)))


def test_torchscript_round_trip_gives_the_same_outputs(tmp_path):
    torch.manual_seed(0)
    module = Small().eval()
    path = tmp_path / "small.ts"
    torch.jit.script(module).save(str(path))
    loaded = load_model(f"torchscript:{path}")
    assert loaded.arch == "torchscript" and loaded.layers == ["conv", "fc"]
    x = torch.rand(3, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(loaded.module(loaded.prepare(x)), module(x))


@pytest.mark.parametrize("content", [b"just some text\n", "state_dict"])
def test_non_torchscript_file_is_bad_input(tmp_path, content):
    path = tmp_path / "model.pt"
    if content == "state_dict":
        torch.save(Small().state_dict(), path)  # a zip archive, but not TorchScript
    else:
        path.write_bytes(content)
    assert bad_input(f"torchscript:{path}").startswith(f"{path} is not a TorchScript archive (")


def test_missing_torchscript_file(tmp_path):
    assert bad_input(f"torchscript:{tmp_path}/none.pt") == \
        f"TorchScript file {tmp_path}/none.pt does not exist"


@pytest.mark.parametrize("spec", ["onnx:model.onnx", "model.pt", "huggingface:/x"])
def test_unknown_spec_kind_lists_the_valid_kinds(spec):
    assert bad_input(spec) == (f"unknown model spec {spec!r}; valid kinds: "
                               "demo:, dir:, torchvision:, torchscript:, hf:")


def test_unknown_demo_model():
    assert bad_input("demo:alexnet") == ("unknown demo model 'alexnet'; valid: partworld-cnn, "
                                         "partworld-cnn-seed2, text-cnn, text-lstm, text-transformer, "
                                         "partworld-icnn, partworld-cnn6, partworld-icnn-fc, pointnet, pointnet2-ssg, "
                                         "pointnet2-msg, dgcnn, partworld-attributes, "
                                         "partworld-attributes-biased")


def test_demo_model_not_built_yet_says_how_to_build_it(monkeypatch, tmp_path):
    from engine import models

    monkeypatch.setitem(models.DEMO_MODELS, "partworld-cnn", tmp_path / "absent")
    assert bad_input("demo:partworld-cnn") == \
        "demo model partworld-cnn is not built yet; run `deepscope demo`"


def test_load_model_leaves_no_file_behind(tmp_path):
    write_model_dir(tmp_path)
    load_model(f"dir:{tmp_path}")
    assert sorted(os.listdir(tmp_path)) == [MODEL_JSON, WEIGHTS]
