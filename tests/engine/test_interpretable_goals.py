"""The interpretable CNN's goals on PartWorld (issue 5 §3): measured, not forced.

Both demo models (`demo:partworld-icnn` at its interpretable layer conv6_masked, its ordinary
twin `demo:partworld-cnn6` at conv6, each at its default layer) with the default settings of
`location-instability` and `part-interpretability`, in one run each (`--model2`, side by side).

Data: the done-when's `demo:partworld?n=300` (seed 0) and, held out, seed 2. Both models were
trained on `demo:partworld?n=1500&seed=0` (validated on seed 1; see
resources/demo/partworld-icnn/model.json), and PartWorld draws image i from (seed, i) alone,
so the done-when's 300 images are the first 300 training images; seed 2 was never seen.
A goal that misses is recorded as xfail with its numbers.
"""
from __future__ import annotations

import pytest

from engine.analysis import AnalysisRequest, execute
from engine.jobs import Progress
from engine.models.training import TrainConfig, train

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # about 20 s a data set on two cores

ICNN, ICNN_LAYER = "demo:partworld-icnn", "conv6_masked"
CNN, CNN_LAYER = "demo:partworld-cnn6", "conv6"
DONE_WHEN, HELD_OUT = "demo:partworld?n=300", "demo:partworld?n=300&seed=2"
# what these runs gave (interpretable, ordinary) on each data set, the ICNN trained with the
# released code's μ̂ (rounded centroid) and κ mag 0.1; the instability goal holds on both, the
# interpretability gain on seed 0 only. Before session 6 (the paper's arg-max, our κ mag 10):
# instability ratios 1.046 / 1.082, gains +0.071 / +0.045 (resources/README.md has all four).
# Pairs trained from seeds 1 and 2 gave ratios 0.516 / 0.504 and 0.492 / 0.477, gains +0.149 /
# +0.124 and +0.155 / +0.135: the unseen gain misses for every training seed (one test below)
MEASURED = {DONE_WHEN: {"instability": (0.0585, 0.1138), "instability_ratio": 0.514,
                        "interpretability": (0.2534, 0.0990), "interpretability_gain": 0.1544,
                        "accuracy": (1.0, 1.0)},
            HELD_OUT: {"instability": (0.0542, 0.1056), "instability_ratio": 0.513,
                       "interpretability": (0.2479, 0.1016), "interpretability_gain": 0.1464,
                       "accuracy": (1.0, 0.9933)}}


@pytest.fixture(scope="module", params=[DONE_WHEN, HELD_OUT], ids=["done-when-seed0", "held-out-seed2"])
def measured(request):
    def run(method):
        return execute(AnalysisRequest(method, ICNN, request.param, device="cpu", model2=CNN), Progress()).metrics

    return request.param, {**run("location-instability"), **run("part-interpretability")}


def test_both_models_are_measured_at_their_default_layers(measured):
    _, m = measured
    for name in ("instability", "interpretability"):
        assert 0 < m[f"{name}/{ICNN_LAYER}"] < 1 and 0 < m[f"{name}_model2/{CNN_LAYER}"] < 1
    assert m["accuracy"] >= 0.95 and m["accuracy_model2"] >= 0.95


def test_interpretable_filters_are_steadier_on_the_landmarks(measured):
    """Location instability of the interpretable filters ≤ 0.65 × the ordinary CNN's."""
    data, m = measured
    ratio = m["instability_ratio"]
    assert ratio == pytest.approx(m[f"instability/{ICNN_LAYER}"] / m[f"instability_model2/{CNN_LAYER}"])
    if ratio > 0.65:
        pytest.xfail(f"{data}: instability {m[f'instability/{ICNN_LAYER}']:.4f} vs "
                     f"{m[f'instability_model2/{CNN_LAYER}']:.4f}, ratio {ratio:.3f} > 0.65 "
                     f"(when written: {MEASURED[data]['instability']})")


