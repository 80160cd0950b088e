"""Benchmark of knowledge consistency's training (issue 7 §4).

`python -m tests.bench.consistency [--layer conv4] [--n 300]` prints JSON, every ratio measured
in this run: one training epoch of g (the default settings: every batch's forward, backward and
Adam step, the gate penalty, the progress reports, then the held-out MSE) against the bare
forward+backward of the same reconstruction network over the same batches
(`epoch_over_bare`); and the time to compute both demo models' features once.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time

import torch

from engine.data import load_data
from engine.jobs import Progress
from engine.methods.consistency._network import ReconstructionNet
from engine.methods.consistency._training import fit
from engine.methods.consistency.api import collect, split_indices
from engine.methods.consistency.config import ConsistencyConfig
from engine.models import load_model
from tests.bench.information import timed


def features(layer: str, n: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Both demo models' features of `layer` on n PartWorld images, and the seconds it took."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    images = load_data(f"demo:partworld?n={n}").images
    models = [load_model(spec, device=device) for spec in ("demo:partworld-cnn", "demo:partworld-cnn-seed2")]
    started = time.perf_counter()
    a, b = (collect(m, images, [layer], 64, Progress())[layer] for m in models)
    return a, b, time.perf_counter() - started


def epoch_over_bare(source, target, config: ConsistencyConfig) -> dict:
    """Seconds an epoch of `fit` (from runs of 2 and 6 epochs) over the bare passes of those batches."""
    train, held = split_indices(len(source), config.held_out)
    args = (source[train], target[train], (source[held], target[held]))

    def run(epochs: int):
        return lambda: fit(*args, dataclasses.replace(config, epochs=epochs), 0, Progress())

    epoch = (timed(run(6), repeats=1) - timed(run(2), repeats=1)) / 4
    net = ReconstructionNet(source.shape[1], target.shape[1], config.max_order, config.kernel,
                            config.normalisation).to(source.device)
    batches = [source[train][i:i + config.batch_size] for i in range(0, len(train), config.batch_size)]

    def bare():
        for batch in batches:
            net(batch).sum().backward()

    bare_epoch = timed(bare)
    return {"train_images": len(train), "held_out_images": len(held), "steps_per_epoch": len(batches),
            "epoch_s": round(epoch, 4), "bare_forward_backward_epoch_s": round(bare_epoch, 4),
            "epoch_over_bare": round(epoch / bare_epoch, 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layer", default="conv4")
    parser.add_argument("--n", type=int, default=300, help="PartWorld images (the done-when command's 300)")
    args = parser.parse_args()
    source, target, seconds = features(args.layer, args.n)
    config = ConsistencyConfig()
    report = {"bench": "consistency", "device": str(source.device), "threads": torch.get_num_threads(),
              "layer": args.layer, "shape": list(source.shape[1:]), "batch_size": config.batch_size,
              "features_both_models_s": round(seconds, 3)}
    report.update(epoch_over_bare(source, target, config))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
