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
                             "nearest_neighbour": (0.1783, 0.1728), "shot_mean": (0.0978, 0.0978)}}


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


def test_three_shot_localisation_against_the_best_baseline(graph):
    """Goal: normalized distance ≤ 0.6 × the best baseline's. Missed when written (see MEASURED):
    the kept nodes are mostly strong ones that barely move, so the vote is near the shots' mean."""
    request = AnalysisRequest("part-localization", "demo:partworld-cnn", "demo:partworld?n=60&seed=7",
                              settings={"graph": str(graph[1]), "shots": "3"}, device="cpu")
    metrics = execute(request, Progress()).metrics
    assert metrics["shots"] == 3 and metrics["parts"] == 24
    best = min(metrics["distance_filter_peak"], metrics["distance_nearest_neighbour"])
    names = ("distance", "distance_filter_peak", "distance_nearest_neighbour", "distance_shot_mean")
    assert all(0 < metrics[n] < 0.3 for n in names)
    if metrics["distance"] > 0.6 * best:
        pytest.xfail(f"3-shot distance {metrics['distance']:.4f} > 0.6 × best baseline {best:.4f} "
                     f"(when written: {MEASURED['localisation']})")
