"""Training our own small models (`deepscope train`), deterministic from a seed.

The demo weights in resources/ come from exactly this code; `model.json` records the
command, the settings, the held-out accuracy and the time it took. Image architectures
train on images; text architectures on sentences, with a word vocabulary built from the
training texts and saved in model.json beside the weights.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.data import load_data
from engine.errors import BadInput
from engine.jobs import Progress
from engine.models import RESOURCES, build_arch, input_kind_of
from engine.models.model_dir import save_model_dir
from engine.models.tokenizer import UNK, WordTokenizer
from engine.settings import setting, to_dict

PROJECT_ROOT = RESOURCES.parent
# held-out data when `val_data` is left empty: the training generator with another seed
DEFAULT_VAL_DATA = {"image": "demo:partworld?n=500&seed=1", "text": "demo:keywordtext?n=500&seed=1"}


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = setting(8, "passes over the training data", "epochs")
    batch_size: int = setting(64, "samples per step", "samples")
    lr: float = setting(3e-3, "Adam learning rate, cosine-decayed to zero")
    weight_decay: float = setting(1e-4, "AdamW weight decay")
    seed: int = setting(0, "seed of initialisation and batch order")
    val_data: str = setting("", "held-out data spec; empty: the architecture's own demo data "
                                "with another seed (DEFAULT_VAL_DATA)")
    threads: int = setting(0, "CPU threads for torch (0 = torch's default)", "threads")
    unk_rate: float = setting(0.1, "text: chance that a training word is read as unknown (UNK) "
                                   "in a step, so that words never seen in training count as neutral")


def train(arch: str, data_spec: str, out_dir: str, config: TrainConfig, progress: Progress) -> dict:
    """Train `arch` on `data_spec`, evaluate on `config.val_data`, save to `out_dir`."""
    threads = torch.get_num_threads()
    try:
        if config.threads:
            torch.set_num_threads(config.threads)
        return _train(arch, data_spec, out_dir, config, progress)
    finally:
        torch.set_num_threads(threads)  # the setting is process-wide: later work keeps its own


def _train(arch: str, data_spec: str, out_dir: str, config: TrainConfig, progress: Progress) -> dict:
    torch.manual_seed(config.seed)
    started = time.perf_counter()
    kind = input_kind_of(arch)
    train_set = _load_labelled(data_spec, kind, progress.child(0.0, 0.1))
    tokenizer = WordTokenizer.from_texts(train_set.texts) if kind == "text" else None
    arch_args = {"num_classes": len(train_set.class_names)}
    if tokenizer is not None:
        arch_args["vocab_size"] = len(tokenizer.vocab)
    model = build_arch(arch, **arch_args)
    augment = None if tokenizer is None else partial(_unknown_words, rate=config.unk_rate)
    _fit(model, model_inputs(train_set, tokenizer), train_set.labels, config,
         progress.child(0.1, 0.95), augment)
    used = config if config.val_data else replace(config, val_data=DEFAULT_VAL_DATA[kind])
    val_set = _load_labelled(used.val_data, kind, progress.child(0.95, 0.97))
    accuracy = accuracy_of(model, model_inputs(val_set, tokenizer), val_set.labels)
    description = {"arch": arch, "arch_args": arch_args, "class_names": train_set.class_names,
                   **_input_description(train_set, tokenizer)}
    description["training"] = {
        "data": data_spec, "config": to_dict(used), "val_accuracy": accuracy,
        "seconds": round(time.perf_counter() - started, 1), "torch_threads": torch.get_num_threads(),
        "command": reproduce_command(arch, data_spec, out_dir, config)}
    save_model_dir(model.eval(), description, out_dir)
    return description


def _load_labelled(spec: str, kind: str, progress: Progress):
    """A dataset of the kind the architecture reads, every sample labelled (training or held out)."""
    dataset = load_data(spec, progress=progress)
    if dataset.kind != kind:
        raise BadInput(f"data {spec} is {dataset.kind} data; this architecture reads {kind} data")
    if (dataset.labels < 0).any():
        raise BadInput(f"data {spec} has unlabelled samples; training and its evaluation need labels")
    return dataset


def model_inputs(dataset, tokenizer: WordTokenizer | None) -> tuple[torch.Tensor, ...]:
    """The tensors the model is called with, one row a sample: (images,) or (tokens, mask)."""
    if tokenizer is None:
        return (torch.from_numpy(dataset.images),)
    tokens, mask, _ = tokenizer.encode(dataset.texts)
    return tokens, mask


def _input_description(dataset, tokenizer: WordTokenizer | None) -> dict:
    """What model.json needs to prepare inputs: the image size, or the tokenizer's vocabulary."""
    if tokenizer is None:
        return {"input_size": list(dataset.image_size)}
    return tokenizer.describe()


def _unknown_words(inputs: list[torch.Tensor], generator: torch.Generator, rate: float) -> list[torch.Tensor]:
    """Word dropout: each word of the batch becomes UNK with probability `rate`."""
    tokens, mask = inputs
    hit = (torch.rand(tokens.shape, generator=generator) < rate) & mask
    return [tokens.masked_fill(hit, UNK), mask]


def _fit(model, inputs: tuple[torch.Tensor, ...], labels: np.ndarray, config: TrainConfig,
         progress: Progress, augment=None) -> None:
    """AdamW with a one-cycle schedule; `augment(batch_inputs, generator)` varies each batch."""
    model.train()
    generator = torch.Generator().manual_seed(config.seed)
    labels = torch.from_numpy(labels)
    steps_per_epoch = -(-len(labels) // config.batch_size)
    total = config.epochs * steps_per_epoch
    optimizer = torch.optim.AdamW(model.parameters(), config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.lr, total_steps=total)
    for epoch in range(config.epochs):
        order = torch.randperm(len(labels), generator=generator)
        for step, batch in enumerate(order.split(config.batch_size)):
            progress.step(epoch * steps_per_epoch + step, total, f"epoch {epoch + 1}/{config.epochs}")
            batch_inputs = [x[batch] for x in inputs]
            if augment is not None:
                batch_inputs = augment(batch_inputs, generator)
            loss = F.cross_entropy(model(*batch_inputs), labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()


def accuracy_of(model, inputs: tuple[torch.Tensor, ...], labels: np.ndarray, batch_size: int = 128) -> float:
    """Fraction of rows whose arg-max logit is the label (`inputs` as `model_inputs` gives)."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), batch_size):
            logits = model(*(x[start:start + batch_size] for x in inputs))
            correct += int((logits.argmax(1).numpy() == labels[start:start + batch_size]).sum())
    return correct / len(labels)


def evaluate(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 128) -> float:
    """Accuracy of an image model on (N,3,H,W) images."""
    return accuracy_of(model, (torch.from_numpy(images),), labels, batch_size)


def reproduce_command(arch: str, data_spec: str, out_dir: str, config: TrainConfig) -> str:
    """The `deepscope train` line that makes this model again (project paths made relative)."""
    out = Path(out_dir).resolve()
    if out.is_relative_to(PROJECT_ROOT):
        out_dir = str(out.relative_to(PROJECT_ROOT))
    defaults = TrainConfig()
    sets = " ".join(f"--set {k}={v}" for k, v in to_dict(config).items()
                    if v != to_dict(defaults)[k])
    return f'deepscope train {arch} --data "{data_spec}" --out {out_dir} {sets}'.strip()
