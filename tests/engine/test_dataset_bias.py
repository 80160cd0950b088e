"""Dataset bias (spec: concepts-bias-trees §5; issue 8): the planted pair of a constructed net ranks
first with r = 1, the masking check's pasting and masking, bad input.

`Shared` reads three channels of a 1×1 conv (the identity) of the image: lipstick and rosy_cheeks
both read channel 0 (the red), glasses channel 1 and hat channel 2. Their ρ are then equal for the
first two (cosine 1, logits equal: r = 1) and on disjoint channels for the others (cosine 0).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from engine.data import load_data
from engine.errors import BadInput
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.dataset_bias._masking import masked, part_indices, pasted, shifted
from engine.methods.dataset_bias._relations import output_signs
from engine.methods.dataset_bias.api import compute
from engine.methods.dataset_bias.config import DatasetBiasConfig
from engine.models import LoadedModel

FACES = "demo:partworld?family=faces&n=12&seed=3&size=48"
OUTPUTS = ["lipstick", "rosy_cheeks", "glasses", "hat"]
READS = [0, 0, 1, 2]  # the channel each output reads


class Shared(nn.Module):
    layer_names = ("features", "head")
    default_layer = "features"

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 3, 1, bias=False), nn.ReLU())
        self.head = nn.Linear(3, len(READS), bias=False)
        with torch.no_grad():
            self.features[0].weight.copy_(torch.eye(3)[:, :, None, None])
            self.head.weight.copy_(torch.eye(3)[READS] * torch.tensor([1.0, 2.0, 1.0, 1.0])[:, None])

    def forward(self, x):
        return self.head(self.features(x).mean((2, 3)))


def shared_model() -> LoadedModel:
    return LoadedModel(Shared().eval(), "test:shared", "shared", list(OUTPUTS), (48, 48))


def run(config=DatasetBiasConfig(masking_images=12, batch_size=5), data=FACES, model=None):
    model = model or shared_model()
    return compute(MethodInputs(model, load_data(data), ["features"], 0), config, Progress())


def test_the_pair_reading_the_same_features_ranks_first_with_r_one():
    result = run()
    top = result.relations[0]
    assert (top["a"], top["b"]) == ("lipstick", "rosy_cheeks")
    assert top["mined"] == pytest.approx(1.0, abs=1e-5) and top["score"] == pytest.approx(1.0, abs=1e-5)
    assert max(abs(r["mined"]) for r in result.relations[1:]) < 1e-6  # disjoint channels: cosine 0
    assert np.allclose(np.diag(result.mined), 1.0, atol=1e-5)
    assert np.allclose(result.mined, result.mined.T)


def test_the_truth_lowers_the_score_of_a_stated_relation():
    result = run(DatasetBiasConfig(truth="lipstick:rosy_cheeks:+1,glasses:hat:-1", kappa=1.0, masking_images=4))
    scores = {(r["a"], r["b"]): r["score"] for r in result.relations}
    assert scores[("lipstick", "rosy_cheeks")] == pytest.approx(0.0, abs=1e-5)
    assert scores[("glasses", "hat")] == pytest.approx(1.0, abs=1e-5)  # |0 − (−1)|
    assert result.truth[3, 2] == -1 and result.difference[0, 1] == pytest.approx(0.0, abs=1e-5)


def test_the_top_pair_is_checked_both_ways_and_named_pairs_too():
    result = run(DatasetBiasConfig(check_pairs="hat:glasses", masking_images=12, batch_size=5))
    assert [c.label for c in result.checks] == ["lipstick:rosy_cheeks", "rosy_cheeks:lipstick", "hat:glasses"]
    data = load_data(FACES)
    check = result.checks[0]
    assert check.counts.tolist() == np.bincount(data.attributes[:, 0].astype(int), minlength=2).tolist()
    # lipstick reads the mean red: the original column is the group mean of it
    red = data.images[:, 0].mean((1, 2))
    with_lipstick = data.attributes[:, 0]
    assert check.table[1, 0] == pytest.approx(red[with_lipstick].mean(), rel=1e-5)
    assert check.table[0, 0] == pytest.approx(red[~with_lipstick].mean(), rel=1e-5)


def test_the_masked_column_is_the_score_of_the_masked_faces():
    """lipstick reads the mean red, so with rosy cheeks masked its logit is the masked face's mean
    red; the original column is the mining forward's logit, not a second forward."""
    result = run()
    data, check = load_data(FACES), result.checks[0]
    parts = part_indices(data, "rosy_cheeks")
    red = np.array([masked(data, i, parts)[0].mean() for i in range(len(data.images))])
    with_lipstick = data.attributes[:, 0]
    assert check.region == "rosy_cheeks"
    assert check.table[:, 2] == pytest.approx([red[~with_lipstick].mean(), red[with_lipstick].mean()], rel=1e-5)
    assert not np.allclose(check.table[:, 2], check.table[:, 0])


