"""Interpretable filters: template and mask math, the filter loss, β, the wrapped model.

Known answers of specs/verification.md §7.2 "ICNN masks and loss": masks, the surrogate's
gradient against a literal re-statement of the code's injection (spec interpretable-cnn
§2.5), finite differences of the exact −MI (§2.4), β's guards (§2.11). All tiny, CPU.
"""
from __future__ import annotations

import math

import pytest
import torch

from engine.layers import forward_to
from engine.models.interpretable import (InterpretableConfig, InterpretableConv,
                                         InterpretablePartWorldCNN, build, category_targets, kappa)
from engine.models.interpretable_loss import (beta_targets, diamond_masks, filter_beta_from_paper,
                                              negative_template, neg_mutual_information,
                                              paper_templates, peak_positions, practical_gradient,
                                              template_priors)
from engine.models.partworld_cnn import PartWorldCNN
from engine.receptive_field import unit_grid


def l1_cells(n: int, mu: tuple[int, int]) -> torch.Tensor:
    cells = torch.arange(n, dtype=torch.float64)
    return (cells[:, None] - mu[0]).abs() + (cells[None, :] - mu[1]).abs()


def one_mask(n: int, mu: tuple[int, int], beta: float) -> torch.Tensor:
    rows, cols = torch.tensor([[mu[0]]]), torch.tensor([[mu[1]]])
    return diamond_masks(rows, cols, torch.tensor([beta], dtype=torch.float64), (n, n))[0, 0]


# ---- templates and masks (spec §2.3) ----------------------------------------------------

@pytest.mark.parametrize(("n", "beta"), [(5, 2.0), (7, 3.0), (13, 1.5)])
def test_mask_is_one_at_mu_an_l1_diamond_in_minus_one_to_one(n, beta):
    mu = (1, n - 2)
    mask = one_mask(n, mu, beta)
    distance = l1_cells(n, mu) * 2 / (n - 1)  # on the [−1, 1] grid
    assert mask[mu] == 1.0
    assert mask.min() >= -1.0 and mask.max() <= 1.0 and mask.min() == -1.0
    torch.testing.assert_close(mask, (1 - beta * distance).clamp(min=-1.0), rtol=0, atol=1e-12)
    # zero crossing at distance 1/β: positive inside, negative outside
    assert (mask[distance < 1 / beta - 1e-9] > 0).all() and (mask[distance > 1 / beta + 1e-9] < 0).all()
    on_grid = (distance - 1 / beta).abs() < 1e-9
    assert on_grid.any() and mask[on_grid].abs().max() < 1e-12


def test_paper_templates_are_tau_diamonds_with_the_negative_and_uniform_priors():
    n = 8
    templates, tau = paper_templates(n), 0.5 / n ** 2  # spec defaults: β = 4, τ = 0.5/n²
    assert templates.shape == (n * n, n, n)
    mu = (2, 5)
    t = templates[mu[0] * n + mu[1]]
    assert t[mu] == tau and t.min() == -tau and t.max() == tau
    d = l1_cells(n, mu)
    assert (t[d == n / 4] == 0).all() and (t[d < n / 4] > 0).all() and (t[d > n / 4] < 0).all()
    # the same diamond as the code's mask with β_f = β (n − 1)/(2n)
    torch.testing.assert_close(t / tau, one_mask(n, mu, filter_beta_from_paper(4.0, n)),
                               rtol=0, atol=1e-12)
    assert (negative_template(n) == -tau).all()
    priors = template_priors(n)  # α = n²/(1+n²): uniform over the n² + 1 templates
    torch.testing.assert_close(priors, torch.full((n * n + 1,), 1 / (n * n + 1), dtype=torch.float64))


def test_peak_positions_argmax_and_rounded_centroid():
    x = torch.zeros(1, 2, 5, 5)
    x[0, 0, 1, 3], x[0, 0, 4, 0] = 2.0, 1.0
    x[0, 1, 2, 1], x[0, 1, 2, 2] = 1.0, 1.0
    rows, cols = peak_positions(x, "argmax")
    assert rows.tolist() == [[1, 2]] and cols.tolist() == [[3, 1]]
    rows, cols = peak_positions(x, "centroid")  # (2, 2) and (2, 1.5 → 2)
    assert rows.tolist() == [[2, 2]] and cols.tolist() == [[2, 2]]


