"""Concept contributions (spec: concepts-bias-trees §3): planted performers built on a known
concept model on generated PartWorld faces.

(1) ŷ = Σ w_i·y_i(I) + c exactly: in standardised units the true α is w_i·std_i/std(ŷ) on every
image, so the mean α must rank as w_i·std_i and the residual vanish. (2) the same plus a
feature no concept sees (the mean brightness of the top-left corner, as large as the concept
part): the held-out unexplained share must be clearly larger.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from engine.data import load_data
from engine.errors import BadInput
from engine.jobs import Progress
from engine.methods import METHODS, MethodInputs
from engine.methods.concepts._scores import Scores, prior_weights
from engine.methods.concepts.config import ConceptsConfig
from engine.models import LoadedModel
from engine.models.partworld_cnn import PartWorldCNN

WEIGHTS = np.array([2.0, -1.0, 0.5, -2.5, 1.5], np.float32)  # planted, two negative
NAMES = [f"c{i}" for i in range(len(WEIGHTS))]
CORNER = 8  # side of the corner whose brightness is the hidden feature


class Planted(nn.Module):
    """ŷ = Σ w_i·y_i + c + v·(corner brightness); with `own`, the concepts are outputs 1… too."""

    def __init__(self, concepts: nn.Module, hidden: float, own: bool) -> None:
        super().__init__()
        self.concepts, self.hidden, self.own = concepts, hidden, own
        self.register_buffer("weights", torch.from_numpy(WEIGHTS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.concepts(x)
        corner = x[:, :, :CORNER, :CORNER].mean((1, 2, 3))
        yhat = ((y * self.weights).sum(1) + 0.3 + self.hidden * corner)[:, None]
        return torch.cat([yhat, y], 1) if self.own else yhat


@pytest.fixture(scope="module")
def faces():
    return load_data("demo:partworld?family=faces&n=64&seed=1&size=48")


@pytest.fixture(scope="module")
def concept_net():
    torch.manual_seed(0)
    return PartWorldCNN(num_classes=len(WEIGHTS), widths=(8, 8, 8, 8, 8)).eval()


def hidden_scale(concept_net, faces) -> float:
    """v so that the hidden term's std over the data equals the concept part's."""
    x = torch.as_tensor(faces.images)
    with torch.no_grad():
        concept_part = (concept_net(x).numpy() * WEIGHTS).sum(1).std()
    return float(concept_part / faces.images[:, :, :CORNER, :CORNER].mean((1, 2, 3)).std())


def run(performer, faces, model2=None, **settings):
    return METHODS["concepts"].compute(MethodInputs(performer, faces, [], 0, model2),
                                       ConceptsConfig(**settings), Progress())


@pytest.mark.slow
def test_a_planted_weighted_sum_is_recovered_and_fully_explained(concept_net, faces):
    performer = LoadedModel(Planted(concept_net, 0.0, own=True).eval(), "test:planted", "test", ["planted", *NAMES])
    result = run(performer, faces)                        # the performer's own other outputs as concepts
    assert (result.target, result.concept_names) == ("planted", NAMES)
    truth = WEIGHTS * result.concept_std / result.yhat_scale[1]   # α in standardised units
    assert spearmanr(result.alpha.mean(0), truth).statistic >= 0.9
    np.testing.assert_allclose(result.prior.mean(0), truth, rtol=0.05)   # ∇ŷ = Σ w_i ∇y_i exactly
    m = result.metrics()
    assert 1 - m["explained_share"] < 0.02 and m["relative_deviation"] < 0.02   # held out
    assert m["prior_r2"] > 0.99


@pytest.mark.slow
def test_a_hidden_feature_leaves_a_clearly_larger_unexplained_share(concept_net, faces):
    concepts = LoadedModel(concept_net, "test:concepts", "test", NAMES)
    clean, hidden = (run(LoadedModel(Planted(concept_net, v, own=False).eval(), "test:p", "test", ["p"]),
                         faces, concepts).metrics() for v in (0.0, hidden_scale(concept_net, faces)))
    assert 1 - hidden["explained_share"] > 0.05
    assert 1 - hidden["explained_share"] > 5 * (1 - clean["explained_share"])
    assert hidden["relative_deviation"] > 5 * clean["relative_deviation"]


def test_the_prior_projection_recovers_planted_gradient_weights_in_standardised_units():
    """∇ŷ = Σ w_i ∇y_i on every image: w comes back, times std_i / std(ŷ) (§3.2 step 3), with R² 1;
    a gradient orthogonal to every ∇y_i gives w = 0 and R² 0."""
    rng = np.random.default_rng(0)
    g = rng.normal(size=(10, 3, 50))                      # 10 images, 3 concepts, 50 input values
    w = rng.normal(size=(10, 3))
    g_hat = np.einsum("bi,bid->bd", w, g)
    scores = Scores(np.zeros(10), np.zeros((10, 3)), g @ g.transpose(0, 2, 1), np.einsum("bid,bd->bi", g, g_hat),
                    (g_hat**2).sum(1))
    std, yhat_std = np.array([2.0, 0.5, 3.0]), 4.0
    prior, r2 = prior_weights(scores, std, yhat_std, ridge=1e-9)
    np.testing.assert_allclose(prior, w * std / yhat_std, rtol=1e-5)
    np.testing.assert_allclose(r2, 1.0, atol=1e-6)
    orthogonal = Scores(*(np.zeros_like(a) if k == 3 else a for k, a in enumerate(scores.__dict__.values())))
    prior, r2 = prior_weights(orthogonal, std, yhat_std, ridge=1e-9)
    np.testing.assert_allclose(prior, 0.0, atol=1e-12)
    np.testing.assert_allclose(r2, 0.0, atol=1e-9)


@pytest.mark.parametrize("settings, model2, message", [
    ({"target": "nose"}, False, "target 'nose' is not an output"),
    ({"concepts": ("c1", "zz")}, True, "concepts zz are not --model2's outputs"),
    ({"concepts": ("planted",)}, False, "other than planted"),
    ({"held_out": 1.0}, False, "held_out=1.0"),
])
def test_bad_settings_say_what_is_wrong(concept_net, faces, settings, model2, message):
    performer = LoadedModel(Planted(concept_net, 0.0, own=True).eval(), "test:planted", "test", ["planted", *NAMES])
    concepts = LoadedModel(concept_net, "test:concepts", "test", NAMES) if model2 else None
    with pytest.raises(BadInput, match=message):
        run(performer, faces, concepts, **settings)


def test_a_single_output_needs_concept_predictors(concept_net, faces):
    performer = LoadedModel(Planted(concept_net, 0.0, own=False).eval(), "test:p", "test", ["p"])
    with pytest.raises(BadInput, match="no output besides p"):
        run(performer, faces)