def test_interpretable_filters_cover_one_part_more_often(measured):
    """Part interpretability higher by at least 0.15."""
    data, m = measured
    gain = m["interpretability_gain"]
    assert gain == pytest.approx(m[f"interpretability/{ICNN_LAYER}"] - m[f"interpretability_model2/{CNN_LAYER}"])
    if gain < 0.15:
        pytest.xfail(f"{data}: interpretability {m[f'interpretability/{ICNN_LAYER}']:.4f} vs "
                     f"{m[f'interpretability_model2/{CNN_LAYER}']:.4f}, gain {gain:.4f} < 0.15 "
                     f"(when written: {MEASURED[data]['interpretability']})")


RETRAINED = {"seed": 1, "data": "demo:partworld?n=1500&seed=0", "epochs": 4}  # the demo pair's command
# when written, on the unseen seed 2 (resources/README.md has seeds 0-2 on both data sets); the
# same training on another machine (session 8) gave other weights: ratio 0.488, gain 0.139
RETRAINED_MEASURED = {"instability_ratio": 0.504, "interpretability_gain": 0.124}


@pytest.mark.timeout(1500)
def test_the_goals_again_for_a_pair_trained_from_another_seed(tmp_path):
    """Both models trained again as the demo pair was, from training seed 1, and measured on
    the unseen images: the instability goal holds there too; the interpretability gain is
    an xfail below +0.15 (about 1-2 minutes of training on two cores)."""
    models = {}
    for arch in ("partworld-icnn", "partworld-cnn6"):
        config = TrainConfig(epochs=RETRAINED["epochs"], seed=RETRAINED["seed"])
        train(arch, RETRAINED["data"], str(tmp_path / arch), config, Progress())
        models[arch] = f"dir:{tmp_path / arch}"
    m = {}
    for method in ("location-instability", "part-interpretability"):
        request = AnalysisRequest(method, models["partworld-icnn"], HELD_OUT, device="cpu",
                                  model2=models["partworld-cnn6"])
        m.update(execute(request, Progress()).metrics)
    assert m["instability_ratio"] <= 0.65, (m["instability_ratio"], RETRAINED_MEASURED)
    if m["interpretability_gain"] < 0.15:
        pytest.xfail(f"training seed {RETRAINED['seed']}, {HELD_OUT}: interpretability gain "
                     f"{m['interpretability_gain']:.4f} < 0.15 (when written: {RETRAINED_MEASURED})")


SINGLE = {"data": "demo:partworld?n=400&seed=0", "category": "car", "epochs": 3}
# when written (held-out accuracy on the same one-against-the-rest mix of seed 1, 70 s for both):
# the defaults (centroid, κ mag 0.1); argmax at 0.1: 0.9925; argmax at 10: 0.8969, 9.6 points
SINGLE_MEASURED = {"icnn": 0.9894, "cnn6": 0.9925}


@pytest.mark.timeout(1500)
def test_single_category_accuracy_costs_at_most_three_points(tmp_path):
    """Single-category accuracy lower by at most 3 points: both trained here, one class
    (car) against the rest as §2.6, with the default settings of `deepscope train`
    (sized to CI: 400 images, 3 epochs; about 1-2 minutes each on two cores)."""
    accuracy = {}
    for arch in ("partworld-icnn", "partworld-cnn6"):
        config = TrainConfig(epochs=SINGLE["epochs"], category=SINGLE["category"])
        described = train(arch, SINGLE["data"], str(tmp_path / arch), config, Progress())
        accuracy[arch] = described["training"]["val_accuracy"]
    icnn, cnn6 = accuracy["partworld-icnn"], accuracy["partworld-cnn6"]
    assert 0.5 < cnn6 <= 1.0 and 0.0 < icnn <= 1.0
    if cnn6 - icnn > 0.03:
        pytest.xfail(f"single-category ({SINGLE}): interpretable {icnn:.4f} vs ordinary {cnn6:.4f}, "
                     f"{100 * (cnn6 - icnn):.1f} points lower > 3 (when written: {SINGLE_MEASURED})")