# ---- the masked forward (spec §2.2) ----------------------------------------------------

def test_masked_forward_passes_no_gradient_through_the_mask():
    torch.manual_seed(0)
    layer = InterpretableConv(3, config=InterpretableConfig(mu="argmax")).double().train()
    x = torch.rand(2, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    (layer(x) * weights).sum().backward()
    maps = layer.last
    flat = x.detach().flatten(2).argmax(2)
    assert torch.equal(maps.rows * 6 + maps.cols, flat)  # mask centred on μ̂ = argmax
    expected = weights * maps.mask * (x.detach() * maps.mask > 0)  # d relu(x∘M)/dx with M constant
    torch.testing.assert_close(x.grad, expected, rtol=0, atol=1e-14)
    assert list(layer.parameters()) == []  # β is a buffer, moved by its rule only


# ---- the surrogate vs the injected gradient (spec §2.5) ---------------------------------

def injected_gradient(x, mask, positives, w_pos, w_neg, strength, a=0.5):
    """§2.5 steps 1 and 4 written out per map: the gradient the released code adds to x."""
    batch, channels = x.shape[:2]
    dx = torch.zeros_like(x)
    for c in range(channels):
        s = [float((x[b, c] * mask[b, c]).mean()) for b in range(batch)]
        s_neg = [float(x[b, c].mean()) for b in range(batch)]
        mismatched = [float((x[b, c] * mask[batch - 1 - b, channels - 1 - c]).mean()) for b in range(batch)]
        log_z_pos = a * math.log(sum(math.exp(v / a) for v in mismatched) / batch)
        log_z_neg = a * math.log(sum(math.exp(-v / a) for v in s_neg) / batch)
        pos = [b for b in range(batch) if positives[b, c]]
        neg = [b for b in range(batch) if not positives[b, c]]
        g = {b: math.exp(s[b] / a) * (s[b] - log_z_pos + a) for b in pos}
        h = {b: math.exp(-s_neg[b] / a) * (-s_neg[b] - log_z_neg + a) for b in neg}
        for b in pos:
            dx[b, c] -= strength * w_pos[c] * g[b] / (sum(g.values()) / len(pos)) * mask[b, c]
        for b in neg:
            dx[b, c] += strength * w_neg[c] * h[b] / (sum(h.values()) / len(neg))
    return dx


def test_surrogate_gradient_equals_the_injected_gradient():
    torch.manual_seed(1)
    config = InterpretableConfig(reduction="sum")
    layer = InterpretableConv(5, categories=3, config=config).double().train()
    layer.category_table.copy_(torch.eye(3, dtype=torch.float64)[[0, 1, 2, 1, 0]])  # filter → category
    layer.set_density([0.2, 0.3, 0.5])
    layer.beta.copy_(torch.tensor([1.5, 2.0, 2.5, 3.0, 1.8]))
    x = torch.rand(6, 5, 4, 4, dtype=torch.float64, requires_grad=True)
    targets = category_targets(torch.tensor([0, 1, 2, 0, 1, 2]), (0, 1, 2))
    layer(x)
    loss = layer.filter_loss(targets, epoch=2, update=False)
    (grad,) = torch.autograd.grad(loss, x)
    filters = torch.tensor([0, 1, 2, 1, 0])
    density = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)[filters]
    expected = injected_gradient(x.detach(), layer.last.mask, targets[:, filters], 0.5 / density,
                                 0.5 / (1 - density), kappa(2))
    assert expected.abs().max() > 0
    torch.testing.assert_close(grad, expected, rtol=1e-12, atol=1e-20)
    mean_layer = InterpretableConv(5, 3, InterpretableConfig()).double().train()
    mean_layer.load_state_dict(layer.state_dict())
    mean_layer(x)  # 'mean' reduction: the same divided by the batch, as cross-entropy averages
    (mean_grad,) = torch.autograd.grad(mean_layer.filter_loss(targets, 2, update=False), x)
    torch.testing.assert_close(mean_grad, expected / 6, rtol=1e-12, atol=1e-20)