def test_signs_follow_the_correlation_of_the_outputs():
    y = np.array([[1.0, -1.0, 3.0, 5.0], [2.0, -2.0, 1.0, 5.0], [3.0, -3.0, 2.0, 5.0]])
    signs = output_signs(y)
    assert signs[0].tolist() == [1.0, -1.0, -1.0, 0.0]  # corr(y0, y2) < 0; y3 is constant
    assert np.array_equal(signs, signs.T)


def test_pasting_copies_the_donors_part_onto_this_faces_part():
    data = load_data(FACES)
    cheeks = [data.part_names.index("face/cheek_left"), data.part_names.index("face/cheek_right")]
    donor = int(np.flatnonzero(data.attributes[:, 1])[0])
    target = int(np.flatnonzero(~data.attributes[:, 1])[0])
    image = pasted(data, target, donor, cheeks)
    for p in cheeks:
        dx, dy = np.round(data.landmarks[target, p] - data.landmarks[donor, p]).astype(int)
        mask = shifted(data.part_masks[donor, p], dy, dx)
        assert mask.any()
        assert np.array_equal(image[:, mask], shifted(data.images[donor], dy, dx)[:, mask])
    untouched = ~np.any([shifted(data.part_masks[donor, p], *np.round(
        data.landmarks[target, p] - data.landmarks[donor, p]).astype(int)[::-1]) for p in cheeks], axis=0)
    assert np.array_equal(image[:, untouched], data.images[target][:, untouched])


def test_masking_fills_the_region_with_one_skin_colour():
    data = load_data(FACES)
    mouth = data.part_names.index("face/mouth")
    image = masked(data, 0, [mouth])
    region = data.part_masks[0, mouth]
    assert np.ptp(image[:, region], axis=1).max() == 0  # one colour
    assert not np.array_equal(image[:, region], data.images[0][:, region])
    assert np.array_equal(image[:, ~region], data.images[0][:, ~region])


def test_shifted_moves_and_pads_with_zeros():
    a = np.arange(12.0).reshape(3, 4)
    assert shifted(a, 1, -1).tolist() == [[0, 0, 0, 0], [1, 2, 3, 0], [5, 6, 7, 0]]
    assert not shifted(a, 3, 0).any()


@pytest.mark.parametrize("data, message", [
    ("demo:partworld?n=4&size=32", "lacks the faces' attributes and part masks"),
    ("demo:keywordtext?n=4", "lacks the faces' attributes and part masks"),
])
def test_other_data_is_refused(data, message):
    with pytest.raises(BadInput, match=message):
        run(data=data)


def test_more_than_one_layer_is_refused():
    with pytest.raises(BadInput, match="reads one conv layer"):
        compute(MethodInputs(shared_model(), load_data(FACES), ["features", "head"], 0), DatasetBiasConfig(),
                Progress())


def test_a_flat_layer_is_refused():
    with pytest.raises(BadInput, match="layer head gives \\(12, 4\\)"):
        compute(MethodInputs(shared_model(), load_data(FACES), ["head"], 0), DatasetBiasConfig(), Progress())


def test_a_model_without_attribute_outputs_is_refused():
    model = shared_model()
    model.class_names = ["car", "house", "animal", "flower"]
    with pytest.raises(BadInput, match="are not attributes of the data"):
        run(model=model)


@pytest.mark.parametrize("values, message", [
    ({"truth": "lipstick:rosy_cheeks:2"}, "must be a:b:\\+1"),
    ({"truth": "lipstick:beard:+1"}, "'beard' is not one of the model's outputs"),
    ({"check_pairs": "lipstick"}, "must be a:b"),
    ({"check_pairs": "lipstick:eyebrows"}, "'eyebrows' has no part region"),
    ({"check_pairs": "smile:mouth"}, "'smile' is not one of the model's outputs"),
])
def test_bad_settings_are_refused(values, message):
    with pytest.raises(BadInput, match=message):
        run(DatasetBiasConfig(**values))
