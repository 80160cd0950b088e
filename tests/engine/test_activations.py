"""`activations` known answers: a 1×1 identity conv makes every map equal its input image."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from engine.jobs import Progress
from engine.methods import MethodInputs
from engine.methods.activations import ActivationsConfig, compute
from engine.models import LoadedModel
from engine_testkit import hooks_left, images_dataset


class IdentityConv(nn.Module):
    """Layer "conv" is a 1×1 conv with identity weights; logits are the channel means."""

    layer_names = ("conv",)

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.eye(3).view(3, 3, 1, 1))

    def forward(self, x):
        return self.conv(x).mean((2, 3))


N, K = 7, 3


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(4).random((N, 3, 5, 6), dtype=np.float32)


def run(images, labels=None, **config):
    model = LoadedModel(IdentityConv().eval(), "test:identity", "identity")
    data = images_dataset(images, labels)
    inputs = MethodInputs(model, data, ["conv"])
    result = compute(inputs, ActivationsConfig(**config), Progress())
    assert hooks_left(model.module) == {}
    return result


def test_maps_equal_the_input_images(images):
    result = run(images, top_k=K, samples_kept=4)
    assert result.layers == ["conv"]
    np.testing.assert_allclose(result.maps["conv"], images[:4], rtol=0, atol=1e-6)
    assert np.array_equal(result.images, images[:4])


def test_filter_max_and_mean_are_the_channel_max_and_mean(images):
    result = run(images, top_k=K)
    np.testing.assert_allclose(result.filter_max["conv"], images.max((2, 3)), rtol=0, atol=1e-6)
    np.testing.assert_allclose(result.filter_mean["conv"], images.mean((2, 3)), rtol=1e-6, atol=1e-7)
    assert result.filter_max["conv"].shape == (N, 3)


def test_topk_index_is_the_argsort_of_channel_maxima(images):
    result = run(images, top_k=K)
    peaks = images.max((2, 3))                                   # (N, C)
    expected = np.argsort(-peaks, axis=0, kind="stable")[:K].T   # (C, K), best first
    assert result.topk_index["conv"].tolist() == expected.tolist()
    for c in range(3):
        for j, sample in enumerate(expected[c]):
            np.testing.assert_allclose(result.topk_maps["conv"][c, j], images[sample, c], atol=1e-6)
    used = np.unique(expected)
    assert result.top_image_index.tolist() == used.tolist()
    assert np.array_equal(result.top_images, images[used])


def test_metrics_are_means_of_per_sample_channel_maxima_and_accuracy(images):
    labels = images.mean((2, 3)).argmax(1)   # the identity model predicts exactly these
    labels[0] = (labels[0] + 1) % 3          # one wrong
    result = run(images, labels, top_k=K)
    metrics = result.metrics()
    assert metrics["max_activation/conv"] == pytest.approx(images.max((2, 3)).mean(), abs=1e-6)
    assert metrics["mean_activation/conv"] == pytest.approx(images.mean(), abs=1e-6)
    assert metrics["accuracy"] == pytest.approx((N - 1) / N)
    assert result.predictions.tolist() == images.mean((2, 3)).argmax(1).tolist()


def test_no_accuracy_without_labels(images):
    assert "accuracy" not in run(images, top_k=K).metrics()


@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_batches_give_the_same_result_as_one_batch(images, batch_size):
    one = run(images, top_k=K, samples_kept=5, batch_size=64).to_record("m", "d", 0)
    many = run(images, top_k=K, samples_kept=5, batch_size=batch_size).to_record("m", "d", 0)
    assert sorted(one.arrays) == sorted(many.arrays)
    for name in one.arrays:
        np.testing.assert_allclose(many.arrays[name], one.arrays[name], rtol=0, atol=1e-6, err_msg=name)
    assert one.metrics == pytest.approx(many.metrics)


def test_top_k_and_kept_samples_are_capped_by_the_data(images):
    result = run(images[:2], top_k=5, samples_kept=9, batch_size=1)
    assert result.topk_index["conv"].shape == (3, 2) and result.maps["conv"].shape[0] == 2


def test_a_vector_layer_gives_1x1_maps():
    model = LoadedModel(nn.Sequential(nn.Flatten(), nn.Linear(12, 2, bias=False)), "m", "linear")
    with torch.no_grad():
        model.module[1].weight.copy_(torch.arange(24.0).view(2, 12) / 24)
    x = np.random.default_rng(0).random((3, 3, 2, 2), dtype=np.float32)
    result = compute(MethodInputs(model, images_dataset(x), ["1"]), ActivationsConfig(top_k=2), Progress())
    logits = x.reshape(3, 12) @ (np.arange(24.0).reshape(2, 12) / 24).T
    assert result.maps["1"].shape == (3, 2, 1, 1)
    np.testing.assert_allclose(result.filter_max["1"], logits, rtol=1e-5)
    np.testing.assert_allclose(result.filter_mean["1"], logits, rtol=1e-5)
