"""`pointcloud-utility` on controls with known answers (issue 6 §5; spec pointcloud-utility §5.2-5.3)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from engine.data.pointops import random_rotations, rotate
from engine.data.types import PointDataset
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.pointcloud_utility import METHOD
from engine.methods.pointcloud_utility._entropy import point_sigma
from engine.methods.pointcloud_utility.api import rotation_robustness
from engine.methods.pointcloud_utility.config import PointUtilityConfig
from engine.methods.pointcloud_utility.result import PointUtilityResult, concentration
from engine.models import LoadedModel

POINTS = 32


class LinearPoints(nn.Module):
    """fc512 = (a_i · x_i) for every point i: a linear point function with known entropy."""

    def __init__(self, weights: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("weights", weights)
        self.fc512 = nn.Identity()

    def forward(self, points):
        return self.fc512((self.weights[None, :, None] * points).flatten(1))


class PooledControl(nn.Module):
    """A per-point embedding, max-pooled, then fc512 and a classifier. `radial`: the embedding
    reads each point's distance to the centroid only, so the net is rotation invariant."""

    def __init__(self, radial: bool, classes: int = 3) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.radial = radial
        self.embed = nn.Sequential(nn.Linear(1 if radial else 3, 32), nn.ReLU(), nn.Linear(32, 32))
        self.fc512 = nn.Sequential(nn.Linear(32, 16), nn.ReLU())
        self.classifier = nn.Linear(16, classes)

    def forward(self, points):
        centred = points - points.mean(1, keepdim=True)
        per_point = centred.norm(dim=-1, keepdim=True) if self.radial else centred
        return self.classifier(self.fc512(self.embed(per_point).amax(1)))


def cloud(seed: int, count: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    points = torch.randn(count, POINTS, 3, generator=generator)
    return points / points.norm(dim=-1).amax(1)[:, None, None]


def quick(**changes) -> PointUtilityConfig:
    return PointUtilityConfig(**{**dict(samples=2, rotations=4, iterations=120, draws=8, eval_draws=16,
                                        judge_draws=64, attack_steps=60, attack_lr=0.01), **changes})


def test_entropy_of_a_linear_point_function_matches_its_closed_form():
    """D/D_ref − λ·mean log σ with D ∝ Σ a_i² σ_i²: at λ = 2τ the optimum has D/D_ref = τ and
    σ_i = σ0·√(τ·mean a²)/|a_i| (the calibrated iterate is the optimum)."""
    a = torch.linspace(0.5, 2.0, POINTS)
    config = quick(iterations=400, lr=0.05)
    outcome = point_sigma(LinearPoints(a), cloud(0), "fc512", config.gpe(0), Progress())
    expected = config.sigma0 * math.sqrt(config.tau * float((a ** 2).mean())) / a
    sigma = outcome.log_sigma[0, 0].exp()
    assert config.lam == pytest.approx(2 * config.tau)
    assert torch.allclose(sigma, expected, rtol=0.1)
    entropy = 3 * (0.5 * math.log(2 * math.pi * math.e) + torch.log(expected))
    assert torch.allclose(outcome.entropy[0, 0], entropy, atol=0.3)
    assert outcome.calibrated.all()


def test_information_concentration_of_a_linear_point_function_is_its_closed_form():
    """Background points weighted 0.5 and object points 2: σ_i ∝ 1/|a_i| (above), so the
    background's entropy exceeds the object's by 3·log 4 nats (spec §5.3 item 2)."""
    background = torch.arange(POINTS) % 4 == 0
    a = torch.where(background, 0.5, 2.0)
    config = quick(iterations=400, lr=0.05)
    outcome = point_sigma(LinearPoints(a), cloud(0), "fc512", config.gpe(0), Progress())
    entropy = outcome.entropy[0].numpy()
    assert concentration(entropy, background[None].numpy()) == pytest.approx(3 * math.log(4), abs=0.3)
    assert math.isnan(concentration(entropy, None)) and math.isnan(concentration(entropy, np.zeros((1, POINTS), bool)))


@pytest.mark.slow
def test_a_rotation_invariant_control_is_the_most_rotation_robust():
    config = quick()
    clouds = cloud(1, 2)
    radial = rotation_robustness(PooledControl(True).eval(), "fc512", clouds, config, 0, Progress())
    coordinates = rotation_robustness(PooledControl(False).eval(), "fc512", clouds, config, 0, Progress())
    assert (radial < 0.5 * coordinates).all(), (radial, coordinates)


def test_rotated_copies_keep_the_point_order_so_sigma_compares_point_by_point():
    clouds = cloud(2)
    rotations = torch.as_tensor(random_rotations(3, 0), dtype=torch.float32)
    copies = rotate(clouds[0].expand(3, -1, -1), rotations)
    assert torch.allclose(copies.norm(dim=-1), clouds[0].norm(dim=-1).expand(3, -1), atol=1e-6)


def inputs(model2: bool = False) -> MethodInputs:
    points = cloud(3, 3).numpy()
    data = PointDataset(points, np.array([0, 1, 2]), ["a", "b", "c"], spec="test:clouds")
    loaded = LoadedModel(PooledControl(False).eval(), "test:coordinates", "control", ["a", "b", "c"])
    second = LoadedModel(PooledControl(True).eval(), "test:radial", "control", ["a", "b", "c"]) if model2 else None
    return MethodInputs(loaded, data, ["fc512"], 0, second)


def test_the_method_writes_every_metric_for_both_models_and_reads_back():
    result = METHOD.compute(inputs(model2=True), quick(samples=2, attack_targets=1), Progress())
    metrics = result.metrics()
    for name in ("information_discarding", "rotation_robustness", "adversarial_robustness",
                 "neighbourhood_consistency", "accuracy"):
        assert name in metrics and f"{name}/model2" in metrics
    assert metrics["delta/rotation_robustness"] == pytest.approx(
        metrics["rotation_robustness/model2"] - metrics["rotation_robustness"])
    assert metrics["delta/rotation_robustness"] < 0  # the radial second model is the robust one
    assert result.model.importance.shape == (2, POINTS) and (result.model.importance >= 0).all()
    assert result.model.attack_targets.shape == (2, 1)
    record = result.to_record("test:coordinates", "test:clouds", 0)
    again = PointUtilityResult.from_record(record)
    assert np.array_equal(again.model2.entropy, result.model2.entropy)
    assert again.metrics() == metrics
