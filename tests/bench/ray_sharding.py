"""Benchmark of dataset-scale runs (issue 10 §1): `python -m tests.bench.ray_sharding` prints JSON.

The same `information` run (the demo CNN, 16 PartWorld images, four chunks) and `explanatory-graph`
run (64 images, three layers, two EM iterations) here and on a local Ray instance with as many
CPUs as this machine, in one process: `ray_over_local` is the Ray run's wall time over the local
one (< 1: Ray is faster), and `max_abs_difference` the largest difference of their entropy maps
or node positions. The Ray instance's start is timed apart (`ray_start_s`).
"""
from __future__ import annotations

import json
import logging
import os
import time

import numpy as np

from engine.analysis import AnalysisRequest, execute
from engine.jobs import Progress

RUNS = {"information": ("demo:partworld?n=16&seed=3", {"batch_size": "4", "iterations": "60"}, "entropy/conv4"),
        "explanatory-graph": ("demo:partworld?n=64&seed=3", {"iterations": "2", "batch_size": "16"},
                              "positions/conv5")}
LAYERS = {"information": ["conv4"], "explanatory-graph": ["conv3", "conv4", "conv5"]}


def timed_run(method: str, ray: str):
    data, settings, _ = RUNS[method]
    started = time.perf_counter()
    record = execute(AnalysisRequest(method, "demo:partworld-cnn", data, LAYERS[method], settings, device="cpu",
                                     ray=ray), Progress())
    return time.perf_counter() - started, record


def main() -> None:
    import ray  # noqa: PLC0415

    started = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level=logging.WARNING)
    out = {"cpus": os.cpu_count(), "ray_start_s": round(time.perf_counter() - started, 2)}
    for method, (_, _, key) in RUNS.items():
        local_s, local = timed_run(method, "")
        ray_s, sharded = timed_run(method, "auto")
        difference = float(np.nanmax(np.abs(np.asarray(local.arrays[key]) - np.asarray(sharded.arrays[key]))))
        out[method] = {"local_s": round(local_s, 2), "ray_s": round(ray_s, 2),
                       "ray_over_local": round(ray_s / local_s, 3), "max_abs_difference": difference}
    ray.shutdown()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