def test_running_normaliser_averages_the_own_mask_fitness_over_batches():
    layer = InterpretableConv(2, config=InterpretableConfig(normaliser="running")).double().train()
    targets = category_targets(torch.tensor([1, 0, 1]), (1,))
    seen = []
    for seed in (4, 5):
        x = torch.rand(3, 2, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
        layer(x)
        fitness = (x * layer.last.mask).mean((2, 3)) / 0.5  # s/a per image and filter
        seen.append(fitness.exp().mean(0))
        layer.filter_loss(targets, epoch=1)
    expected = (0.9 * seen[0] + 0.1 * seen[1]).log()  # the running mean of e^{s/a}, in logs
    torch.testing.assert_close(layer.running_log_z[0], expected, rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="categories 1"):
        layer.filter_loss(category_targets(torch.tensor([1, 0, 1]), (0, 1)), epoch=1)


def test_kappa_decays_as_one_over_the_epoch():
    assert kappa(1) == pytest.approx(1e-6) and kappa(4) == pytest.approx(2.5e-7)
    with pytest.raises(ValueError):
        kappa(0)


# ---- the exact objective (spec §2.4) ---------------------------------------------------

def tiny_filter_maps(n: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """8 maps of one warmed-up filter: 4 of its category peak at one cell each, 4 others are dim."""
    torch.manual_seed(2)
    maps = 0.05 * torch.rand(8, n, n, dtype=torch.float64)
    for b, (i, j) in enumerate([(0, 0), (1, 2), (3, 3), (2, 1)]):
        maps[b, i, j] += 3.0
    return maps, torch.arange(8) < 4


def test_exact_neg_mi_is_zero_for_identical_maps():
    templates = torch.cat([paper_templates(4), negative_template(4)[None]])
    loss = neg_mutual_information(torch.ones(8, 4, 4, dtype=torch.float64), templates, template_priors(4))
    assert abs(float(loss)) < 1e-15  # p(x|T) = 1/N for every T: no information


@pytest.mark.parametrize("tau", [None, 1.0])
def test_exact_neg_mi_gradient_by_finite_differences_and_the_practical_gradient(tau):
    n = 4
    templates = torch.cat([paper_templates(n, tau=tau), negative_template(n, tau=tau)[None]])
    priors = template_priors(n)
    maps, positive = tiny_filter_maps(n)
    x = maps.clone().requires_grad_(True)
    (exact,) = torch.autograd.grad(neg_mutual_information(x, templates, priors), x)
    # central differences at the four peaks and 16 other cells (each evaluation is one −MI)
    peaks = maps.flatten(1).argmax(1)[:4] + torch.arange(4) * n * n
    cells = torch.cat([peaks, torch.randperm(maps.numel(), generator=torch.Generator().manual_seed(0))[:16]])
    step, numeric = 1e-5, []
    for k in cells.tolist():
        bump = torch.zeros(maps.numel(), dtype=torch.float64)
        bump[k] = step
        up, down = (neg_mutual_information(maps + s * bump.view_as(maps), templates, priors) for s in (1, -1))
        numeric.append(float(up - down) / (2 * step))
    torch.testing.assert_close(exact.view(-1)[cells], torch.tensor(numeric, dtype=torch.float64),
                               rtol=1e-5, atol=1e-7 * float(exact.abs().max()))
    target = torch.where(positive, maps.flatten(1).argmax(1), torch.full((8,), n * n))  # T̂
    practical = practical_gradient(maps, target, templates, priors)
    cosine = (exact * practical).sum() / (exact.norm() * practical.norm())
    assert cosine > 0.5


# ---- β (spec §2.5 step 6, §2.11) ------------------------------------------------------

@pytest.mark.parametrize("mu", ["argmax", "centroid"])
def test_beta_stays_finite_and_in_bounds_when_a_filter_goes_silent(mu):
    layer = InterpretableConv(3, config=InterpretableConfig(mu=mu)).train()
    targets = category_targets(torch.tensor([1, 1, 0, 0]), (1,))
    for epoch in range(1, 21):
        x = torch.zeros(4, 3, 5, 5, requires_grad=True)  # every filter silent
        layer(x)
        loss = layer.filter_loss(targets, epoch)
        (grad,) = torch.autograd.grad(loss, x)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert torch.equal(layer.beta, torch.full((3,), 2.0))  # nothing to learn from: β kept


def test_beta_relaxes_to_its_clipped_target_and_never_leaves_the_bounds():
    layer = InterpretableConv(2).train()
    targets = category_targets(torch.tensor([1, 1, 1, 0]), (1,))
    x = torch.zeros(4, 2, 6, 6)
    x[:, 0, 2, 3] = 1.0           # filter 0: one hot cell, σ = 0 → target 3/0 clipped to 3
    x[:, 1] = torch.rand(4, 6, 6)  # filter 1: diffuse, σ large → target clipped to 1.5
    for epoch in range(1, 200):
        layer(x)
        layer.filter_loss(targets, epoch)
        assert torch.isfinite(layer.beta).all()
        assert (layer.beta >= 1.5).all() and (layer.beta <= 3.0).all()
    torch.testing.assert_close(layer.beta, torch.tensor([3.0, 1.5]), rtol=0, atol=1e-3)


def test_beta_target_skips_zero_weight_and_sign_changing_strengths():
    strength = torch.tensor([[0.0, 1.0, -1.0], [0.0, -1.0, -2.0]])
    sigma = torch.tensor([[1.0, 1.0, 1.2], [1.0, 2.0, 1.2]])
    target, updatable = beta_targets(strength, sigma, torch.ones(2, 3, dtype=torch.bool), (1.5, 3.0))
    assert updatable.tolist() == [False, False, True]  # 0/0; weight 0 from ±1; all-negative is a mean
    assert float(target[2]) == pytest.approx(3 / 1.2)


# ---- filter → category (spec §2.5 step 2) -----------------------------------------------

def test_filters_are_assigned_to_the_category_they_fire_on():
    layer = InterpretableConv(3, categories=2).train()
    labels = torch.tensor([0, 0, 1, 1])
    x = torch.zeros(4, 3, 5, 5)
    x[labels == 1, 0, 1, 1] = 2.0  # filter 0 fires on category 1
    x[labels == 0, 1, 3, 3] = 1.5  # filter 1 on category 0; filter 2 never fires
    layer(x)
    layer.filter_loss(category_targets(labels, (0, 1)), epoch=1)
    assert layer.filter_categories()[:2].tolist() == [1, 0]
    torch.testing.assert_close(layer.category_table[2], torch.tensor([0.1, 0.1]))  # first value floored
    single = InterpretableConv(3).train()
    single(x)
    single.filter_loss(category_targets(labels, (1,)), epoch=1)
    assert single.filter_categories().tolist() == [0, 0, 0]  # one category: every filter is its


# ---- the wrapped PartWorld CNN (spec §2.2) ----------------------------------------------

def test_wrapped_partworld_cnn_runs_on_96_pixels_and_lists_its_interpretable_layers():
    torch.manual_seed(3)
    model = build(num_classes=2)
    assert {"conv5_masked", "conv6", "conv6_masked"} <= set(model.layer_names)
    assert model.default_layer == "conv6_masked"
    images = torch.rand(2, 3, 96, 96)
    model.train()
    logits = model(images)
    loss = model.filter_loss(category_targets(torch.tensor([1, 0]), (1,)), epoch=1)
    assert logits.shape == (2, 2) and torch.isfinite(loss)
    (logits.sum() + loss).backward()
    assert model.conv1[0].weight.grad is not None
    model.eval()
    with torch.no_grad():
        maps = forward_to(model, images, ["conv6_masked"])["conv6_masked"]
    assert maps.shape == (2, 64, 12, 12) and (maps >= 0).all()
    grid = unit_grid(model, "conv6_masked", 96)
    assert (grid.centre, grid.stride, grid.walked) == (3.5, 8.0, True)  # as conv5's


def test_from_base_keeps_the_trained_convs_and_starts_the_new_layers_fresh():
    base = PartWorldCNN(num_classes=3, widths=(4, 4, 8, 8, 8))
    model = InterpretablePartWorldCNN.from_base(base, new_filters=6)
    for i in range(1, 6):
        assert torch.equal(getattr(model, f"conv{i}")[0].weight, getattr(base, f"conv{i}")[0].weight)
    assert model.conv6[0].weight.shape == (6, 8, 3, 3) and model.fc.out_features == 3
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 3)
