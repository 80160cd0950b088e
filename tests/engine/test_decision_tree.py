"""Known answers of `decision-tree` (spec: concepts-bias-trees §4.2)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from scipy.special import logsumexp

from engine.analysis import AnalysisRequest, execute
from engine.errors import BadInput
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.decision_tree._evaluate import jaccard
from engine.methods.decision_tree._rationale import (filter_identity_error, filter_rationale, filter_scales,
                                                     identity_error, map_rationale)
from engine.methods.decision_tree._tree import _Growth, grow
from engine.methods.decision_tree.api import compute
from engine.methods.decision_tree.config import DecisionTreeConfig
from engine.models import LoadedModel, load_model
from engine_testkit import write_icnn_dir

GROUPS, PER_GROUP, WIDTH = 3, 20, 4


def planted(seed: int = 0):
    """Filter-level (x, unit g, b, ŷ) of images in GROUPS planted modes, each g living on its own
    WIDTH filters, with an exactly linear head ŷ = gᵀx + b. x is ReLU-like (half the filters
    silent on an image): the objective pays ≈ Σ_Ω(γΔh)²/2 for a wrong merge against a gain of 1
    per mode, so a mode must hold enough images whose rationales differ enough (measured: with 8
    images a group and dense x the three groups still merge)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(GROUPS), PER_GROUP)
    proto = np.zeros((GROUPS, GROUPS * WIDTH))
    for k in range(GROUPS):
        proto[k, k * WIDTH:(k + 1) * WIDTH] = rng.uniform(0.5, 1.0, WIDTH)
    g = proto[labels] * (1 + 0.05 * rng.standard_normal((len(labels), proto.shape[1])))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    x = rng.uniform(1, 10, g.shape) * (rng.random(g.shape) < 0.5)
    bias = np.full(len(labels), 0.5)
    return x, g, bias, (g * x).sum(1) + bias, labels


@pytest.mark.xfail(strict=True, reason="measured (seed 0, 3 groups × 20): root children hold [0,6,0], [4,13,13] and "
                   "[16,1,7] images of the groups, α of the mixed modes all 12 filters. With Θ summed over the "
                   "positives only (§4.2 as the spec states it), ∂log E/∂h_I ∝ 1 − N·P_t(x_I): the objective "
                   "rewards equal h across images, not h close to ŷ, and cross-group merges gain up to 2.4 "
                   "(test_a_merge_gains_nothing_for_fit)")
def test_the_second_level_recovers_planted_groups_and_their_filters():
    x, g, bias, y, labels = planted()
    tree = grow(x, g, bias, y, DecisionTreeConfig(), Progress())
    modes = tree.children(tree.root)
    assert len(modes) == GROUPS
    found = sorted(sorted(labels[tree.leaves_under(m)].tolist()) for m in modes)
    assert found == [[k] * PER_GROUP for k in range(GROUPS)]
    for m in modes:
        group = labels[tree.leaves_under(m)[0]]
        assert np.flatnonzero(tree.alpha[m]).tolist() == list(range(group * WIDTH, (group + 1) * WIDTH))
    # an image walks down to its own group's mode (§4.2 inference)
    assert [labels[tree.leaves_under(path[0])[0]] for path in tree.paths(g)] == labels.tolist()


def log_e(growth, start: np.ndarray) -> float:
    """log E_t written out: Σ_I log[P_t(x_I)/P_0(x_I)] − ‖V_t‖ (§4.2)."""
    now, first = growth.exponent, start
    return float((now - logsumexp(now)).sum() - (first - logsumexp(first)).sum() - len(growth.active))


