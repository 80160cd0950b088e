"""`baseline` known answers on a linear model f(x) = W·vec(x), where every attribution is exact."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from engine.errors import BadInput
from engine.jobs import Progress
from engine.methods import MethodInputs
from engine.methods.baseline import BaselineConfig, compute
from engine.models import LoadedModel
from engine_testkit import hooks_left, images_dataset

pytestmark = pytest.mark.filterwarnings(
    "ignore:Input Tensor 0 did not already require gradients:UserWarning",
    "ignore:Internal batch size cannot be less than:UserWarning")

H = W = 8
N = 4


@pytest.fixture(scope="module")
def weights():
    return np.random.default_rng(0).standard_normal((2, 3 * H * W)).astype(np.float32)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).random((N, 3, H, W), dtype=np.float32)


def linear_model(weights) -> LoadedModel:
    module = nn.Sequential(nn.Flatten(), nn.Linear(3 * H * W, 2, bias=False))
    with torch.no_grad():
        module[1].weight.copy_(torch.from_numpy(weights))
    return LoadedModel(module.eval(), "test:linear", "linear", ["zero", "one"])


def run(model, images, labels=None, layer="1", **config):
    inputs = MethodInputs(model, images_dataset(images, labels), [layer])
    result = compute(inputs, BaselineConfig(**config), Progress())
    assert hooks_left(model.module) == {}
    return result


def w_of(weights, targets):
    return weights[targets].reshape(-1, 3, H, W)  # (N,3,H,W): the weights of each target class


def test_saliency_is_the_channel_max_of_abs_weights(weights, images):
    result = run(linear_model(weights), images, methods=("saliency",), target="1")
    assert result.targets.tolist() == [1] * N
    expected = np.abs(w_of(weights, result.targets)).max(1)
    np.testing.assert_allclose(result.attributions["saliency"], expected, rtol=1e-6)


def test_predicted_target_is_the_argmax_of_the_logits(weights, images):
    result = run(linear_model(weights), images, methods=("saliency",))
    logits = images.reshape(N, -1) @ weights.T
    assert result.predictions.tolist() == result.targets.tolist() == logits.argmax(1).tolist()


def test_integrated_gradients_with_zero_baseline_is_x_times_w(weights, images):
    result = run(linear_model(weights), images, methods=("integrated_gradients",), target="label",
                 labels=[0, 1, 1, 0], ig_steps=4, internal_batch_size=3)
    assert result.targets.tolist() == [0, 1, 1, 0]
    expected = (images * w_of(weights, result.targets)).sum(1)
    np.testing.assert_allclose(result.attributions["integrated_gradients"], expected, rtol=1e-4, atol=1e-5)
    # completeness: the map sums to f(x) - f(0), and f(0) = 0 without bias
    logits = images.reshape(N, -1) @ weights.T
    totals = result.attributions["integrated_gradients"].sum((1, 2))
    np.testing.assert_allclose(totals, logits[np.arange(N), result.targets], rtol=1e-4, atol=1e-4)
    assert result.ig_delta.shape == (N,) and np.abs(result.ig_delta).max() < 1e-3
    assert result.metrics()["ig_convergence_delta"] < 1e-3


def test_occlusion_of_single_pixels_is_their_share_of_the_logit(weights, images):
    result = run(linear_model(weights), images, methods=("occlusion",), target="0",
                 occlusion_window=1, occlusion_stride=1, internal_batch_size=64)
    expected = (images * w_of(weights, result.targets)).sum(1)  # f(x) - f(x without that pixel)
    np.testing.assert_allclose(result.attributions["occlusion"], expected, rtol=1e-4, atol=1e-5)


def test_occlusion_of_the_whole_image_is_f_x_minus_f_0_everywhere(weights, images):
    result = run(linear_model(weights), images, methods=("occlusion",), target="1",
                 occlusion_window=H, occlusion_stride=H)
    logits = images.reshape(N, -1) @ weights.T
    expected = np.broadcast_to(logits[:, 1, None, None], (N, H, W))
    np.testing.assert_allclose(result.attributions["occlusion"], expected, rtol=1e-5, atol=1e-5)


def test_batches_give_the_same_attributions(weights, images):
    config = dict(methods=("saliency", "integrated_gradients", "occlusion"), ig_steps=4,
                  occlusion_window=4, occlusion_stride=2)
    one = run(linear_model(weights), images, batch_size=N, **config)
    small = run(linear_model(weights), images, batch_size=3, **config)
    for name in config["methods"]:
        np.testing.assert_allclose(small.attributions[name], one.attributions[name], atol=1e-5)
    assert small.targets.tolist() == one.targets.tolist()


class TinyConvNet(nn.Module):
    layer_names = ("conv", "fc")

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.conv(x).relu().mean((2, 3)))


def test_grad_cam_has_the_image_shape_and_is_non_negative(images):
    model = LoadedModel(TinyConvNet().eval(), "test:conv", "conv")
    result = run(model, images, layer="conv", methods=("grad_cam",), target="2")
    cam = result.attributions["grad_cam"]
    assert cam.shape == (N, H, W) and cam.dtype == np.float32
    assert cam.min() >= 0 and cam.max() > 0
    assert result.layer == "conv" and result.ig_delta is None


def test_grad_cam_known_answer_for_a_single_channel_layer():
    """One filter: Grad-CAM = relu(mean gradient × map), the map itself when the weight is +."""
    module = nn.Sequential(nn.Conv2d(3, 1, 1, bias=False), nn.Flatten(), nn.Linear(H * W, 1, bias=False))
    with torch.no_grad():
        module[0].weight.fill_(1.0)
        module[2].weight.fill_(1.0 / (H * W))
    model = LoadedModel(module.eval(), "test:cam", "cam")
    x = np.random.default_rng(2).random((2, 3, H, W), dtype=np.float32)
    result = run(model, x, layer="0", methods=("grad_cam",), target="0")
    np.testing.assert_allclose(result.attributions["grad_cam"], x.sum(1) / (H * W), rtol=1e-5)


def test_target_label_needs_labels(weights, images):
    with pytest.raises(BadInput, match="target=label, but some samples have no label"):
        run(linear_model(weights), images, methods=("saliency",), target="label")


def test_unknown_target_rule(weights, images):
    with pytest.raises(BadInput, match="target='biggest'; valid: predicted, label, or a class index"):
        run(linear_model(weights), images, methods=("saliency",), target="biggest")


@pytest.mark.parametrize("methods, named", [(("saliency", "lime"), "lime"), ((), "(none given)")])
def test_unknown_baseline_name(weights, images, methods, named):
    with pytest.raises(BadInput) as info:
        run(linear_model(weights), images, methods=methods)
    assert str(info.value) == (f"unknown baseline {named}; valid: saliency, "
                               "integrated_gradients, grad_cam, occlusion")


def test_foreground_share_metric(weights):
    x = np.zeros((1, 3, H, W), np.float32)
    x[0, :, :2, :] = 1.0                      # only the top two rows carry signal
    data = images_dataset(x)
    data.foreground = np.zeros((1, H, W), bool)
    data.foreground[0, :4] = True
    w = np.abs(weights)                       # all weights positive: IG is positive on rows 0-1
    inputs = MethodInputs(linear_model(w), data, ["1"])
    result = compute(inputs, BaselineConfig(methods=("integrated_gradients",), target="0",
                                            ig_steps=4), Progress())
    metrics = result.metrics()
    assert metrics["foreground_share/integrated_gradients"] == pytest.approx(1.0, abs=1e-6)
    assert metrics["foreground_area"] == 0.5
