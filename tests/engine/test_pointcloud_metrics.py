"""The point-cloud utility metrics of spec pointcloud-utility §5.3 on known answers."""
from __future__ import annotations

import math

import pytest
import torch

from engine.methods.pointcloud_utility._adversarial import AttackSettings, attack, glorot_offsets
from engine.methods.pointcloud_utility._metrics import (clipped_share, gaussian_kl, js_lower_bound,
                                                         neighbourhood_inconsistency, normalised_sigma,
                                                         replace_clipped, rotation_divergence)


def test_gaussian_kl_and_the_js_bound_of_sigma_one_against_two():
    one, two = torch.tensor([1.0]), torch.tensor([2.0])
    forward, backward = math.log(2) + 1 / 8 - 1 / 2, -math.log(2) + 2 - 1 / 2
    assert gaussian_kl(one, two).item() == pytest.approx(forward)
    assert gaussian_kl(two, one).item() == pytest.approx(backward)
    expected = 0.5 * sum(math.log(2 / (1 + math.exp(-kl))) for kl in (forward, backward))
    assert js_lower_bound(one, two).item() == pytest.approx(expected)
    assert js_lower_bound(two, two).item() == 0.0
    assert js_lower_bound(torch.tensor([1e-3]), torch.tensor([1e3])).item() < math.log(2)


def test_sigma_is_normalised_to_a_geometric_mean_of_one_over_e():
    sigma = torch.tensor([[0.01, 0.02, 0.08], [1.0, 2.0, 8.0]])
    normal = normalised_sigma(sigma)
    assert torch.allclose(torch.log(normal).mean(1), torch.tensor([-1.0, -1.0]))
    assert torch.allclose(normal[0], normal[1])  # a global scale is removed


def test_rotation_divergence_ignores_scale_and_sums_points_over_pairs():
    base = torch.tensor([0.01, 0.03, 0.02, 0.05])
    assert rotation_divergence(torch.stack([base, 3 * base, 0.5 * base])).item() == pytest.approx(0, abs=1e-6)
    other = torch.tensor([0.05, 0.02, 0.03, 0.01])
    a, b = normalised_sigma(torch.stack([base, other]))
    pair = js_lower_bound(a, b).sum()
    three = torch.stack([base, base, other])  # pairs (0,1)=0, (0,2)=pair, (1,2)=pair
    assert rotation_divergence(three).item() == pytest.approx(2 * pair.item() / 3)
    with pytest.raises(ValueError, match="two rotations"):
        rotation_divergence(base[None])


def test_neighbourhood_inconsistency_on_four_points_of_a_line():
    points = torch.tensor([[0.0, 0, 0], [1, 0, 0], [3, 0, 0], [10, 0, 0]])
    sigma = torch.tensor([0.01, 0.02, 0.04, 0.01])
    log_var = 2 * torch.log(sigma)
    # k = 2: nearest of 0 is 1, of 1 is 0, of 3 is 1, of 10 is 3
    ranges = [abs(log_var[0] - log_var[1]), abs(log_var[1] - log_var[0]),
              abs(log_var[2] - log_var[1]), abs(log_var[3] - log_var[2])]
    assert neighbourhood_inconsistency(points, sigma, k=2).item() == pytest.approx(float(sum(ranges) / 4), rel=1e-5)
    assert neighbourhood_inconsistency(points, torch.full((4,), 0.03), k=3).item() == 0.0


def test_sigma_at_the_clamp_is_replaced_by_the_mean_and_counted():
    sigma = torch.tensor([0.01, 0.08, 0.03, -0.08])
    assert torch.allclose(replace_clipped(sigma), torch.tensor([0.01, 0.05, 0.03, 0.05]))
    assert clipped_share(sigma).item() == 0.5


def shifted_mean_classifier(threshold: float):
    """Class 1 once the cloud's mean x passes `threshold`: the cheapest fooling moves
    every point by `threshold` along x, at ‖ε‖² = N·threshold²."""
    weight = torch.tensor([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]])
    bias = torch.tensor([10.0 * threshold, 0.0])
    return lambda clouds: clouds.mean(1) @ weight.T + bias


def test_attack_fools_at_no_less_than_the_minimal_energy_and_stops_there():
    cloud = torch.zeros(8, 3)
    settings = AttackSettings(lam=0.01, lr=0.02, max_steps=2000)
    outcome = attack(shifted_mean_classifier(0.3), cloud, torch.tensor([1, 0]), settings)
    # target 0 is already predicted: fooled at step 0, its cost the Glorot start's energy
    start = glorot_offsets(2, 8, torch.Generator().manual_seed(0))
    assert outcome.steps[1] == 0 and outcome.cost[1].item() == pytest.approx((start[1] ** 2).sum().item())
    assert 0 < outcome.steps[0] < 2000
    assert outcome.cost[0].item() >= 8 * 0.3 ** 2 * 0.99
    assert outcome.offsets[0][:, 0].mean().item() >= 0.3 - 1e-4   # the offset recorded fools it
    assert outcome.robustness == pytest.approx(outcome.cost.mean().item())


def test_attack_honours_its_offset_bound_and_step_budget():
    settings = AttackSettings(lam=0.01, lr=0.05, max_steps=150, max_offset=0.1)
    outcome = attack(shifted_mean_classifier(0.3), torch.zeros(8, 3), torch.tensor([1]), settings)
    assert outcome.steps.tolist() == [-1] and math.isnan(outcome.robustness)
    steps = []
    attack(shifted_mean_classifier(0.3), torch.zeros(8, 3), torch.tensor([1]), settings,
           type("P", (), {"step": lambda self, i, n, m: steps.append(i)})())
    assert len(steps) == 150


def test_bounded_offsets_stay_inside_the_ball():
    settings = AttackSettings(lam=0.0, lr=0.5, max_steps=20, max_offset=0.05)
    seen = []

    def logits(clouds):
        seen.append(clouds.detach().clone())
        return shifted_mean_classifier(10.0)(clouds)

    attack(logits, torch.zeros(16, 3), torch.tensor([1]), settings)
    assert max(c.norm(dim=-1).max().item() for c in seen[1:]) <= 0.05 + 1e-6
