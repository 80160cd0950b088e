"""The prepared GPU check (tests/bench/device_check.py) on this machine's CPU: its graph part runs
the same mining twice and compares them; without CUDA it says so in one line."""
from __future__ import annotations

import pytest
import torch

from tests.bench import device_check


def test_the_graph_part_compares_two_minings_of_the_same_images():
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
