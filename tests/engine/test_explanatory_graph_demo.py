"""The explanatory graph's goals on PartWorld with the demo CNN (issue 4 §2): measured, not forced.

The done-when runs: a graph mined on `demo:partworld?n=300` at conv3, conv4, conv5 with the
default settings (object crops, 20 EM iterations), and 3-shot localisation of every part
on `demo:partworld?n=60&seed=7`. A goal that misses is recorded as xfail with its numbers.
"""
from __future__ import annotations

import numpy as np
import pytest

from engine.analysis import AnalysisRequest, execute
from engine.jobs import Progress
from engine.methods.part_localization.result import PartLocalizationResult
from engine.results import save_result

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]  # the mining fixture takes minutes

LAYERS = ["conv3", "conv4", "conv5"]
# what the done-when runs gave when these tests were written (crop=object), on data seed 0 (the
# run tested here) and on seed 1 (mining seed 1 too): the purity goal holds over the layers but
# not at conv4, and only just on seed 1 (1.50); the localisation goal misses on both
MEASURED = {"instability_ratio": {"conv3": (0.36, 0.41), "conv4": (0.49, 0.49), "conv5": (0.32, 0.38)},
            "purity_ratio": {"conv3": (1.82, 1.63), "conv4": (1.09, 1.19), "conv5": (1.99, 1.79),
                             "over_layers": (1.63, 1.50)},
            "localisation": {"graph": (0.0945, 0.0958), "filter_peak": (0.1078, 0.1110),
                             "nearest_neighbour": (0.1783, 0.1728), "shot_mean": (0.0978, 0.0978)},
            # with --set consensus=median (§1.7's weighted median; session 8, seed 0): graph 0.0957,
            # filter peaks 0.0982 (0.97×): the baseline gains more from the median than the nodes do;
            # session 9, seed 0: consensus=mode (produceMap's vote map) graph 0.0937, filter peaks 0.1038
            # (0.90×); mirror=true (step_inference's pose choice) reads half the test images mirrored
            # and worsens both: mean 0.1357 / 0.1554, median 0.1385 / 0.1514, mode 0.1343 / 0.1572.
            # Had an oracle picked each image's better reading: graph 0.064 / 0.066 / 0.064 against
            # filter peaks 0.078 / 0.070 / 0.075, so not even a perfect pose choice reaches 0.6×
            # step_getResult's other numbers on seed 0 (session 7): detection (IoU ≥ 0.5), centre in box
            "localisation_rates": {"graph": (0.523, 0.708), "filter_peak": (0.435, 0.630),
                                   "nearest_neighbour": (0.477, 0.579)}}


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    request = AnalysisRequest("explanatory-graph", "demo:partworld-cnn", "demo:partworld?n=300", LAYERS,
                              device="cpu")
    record = execute(request, Progress())
    return record, save_result(record, tmp_path_factory.mktemp("graph") / "G")


def _ratios(metrics, name):
    return {l: metrics[f"{name}_nodes/{l}"] / metrics[f"{name}_filters/{l}"] for l in LAYERS}


def test_nodes_move_with_their_part_less_than_raw_filters_do(graph):
    """Location instability of the top nodes ≤ 0.7 × that of the raw filters, at every layer."""
    ratios = _ratios(graph[0].metrics, "instability")
    assert all(r <= 0.7 for r in ratios.values()), ratios


def test_nodes_are_purer_than_raw_filters(graph):
    """Purity (the share of top positions on the majority part) ≥ 1.5 × the raw filters', over
    the graph's layers, as the paper reports one figure a network; per layer it is recorded."""
    metrics = graph[0].metrics
    nodes = np.mean([metrics[f"purity_nodes/{l}"] for l in LAYERS])
    filters = np.mean([metrics[f"purity_filters/{l}"] for l in LAYERS])
    assert nodes >= 1.5 * filters, (_ratios(metrics, "purity"), MEASURED["purity_ratio"])


@pytest.fixture(scope="module")
def localisation(graph):
    request = AnalysisRequest("part-localization", "demo:partworld-cnn", "demo:partworld?n=60&seed=7",
                              settings={"graph": str(graph[1]), "shots": "3"}, device="cpu")
    return execute(request, Progress())


def test_three_shot_localisation_against_the_best_baseline(localisation):
    """Goal: normalized distance ≤ 0.6 × the best baseline's. Missed when written (see MEASURED);
    the next test shows where the error is."""
    metrics = localisation.metrics
    assert metrics["shots"] == 3 and metrics["parts"] == 24
    best = min(metrics["distance_filter_peak"], metrics["distance_nearest_neighbour"])
    names = ("distance", "distance_filter_peak", "distance_nearest_neighbour", "distance_shot_mean")
    assert all(0 < metrics[n] < 0.3 for n in names)
    if metrics["distance"] > 0.6 * best:
        pytest.xfail(f"3-shot distance {metrics['distance']:.4f} > 0.6 × best baseline {best:.4f} "
                     f"(when written: {MEASURED['localisation']})")


# PartWorld draws cars and animals facing left or right; which way, the landmarks tell
FACING = {"car": ("car/wheel_front", "car/wheel_back"), "animal": ("animal/head", "animal/tail")}


def _facing(tasks: dict, front: str, back: str):
    """Per test image of `front`'s task: +1 facing right (front right of back), −1 left; and the
    shots' majority facing."""
    f, b = tasks[front], tasks[back]
    assert np.array_equal(f.test, b.test) and np.array_equal(f.annotated, b.annotated)
    return np.sign(f.truth[:, 0] - b.truth[:, 0]), np.sign(np.sign(f.targets[:, 0] - b.targets[:, 0]).sum())


def test_the_localisation_error_is_the_mirror_ambiguity(localisation):
    """Measured where the 3-shot error lies: on cars and animals facing against the shots'
    majority, the nodes' votes land on the mirrored side. When written, over those 9 parts:
    0.103 on the 11 test images facing with the shots, 0.236 on the 7 against (filter peaks
    0.123 / 0.215). Over all 24 parts, an oracle picking each test image's better orientation
    (the votes on the image or on its mirror) gave 0.064; the nodes' own scores picking it gave
    0.139: they fire alike on a part and on its mirror image. The reference's own choice
    (`--set mirror=true`: the readings' vote agreement plus log scores) gave 0.136."""
    result = PartLocalizationResult.from_record(localisation)
    tasks = {t.part: t for t in result.tasks}
    with_shots, against = [], []
    for name, (front, back) in FACING.items():
        facing, shots = _facing(tasks, front, back)
        for part in (p for p in tasks if p.startswith(name + "/")):
            distance = tasks[part].distances("graph", result.diagonal)
            with_shots.append(distance[facing == shots].mean())
            against.append(distance[facing == -shots].mean())
    assert np.mean(against) > 1.5 * np.mean(with_shots), (np.mean(with_shots), np.mean(against))
