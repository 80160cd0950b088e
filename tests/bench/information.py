"""Benchmark of the perturbation-entropy engine (issue: information discarding §5).

`python -m tests.bench.information [--skip-vgg]` prints JSON, every ratio measured in this run:
- step_over_bare: one optimisation step (S·L·B noisy inputs, truncated forward, backward to σ)
  divided by the model's bare forward+backward on the same batch (goal ≤ 1.2);
- batched_speedup: four layers optimised together against the same four one after another
  (goal ≥ 2×);
- vgg16_peak_rss_mb: peak resident memory of one step on a 224×224 VGG-16 (random weights)
  at four layers, in a fresh process (on a GPU: peak allocated CUDA memory).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time

import torch

from engine.data import load_data
from engine.jobs import Progress
from engine.layers import forward_by_rows, forward_to
from engine.methods.information._gpe import GPEProblem, optimise
from engine.methods.information._units import ImageCells
from engine.methods.information.config import InformationConfig
from engine.models import load_model

LAYERS = ["conv2", "conv3", "conv4", "conv5"]


def timed(fn, repeats: int = 3) -> float:
    fn()  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - started) / repeats


def problem_for(model, images, layers) -> GPEProblem:
    units = ImageCells(tuple(images.shape[1:]), 12)
    return GPEProblem(images, layers, lambda x: forward_to(model.module, x, layers), units,
                      row_features=lambda x, rows: forward_by_rows(model.module, x, layers, rows))


def step_over_bare(model, images, config) -> dict:
    """Time per step of a run of `iterations` steps, against bare forward+backward of S·L·B inputs."""
    s, n_layers = config.draws, len(LAYERS)
    batch = images.repeat(s * n_layers, 1, 1, 1).requires_grad_(True)

    def bare():
        model.module(batch).sum().backward(inputs=[batch])

    def run(iterations: int):  # two evaluations on the bank (first and last) in either length
        steps = dataclasses.replace(config, iterations=iterations, eval_every=1000)
        return lambda: optimise(problem_for(model, images, LAYERS), steps.gpe(0), Progress())

    step = (timed(run(20), repeats=1) - timed(run(10), repeats=1)) / 10
    return {"step_s": round(step, 4), "bare_forward_backward_s": round(timed(bare), 4),
            "step_over_bare": round(step / timed(bare), 3)}


def batched_speedup(model, images, config) -> dict:
    config = dataclasses.replace(config, iterations=10)
    together = timed(lambda: optimise(problem_for(model, images, LAYERS), config.gpe(0), Progress()), 1)
    apart = timed(lambda: [optimise(problem_for(model, images, [layer]), config.gpe(0), Progress())
                           for layer in LAYERS], 1)
    return {"four_layers_together_s": round(together, 3), "one_after_another_s": round(apart, 3),
            "batched_speedup": round(apart / together, 2)}


VGG_SCRIPT = """
import resource, sys, torch, torchvision, json
from engine.jobs import Progress
from engine.layers import forward_by_rows, forward_to
from engine.methods.information._gpe import GPEProblem, optimise
from engine.methods.information._units import ImageCells
from engine.methods.information.config import InformationConfig
device = "cuda" if torch.cuda.is_available() else "cpu"
net = torchvision.models.vgg16(weights=None).eval().to(device)
layers = ["features.4", "features.9", "features.16", "features.23"]
x = torch.rand(1, 3, 224, 224, device=device)
problem = GPEProblem(x, layers, lambda v: forward_to(net, v, layers), ImageCells((3, 224, 224), 16))
config = InformationConfig(iterations=1, draws=8, eval_draws=8, judge_draws=8, eval_every=1000)
optimise(problem, config.gpe(0), Progress())
peak = (torch.cuda.max_memory_allocated() / 2**20 if device == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps({"vgg16_device": device, "vgg16_peak_mb": round(peak), "vgg16_rows": "S=8 x L=4 x B=1"}))
"""


def vgg_peak() -> dict:
    done = subprocess.run([sys.executable, "-c", VGG_SCRIPT], capture_output=True, text=True, timeout=1800)
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else {"vgg16_error": done.stderr[-300:]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-vgg", action="store_true")
    parser.add_argument("--n", type=int, default=2, help="images optimised together (B)")
    args = parser.parse_args()
    model = load_model("demo:partworld-cnn")
    images = model.prepare(load_data(f"demo:partworld?n={args.n}&seed=3").images)
    config = InformationConfig()
    report = {"bench": "information", "device": str(model.device), "threads": torch.get_num_threads(),
              "B": args.n, "S": config.draws, "layers": LAYERS}
    report.update(step_over_bare(model, images, config))
    report.update(batched_speedup(model, images, config))
    if not args.skip_vgg:
        report.update(vgg_peak())
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