def test_each_merge_gains_the_incremental_delta_log_e():
    """Θ updated on Ω_u only (§4.2) gives the same Δ as log E recomputed from scratch."""
    x, g, bias, y, _ = planted()
    growth = _Growth(x, g, bias, y, DecisionTreeConfig())
    start = growth.exponent.copy()
    for _ in range(10):
        pairs = growth.candidates()
        for pair in pairs:
            growth.pairs.setdefault(pair, growth.fit(*pair))
        before, log_theta = log_e(growth, start), float(logsumexp(growth.exponent))
        gains = [growth.gain(pair, log_theta) for pair in pairs]
        growth.merge(pairs[int(np.argmax(gains))])
        assert log_e(growth, start) - before == pytest.approx(max(gains), abs=1e-9)


def test_a_merge_gains_nothing_for_fit():
    """b_u is the least-squares offset of the LASSO of §4.2, so over a merged pair of leaves
    Σ γ(h_u − ŷ) = 0 and Δlog E = 1 + N log(Θ_t/Θ_{t+1}): the objective rewards merges that
    shrink h towards its mean, however well they fit. Measured on the planted groups: every
    pair's fit term < 1e-12, gains from −0.22 to 2.42, half of the pairs above 1."""
    x, g, bias, y, labels = planted()
    growth = _Growth(x, g, bias, y, DecisionTreeConfig())
    log_theta = float(logsumexp(growth.exponent))
    across = []
    for i, j in [(i, j) for i in range(len(x)) for j in range(i + 1, len(x))]:
        growth.pairs[(i, j)] = growth.fit(i, j)
        idx, _, _, _, new = growth.pairs[(i, j)]
        assert abs(float((new - growth.exponent[idx]).sum())) < 1e-12
        kept = 1.0 - float(np.exp(growth.exponent[idx] - log_theta).sum())
        closed = 1.0 - len(x) * np.log(kept + float(np.exp(new - log_theta).sum()))
        assert growth.gain((i, j), log_theta) == pytest.approx(closed, abs=1e-12)
        if labels[i] != labels[j]:
            across.append(closed)
    assert max(across) > 1.0  # merging two groups' images pays more than the merge's +1


def test_images_sharing_one_rationale_merge_into_one_mode_on_its_filters():
    x, g, bias, y, _ = planted()
    g = np.tile(g[:1], (len(g), 1))   # every image the first group's g: one decision mode
    tree = grow(x, g, bias, (g * x).sum(1) + bias, DecisionTreeConfig(), Progress())
    modes = tree.children(tree.root)
    assert len(modes) == 1 and len(tree.leaves_under(modes[0])) == len(x)
    assert tree.leaf_counts()[[modes[0], tree.root]].tolist() == [len(x), len(x)]
    assert np.flatnonzero(tree.alpha[modes[0]]).tolist() == list(range(WIDTH))


def test_jaccard_of_identical_and_disjoint_contributions():
    rho = np.array([[1.0, 2.0, 0.0], [1.0, 0.0, -3.0]])
    assert jaccard(rho, rho).tolist() == [1.0, 1.0]
    assert jaccard(rho, np.array([[0.0, 0.0, 5.0], [0.0, 4.0, 0.0]])).tolist() == [0.0, 0.0]


@pytest.fixture(scope="module")
def icnn(tmp_path_factory):
    return load_model(f"dir:{write_icnn_dir(tmp_path_factory.mktemp('icnn'))}")


def test_the_linear_head_makes_the_identity_exact_at_both_levels(icnn, tiny_data):
    """GAP + linear: g_I = W_c/L on every unit, b_I = the fc bias, and averaging g over space
    loses nothing (§4.2 "check this first", §4.3)."""
    torch.manual_seed(0)
    fc = icnn.module.fc
    fc.bias.data.uniform_(-1, 1)
    config = DecisionTreeConfig()
    maps = map_rationale(icnn, tiny_data.images, "conv6_masked", 2, config, Progress())
    side = maps.x.shape[2] * maps.x.shape[3]
    assert identity_error(maps, config.epsilon) < 1e-6
    np.testing.assert_allclose(maps.bias, fc.bias[2].item(), atol=1e-6)
    np.testing.assert_allclose(maps.g[0, :, 0, 0], fc.weight[2].detach().numpy() / side, rtol=1e-6)
    assert filter_identity_error(filter_rationale(maps, filter_scales(maps.x)), maps) < 1e-6


