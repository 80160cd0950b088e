"""The checks that need a GPU, as one short prepared run (the device tool lends a GPU to some
tasks only, for minutes: docs of the tool library, "device").

`python -m tests.bench.device_check [--device cuda] [--images N]` prints JSON, measured in one run:
- explanatory_graph: mining conv3-conv5 of the demo CNN on N PartWorld images (2 EM iterations)
  on the device and on the CPU (issue: explanatory graph §1, "runs on CUDA when present"): the
  seconds of each, the largest difference of any node's position (map units) and of any score
  (relative to the largest), and each metric on both;
- information: issue 3's speed goals on the device, with the information benchmark's own
  measures: one GPE step over a bare forward+backward (goal ≤ 1.2) and four layers optimised
  together against one after another (goal ≥ 2×); absolute seconds mean something here.
With `--device cpu` it runs the same code on the CPU twice (what the test suite does, small).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from engine.analysis import AnalysisRequest, execute
from engine.data import load_data
from engine.jobs import Progress
from engine.methods.information.config import InformationConfig
from engine.models import load_model
from tests.bench import information

GRAPH_LAYERS = ["conv3", "conv4", "conv5"]


def mined(device: str, images: int):
    request = AnalysisRequest("explanatory-graph", "demo:partworld-cnn", f"demo:partworld?n={images}&seed=1",
                              GRAPH_LAYERS, {"iterations": "2"}, device=device)
    started = time.perf_counter()
    record = execute(request, Progress())
    return record, time.perf_counter() - started


def graph_agreement(device: str, images: int) -> dict:
    (on_device, device_s), (on_cpu, cpu_s) = mined(device, images), mined("cpu", images)
    position = max(float(np.abs(on_device.arrays[f"positions/{l}"] - on_cpu.arrays[f"positions/{l}"]).max())
                   for l in GRAPH_LAYERS)
    score = max(float(np.abs(on_device.arrays[f"scores/{l}"] - on_cpu.arrays[f"scores/{l}"]).max()
                      / max(float(np.abs(on_cpu.arrays[f"scores/{l}"]).max()), 1e-12)) for l in GRAPH_LAYERS)
    return {"images": images, "device_s": round(device_s, 2), "cpu_s": round(cpu_s, 2),
            "cpu_over_device": round(cpu_s / device_s, 2), "max_position_difference_units": position,
            "max_relative_score_difference": score,
            "metrics": {name: [on_device.metrics[name], on_cpu.metrics[name]] for name in sorted(on_cpu.metrics)}}


def information_speed(device: str) -> dict:
    model = load_model("demo:partworld-cnn", device=device)
    images = model.prepare(load_data("demo:partworld?n=2&seed=3").images)
    config = InformationConfig()
    out = {"device": str(model.device)}
    out.update(information.step_over_bare(model, images, config))
    out.update(information.batched_speedup(model, images, config))
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.device_check")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--images", type=int, default=64, help="images mined on each device")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("device_check: no CUDA device here (run it on the lent GPU, or with --device cpu)")
    name = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    return {"device": args.device, "device_name": name, "torch": torch.__version__,
            "explanatory_graph": graph_agreement(args.device, args.images),
            "information": information_speed(args.device)}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
