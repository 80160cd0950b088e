"""Benchmark of the explanatory graph's E-step and memory (issue: explanatory graph §4).

`python -m tests.bench.explanatory_graph [--images N] [--skip-memory]` prints JSON, measured in
one run on the same maps (the demo CNN's conv3, its largest graph layer: 64 filters × 34 nodes):
- estep_speedup: E-step images per second, batched (engine) over the per-node loop of
  tests/bench/naive_graph.py (goal ≥ 20×);
- peak_rss_increase_mb: peak resident memory added by mining conv3-conv5 on N images
  (default 1,000; 2 EM iterations) in a fresh process, with the part of it that grows with
  N (the compressed maps and the per-image records); the rest is batch working memory;
- growth_mb_per_1000_images: how that peak grows from N/2 to N images, the memory each
  further 1,000 images cost (the batch working memory does not grow).
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import torch

from engine.data import load_data
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.explanatory_graph import _estep
from engine.methods.explanatory_graph.api import compute, prepare_features
from engine.methods.explanatory_graph.config import ExplanatoryGraphConfig
from engine.models import load_model
from tests.bench import naive_graph

LAYER, LAYERS = "conv3", ["conv3", "conv4", "conv5"]


def conv3_case(images: int):
    model = load_model("demo:partworld-cnn")
    data = load_data(f"demo:partworld?n={images}&seed=1")
    config = ExplanatoryGraphConfig()
    stores = prepare_features(model, data.images, [LAYER], config, Progress()).stores
    x = stores[LAYER].get(0, images)
    side = x.shape[-1]
    per_filter = math.ceil(side**2 * config.density(0, side))   # as init_layer picks it
    nodes = x.shape[1] * per_filter
    mean_pos = torch.rand(nodes, 2, generator=torch.Generator().manual_seed(0)) * (side - 1)
    window = _estep.search_window(torch.full((nodes,), config.init_delta * side), side, config)
    return x, mean_pos, per_filter, window, config


def estep_speedup(images: int) -> dict:
    x, mean_pos, per_filter, window, config = conv3_case(images)
    prior = _estep.top_prior(len(x), len(mean_pos), x.shape[-1], config)
    started = time.perf_counter()
    for start in range(0, len(x), config.batch_size):
        part = slice(start, start + config.batch_size)
        _estep.e_step(x[part], mean_pos, per_filter, window,
                      _estep.Prior(prior.shift[part], prior.spread[part], prior.weight[part]), config)
    batched = len(x) / (time.perf_counter() - started)
    looped_images = 2
    started = time.perf_counter()
    for i in range(looped_images):
        naive_graph.e_step_image(x[i].double().numpy(), mean_pos.double().numpy(), per_filter,
                                 window.half.numpy(), window.offsets.double().numpy(),
                                 prior.shift[i].double().numpy(), prior.spread[i].double().numpy(),
                                 prior.weight[i].double().numpy(), config.map_delta * x.shape[-1],
                                 config.valid_tau)
    looped = looped_images / (time.perf_counter() - started)
    return {"layer": LAYER, "nodes": len(mean_pos), "batched_images_per_s": round(batched, 2),
            "per_node_loop_images_per_s": round(looped, 4), "estep_speedup": round(batched / looped, 1),
            "goal_speedup": 20}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mining_memory(images: int) -> dict:
    """Run in a fresh process: the memory mining adds over the loaded model and data."""
    model = load_model("demo:partworld-cnn")
    data = load_data(f"demo:partworld?n={images}&seed=1")
    before = peak_rss_mb()
    result = compute(MethodInputs(model, data, LAYERS, 0), ExplanatoryGraphConfig(iterations=2), Progress())
    added = peak_rss_mb() - before
    record_bytes = sum(t.numel() * t.element_size() for r in result.records.values()
                       for t in (r.positions, r.scores, r.best))
    map_bytes = sum(n.channels * n.side**2 + n.channels * 4 for n in result.graph.values()) * images
    return {"images": images, "peak_rss_increase_mb": round(added, 1),
            "compressed_maps_mb": round(map_bytes / 2**20, 1), "records_mb": round(record_bytes / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000, help="images mined for the memory figure")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_only:
        print(json.dumps(mining_memory(args.images)))
        return
    out = {"device": "cpu", "threads": torch.get_num_threads(), **estep_speedup(64)}
    if not args.skip_memory:
        half, full = (memory_in_fresh_process(n) for n in (args.images // 2, args.images))
        growth = (full["peak_rss_increase_mb"] - half["peak_rss_increase_mb"]) / (full["images"] - half["images"])
        out.update(full, peak_rss_increase_mb_half=half["peak_rss_increase_mb"],
                   growth_mb_per_1000_images=round(1000 * growth, 1))
    print(json.dumps(out, indent=2))


def memory_in_fresh_process(images: int) -> dict:
    child = subprocess.run([sys.executable, "-m", "tests.bench.explanatory_graph", "--memory-only",
                            "--images", str(images)], capture_output=True, text=True, check=True)
    return json.loads(child.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
