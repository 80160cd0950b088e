"""Benchmark: the `activations` method against the model's bare forward on the same images.

`python -m tests.bench.activations_overhead [--n 512]` prints JSON. The ratio (method time
/ bare forward time, measured in one run) is what to compare across machines.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from engine.analysis import AnalysisRequest, ModelCache, execute
from engine.data import load_data
from engine.jobs import Progress


def bare_forward_seconds(model, images, batch_size: int) -> float:
    started = time.perf_counter()
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            model.module(model.prepare(images[start:start + batch_size]))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--layers", default="conv1,conv2,conv3,conv4,conv5")
    args = parser.parse_args()
    data_spec = f"demo:partworld?n={args.n}&seed=2"
    cache = ModelCache()
    model = cache.get("demo:partworld-cnn", "", False, "cpu")
    images = load_data(data_spec).images
    request = AnalysisRequest("activations", "demo:partworld-cnn", data_spec, args.layers.split(","))
    execute(request, Progress(), cache)  # warm-up, data generation counted separately below
    bare = bare_forward_seconds(model, images, 32)
    data_time = time.perf_counter()
    load_data(data_spec)
    data_time = time.perf_counter() - data_time
    started = time.perf_counter()
    execute(request, Progress(), cache)
    method = time.perf_counter() - started - data_time
    print(json.dumps({"bench": "activations_overhead", "n": args.n, "layers": args.layers,
                      "device": str(model.device), "threads": torch.get_num_threads(),
                      "bare_forward_s": round(bare, 3), "method_s_excluding_data": round(method, 3),
                      "ratio_method_to_bare_forward": round(method / bare, 2)}, indent=2))


if __name__ == "__main__":
    main()
