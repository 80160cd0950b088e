"""Dataset-scale runs on Ray (issue 10 §1): on a local Ray instance this test starts (loopback
only), `information` and `explanatory-graph` sharded into Ray tasks give the local run's numbers;
Cancel stops them; without Ray, or for a method that does not shard, the local engine runs and
says so."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from engine import distributed
from engine.analysis import AnalysisRequest, execute
from engine.distributed import LOCAL, RAY_EXTRA, executor_for
from engine.jobs import CancelToken, Cancelled, Progress
from engine.methods import METHODS
from engine_testkit import TINY_DATA

ray = pytest.importorskip("ray")

INFORMATION = {"grid": "4", "iterations": "4", "draws": "2", "eval_draws": "2", "judge_draws": "2",
               "eval_every": "2", "batch_size": "2"}           # 6 images: 3 chunks, 3 tasks
GRAPH = {"iterations": "2", "parents": "3", "batch_size": "2"}  # 3 E-step tasks an iteration


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield
    ray.shutdown()


def run(method: str, settings: dict, model_spec: str, where: str, messages: list):
    return execute(AnalysisRequest(method, model_spec, TINY_DATA, settings=settings, seed=5, device="cpu", ray=where),
                   Progress(lambda fraction, message: messages.append(message)))


@pytest.mark.parametrize("method, settings", [("information", INFORMATION), ("explanatory-graph", GRAPH)])
def test_a_sharded_run_gives_the_local_numbers(local_ray, model_spec, method, settings):
    local, sharded = [], []
    here, there = run(method, settings, model_spec, "", local), run(method, settings, model_spec, "auto", sharded)
    assert any("pieces back from Ray" in m for m in sharded)      # it did run on Ray
    assert not any("Ray" in m for m in local)
    assert here.arrays.keys() == there.arrays.keys()
    for name, value in here.arrays.items():
        if np.asarray(value).dtype.kind == "f":
            np.testing.assert_allclose(there.arrays[name], value, rtol=1e-4, atol=1e-6, err_msg=name)
        else:
            np.testing.assert_array_equal(there.arrays[name], value, err_msg=name)
    assert here.metrics.keys() == there.metrics.keys()
    for name, value in here.metrics.items():
        assert there.metrics[name] == pytest.approx(value, rel=1e-4, abs=1e-6, nan_ok=True), name


def test_cancel_stops_the_tasks(local_ray, model_spec):
    token = CancelToken()

    def cancel_once_sharded(fraction, message):
        if "pieces back from Ray" in message:
            token.cancel()

    with pytest.raises(Cancelled):
        execute(AnalysisRequest("information", model_spec, TINY_DATA, settings=INFORMATION, device="cpu",
                                ray="auto"), Progress(cancel_once_sharded, token))


def test_progress_moves_as_pieces_come_back(local_ray, model_spec):
    seen = []
    execute(AnalysisRequest("explanatory-graph", model_spec, TINY_DATA, settings=GRAPH, device="cpu", ray="auto"),
            Progress(lambda fraction, message: seen.append((fraction, message))))
    fractions = [f for f, _ in seen]
    assert all(a <= b for a, b in zip(fractions, fractions[1:])) and fractions[-1] == 1.0
    assert any("3 pieces back from Ray" in m for _, m in seen)


def test_without_ray_the_local_engine_runs_and_says_how_to_install(monkeypatch, caplog):
    monkeypatch.setattr(distributed, "ray_installed", lambda: False)
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        assert executor_for("auto", METHODS["information"]) is LOCAL
    assert RAY_EXTRA in caplog.text and "runs here" in caplog.text


def test_a_method_that_does_not_shard_runs_here(caplog):
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        assert executor_for("auto", METHODS["concepts"]) is LOCAL
    assert "concepts runs here: --ray shards information and explanatory-graph" in caplog.text
    assert executor_for("", METHODS["information"]) is LOCAL
