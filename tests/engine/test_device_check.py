"""The prepared GPU check (tests/bench/device_check.py) on this machine's CPU: its comparison on
records with known differences, a real run of its graph part, and its one line without CUDA."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.results import ResultRecord
from tests.bench import device_check


def _graph(shift: float, scale: float, instability: float) -> ResultRecord:
    arrays = {}
    for layer in device_check.GRAPH_LAYERS:
        arrays[f"positions/{layer}"] = np.zeros((3, 4, 2)) + np.array([0.0, shift])
        arrays[f"scores/{layer}"] = np.array([[1.0, 2.0, 4.0, 0.5]] * 3) * np.array([1.0, 1.0, scale, 1.0])
    return ResultRecord("explanatory-graph", "explanatory-graph", {}, "m", "d", 0,
                        metrics={"instability_nodes/conv3": instability}, arrays=arrays, meta={})


def test_the_comparison_reports_known_differences(monkeypatch):
    """Device side: every position 0.25 units off in y, the largest score (4) 10 % higher."""
    runs = {"cuda": (_graph(0.25, 1.1, 0.06), 1.0), "cpu": (_graph(0.0, 1.0, 0.05), 4.0)}
    monkeypatch.setattr(device_check, "mined", lambda device, images: runs[device])
    out = device_check.graph_agreement("cuda", 3)
    assert out["max_position_difference_units"] == pytest.approx(0.25)
    assert out["max_relative_score_difference"] == pytest.approx(0.1)     # 0.4 over the largest, 4
    assert out["cpu_over_device"] == 4.0 and out["metrics"] == {"instability_nodes/conv3": [0.06, 0.05]}


def test_the_graph_part_compares_two_real_minings():
    out = device_check.graph_agreement("cpu", 6)
    assert out["images"] == 6 and out["device_s"] > 0 and out["cpu_s"] > 0
    # on one CPU the two runs are the same computation: mining is deterministic in a process
    assert out["max_position_difference_units"] == 0.0 and out["max_relative_score_difference"] == 0.0
    assert out["metrics"]["nodes/conv3"] == [2176.0, 2176.0]
    assert all(a == b for a, b in out["metrics"].values())


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here")
def test_without_cuda_it_says_where_to_run_it():
    with pytest.raises(SystemExit, match="no CUDA device here"):
        device_check.main([])