def relu_head_model() -> LoadedModel:
    """conv → ReLU maps, then a ReLU MLP over the flattened maps: piecewise linear, g varies over space."""
    torch.manual_seed(1)
    module = nn.Sequential()
    module.add_module("conv", nn.Conv2d(3, 4, 5, stride=4))
    module.add_module("maps", nn.ReLU())
    module.add_module("head", nn.Sequential(nn.Flatten(), nn.Linear(4 * 7 * 7, 16), nn.ReLU(), nn.Linear(16, 5)))
    return LoadedModel(module.eval(), "test:relu-head", "test")


def test_a_relu_head_keeps_the_map_identity_and_loses_it_at_the_filter_level(tiny_data):
    """Piecewise linear: g and b of an image hold along its ray; averaging g over space breaks
    ŷ = gᵀx + b (§4.3)."""
    config = DecisionTreeConfig(epsilon=1e-4)
    maps = map_rationale(relu_head_model(), tiny_data.images, "maps", 0, config, Progress())
    assert identity_error(maps, config.epsilon) < 1e-5
    assert filter_identity_error(filter_rationale(maps, filter_scales(maps.x)), maps) > 1e-2


def test_a_category_with_one_image_is_refused(icnn, tiny_data):
    with pytest.raises(BadInput, match="at least 2"):
        compute(MethodInputs(icnn, tiny_data, ["conv6_masked"]), DecisionTreeConfig(category="house"),
                Progress())


def demo_tree_metrics(model: str) -> dict:
    return execute(AnalysisRequest("decision-tree", model, "demo:partworld?n=200", device="cpu"),
                   Progress()).metrics


@pytest.fixture(scope="module")
def demo_metrics(one_torch_thread):
    return demo_tree_metrics("demo:partworld-icnn")


@pytest.mark.slow
def test_the_demo_icnn_gives_a_faithful_tree(demo_metrics):
    m = demo_metrics
    assert m["identity_error"] < 1e-5 and m["identity_error_filter"] < 1e-5
    assert m["leaves"] == 20 and m["held_out"] == 20 and m["negatives"] == 160
    assert 1 <= m["depth"] <= m["leaves"] - 1
    assert 0.9 <= m["fidelity"] <= 1.0
    assert 0.0 <= m["prediction_error/depth1"] < 0.05 and 0.9 <= m["jaccard/depth1"] <= 1.0


@pytest.fixture(scope="module")
def fc_head_metrics(one_torch_thread):
    return demo_tree_metrics("demo:partworld-icnn-fc")


@pytest.mark.slow
def test_the_fc_head_gives_image_specific_gradients(fc_head_metrics):
    """The FC head is piecewise linear: exact on each image's ray, but its g varies over space and
    images, so the filter-level identity breaks (§4.3: report how much survives)."""
    m = fc_head_metrics
    assert m["identity_error"] < 1e-5 and m["identity_error_filter"] > 0.1
    assert m["depth"] > 1 and 0.0 <= m["fidelity"] <= 1.0


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="measured on demo:partworld?n=200 (car), 20 leaves: 1 decision mode "
                   "on both demo ICNNs. partworld-icnn (GAP + linear): g_I = W_c/L for every image, fidelity "
                   "1.0 = one node's. partworld-icnn-fc (FC head, g varies): fidelity 0.972 = one node's "
                   "0.972, depth 11, filter-level identity error 0.73 (trained with the code's centroid μ̂ and κ "
                   "mag 0.1; 0.889, 16, 0.78 with arg-max and mag 10). The merge objective has no fit term "
                   "(test_a_merge_gains_nothing_for_fit)")
def test_the_demo_tree_beats_one_node(fc_head_metrics):
    assert fc_head_metrics["modes"] > 1
    assert fc_head_metrics["fidelity"] > fc_head_metrics["fidelity_one_node"]
