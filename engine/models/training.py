"""Training our own small models (`deepscope train`), deterministic from a seed.

The demo weights in resources/ come from exactly this code; `model.json` records the
command, the settings, the held-out accuracy and the time it took.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.data import load_data
from engine.errors import BadInput
from engine.jobs import Progress
from engine.models import RESOURCES, build_arch
from engine.models.model_dir import save_model_dir
from engine.settings import setting, to_dict

PROJECT_ROOT = RESOURCES.parent


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = setting(8, "passes over the training data", "epochs")
    batch_size: int = setting(64, "images per step", "images")
    lr: float = setting(3e-3, "Adam learning rate, cosine-decayed to zero")
    weight_decay: float = setting(1e-4, "AdamW weight decay")
    seed: int = setting(0, "seed of initialisation and batch order")
    val_data: str = setting("demo:partworld?n=500&seed=1", "held-out data spec (another seed)")
    threads: int = setting(0, "CPU threads for torch (0 = torch's default)", "threads")


def train(arch: str, data_spec: str, out_dir: str, config: TrainConfig, progress: Progress) -> dict:
    """Train `arch` on `data_spec`, evaluate on `config.val_data`, save to `out_dir`."""
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    started = time.perf_counter()
    train_set = load_data(data_spec, progress=progress.child(0.0, 0.1))
    if (train_set.labels < 0).any():
        raise BadInput(f"training data {data_spec} has unlabelled samples")
    model = build_arch(arch, num_classes=len(train_set.class_names))
    _fit(model, train_set, config, progress.child(0.1, 0.95))
    val_set = load_data(config.val_data, progress=progress.child(0.95, 0.97))
    accuracy = evaluate(model, val_set.images, val_set.labels)
    seconds = time.perf_counter() - started
    description = {
        "arch": arch, "arch_args": {"num_classes": len(train_set.class_names)},
        "class_names": train_set.class_names, "input_size": list(train_set.image_size),
        "training": {"data": data_spec, "config": to_dict(config), "val_accuracy": accuracy,
                     "seconds": round(seconds, 1), "torch_threads": torch.get_num_threads(),
                     "command": reproduce_command(arch, data_spec, out_dir, config)},
    }
    save_model_dir(model.eval(), description, out_dir)
    return description


def _fit(model, dataset, config: TrainConfig, progress: Progress) -> None:
    model.train()
    generator = torch.Generator().manual_seed(config.seed)
    images = torch.from_numpy(dataset.images)
    labels = torch.from_numpy(dataset.labels)
    steps_per_epoch = -(-len(dataset) // config.batch_size)
    total = config.epochs * steps_per_epoch
    optimizer = torch.optim.AdamW(model.parameters(), config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.lr, total_steps=total)
    for epoch in range(config.epochs):
        order = torch.randperm(len(dataset), generator=generator)
        for step, batch in enumerate(order.split(config.batch_size)):
            progress.step(epoch * steps_per_epoch + step, total, f"epoch {epoch + 1}/{config.epochs}")
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()


def evaluate(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 128) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(torch.from_numpy(images[start:start + batch_size]))
            correct += int((logits.argmax(1).numpy() == labels[start:start + batch_size]).sum())
    return correct / len(images)


def reproduce_command(arch: str, data_spec: str, out_dir: str, config: TrainConfig) -> str:
    """The `deepscope train` line that makes this model again (project paths made relative)."""
    out = Path(out_dir).resolve()
    if out.is_relative_to(PROJECT_ROOT):
        out_dir = str(out.relative_to(PROJECT_ROOT))
    defaults = TrainConfig()
    sets = " ".join(f"--set {k}={v}" for k, v in to_dict(config).items()
                    if v != to_dict(defaults)[k])
    return f'deepscope train {arch} --data "{data_spec}" --out {out_dir} {sets}'.strip()
