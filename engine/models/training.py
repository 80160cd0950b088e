"""Training our own small models (`deepscope train`), deterministic from a seed.

The demo weights in resources/ come from exactly this code; `model.json` records the
command, the settings, the held-out accuracy and the time it took. Image architectures
train on images; text architectures on sentences, with a word vocabulary built from the
training texts and saved in model.json beside the weights. A multi-label architecture
(`MULTI_LABEL_ARCHITECTURES`) trains one logit per attribute with binary cross-entropy on
the data's `attributes`; its output names are the attribute names.
"""
from __future__ import annotations

import shlex
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
from engine.models import (MULTI_LABEL_ARCHITECTURES, POINT_ARCHITECTURES, RESOURCES, build_arch, input_kind_of,
                           interpretable_training)
from engine.models.interpretable import NORMALISERS, InterpretableConfig
from engine.models.interpretable_archs import ARCHS as INTERPRETABLE_ARCHS
from engine.models.interpretable_loss import MU_MODES
from engine.models.model_dir import save_model_dir
from engine.models.partworld_cnn import SIX_LAYER_HEADS as HEADS
from engine.models.pointnets import recipe as point_recipe
from engine.models.tokenizer import UNK, WordTokenizer
from engine.settings import setting, to_dict

PROJECT_ROOT = RESOURCES.parent
# held-out data when `val_data` is left empty: the training generator with another seed
DEFAULT_VAL_DATA = {"image": "demo:partworld?n=500&seed=1", "text": "demo:keywordtext?n=500&seed=1",
                    "points": "demo:shapeworld?n=550&seed=1",  # points: at the training N
                    "attributes": "demo:partworld?family=faces&n=500&seed=1"}


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
    # partworld-icnn and its twin partworld-cnn6 (issue 5 §1; spec interpretable-cnn §2.2-2.6)
    category: str = setting("", "interpretable pairs: single-category training, this class against "
                                "the rest (spec §2.6); empty: multi-category, every class")
    base_model: str = setting("demo:partworld-cnn", "partworld-icnn/-cnn6: conv1-conv5 copied from "
                              "this trained PartWorld CNN (§2.2: pretrained convs, fresh conv6 and "
                              "head); empty: every layer from scratch. torchvision-icnn/-cnn: "
                              "torchvision:ARCH, a VGG or AlexNet, with base_weights")
    base_weights: str = setting("", "torchvision-icnn/-cnn: the base's weights file (ImageNet-trained "
                                    "in the paper, §2.1; nothing is downloaded)")
    head: str = setting("paper", "interpretable pairs: 'paper', the base's own head re-initialised "
                                 "(§2.2: torchvision's FC stack, the PartWorld CNN's GAP + linear); "
                                 "'gap', global average pooling and one linear layer [ours]; 'fc' "
                                 "(PartWorld only), max-pool to 6×6 and FC 128 + ReLU + FC [ours: a "
                                 "piecewise-linear head whose gradient varies by image, for decision "
                                 "trees]", options=HEADS)
    new_filters: int = setting(0, "interpretable pairs: filters of the new conv (0: as the top conv)", "filters")
    # the layer's own defaults (InterpretableConfig: the released code's), not a second copy of them
    kappa_mag: float = setting(InterpretableConfig.kappa_mag, "partworld/torchvision-icnn: mag of the "
                               "filter-loss strength κ = 1e-5·mag/epoch, the code's 0.1 (§2.5 step 4; 10 and "
                               "1 measured in resources/README.md)")
    mu: str = setting(InterpretableConfig.mu, "partworld/torchvision-icnn: mask centre μ̂, the released "
                      "code's rounded activation-weighted centroid or the paper's arg-max (§2.3; both "
                      "measured in resources/README.md)", options=MU_MODES)
    normaliser: str = setting(InterpretableConfig.normaliser, "partworld/torchvision-icnn: log Z of the "
                              "fitness, the code's flipped masks or a running average (§2.11)", options=NORMALISERS)
    positive_share: float = setting(0.75, "single-category: share of an epoch's rows that show the "
                                          "category, its images and their flips repeated (§2.6)")
    min_category_images: int = setting(20, "interpretable pairs: fewest training images a trained "
                                           "category may have", "images")
    # point models (issue 6 §2; spec pointcloud-utility §5.4): module switches, augmentation
    density: bool = setting(False, "point models: density re-weighting of every group (§5.4 a)")
    weight: bool = setting(False, "point models: local-coordinate re-weighting of every group (§5.4 b)")
    orientation: bool = setting(False, "point models: orientation encoding, PointSIFT's module (§5.4 d)")
    tnets: bool = setting(False, "pointnet: the input and feature T-nets")
    rotate: str = setting("none", "point models: each training cloud turned at random every step, "
                                  "about +z or uniformly in SO(3)", options=point_recipe.ROTATIONS)
    jitter: float = setting(0.0, "point models: std of the Gaussian noise added to every training "
                                 "point", "unit-sphere radii")


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
    interpretable_training.check_settings(arch, config)
    point_recipe.check_settings(arch, config)
    train_set = _load_labelled(data_spec, kind, progress.child(0.0, 0.1), arch)
    tokenizer = WordTokenizer.from_texts(train_set.texts) if kind == "text" else None
    plan = _plan(arch, train_set, tokenizer, config, progress)
    augment = _augmentation(kind, config)
    inputs = model_inputs(plan.dataset, tokenizer)
    history = _fit(plan.model, inputs, targets_of(arch, plan.dataset), config, progress.child(0.1, 0.95),
                   augment, plan.rows, plan.extra_loss)
    if kind == "points":
        point_recipe.recalibrate_batchnorm(plan.model, inputs[0], config.batch_size, progress.child(0.95, 0.96))
    used = config if config.val_data else replace(config, val_data=default_val_data(arch, kind, train_set))
    val_set = _load_labelled(used.val_data, kind, progress.child(0.95, 0.97), arch)
    val_rows = None
    if arch in INTERPRETABLE_ARCHS and config.category:  # held out as trained: the same recipe
        val_set, val_rows = interpretable_training.single_category(
            val_set, interpretable_training.category_index(config.category, val_set.class_names),
            config.positive_share)
    accuracy = accuracy_of(plan.model, model_inputs(val_set, tokenizer), targets_of(arch, val_set), rows=val_rows)
    description = {"arch": arch, "arch_args": plan.arch_args, "class_names": output_names(arch, plan.dataset),
                   **_input_description(train_set, tokenizer)}
    description["training"] = {
        "data": data_spec, "config": to_dict(used), "val_accuracy": accuracy,
        "seconds": round(time.perf_counter() - started, 1), "torch_threads": torch.get_num_threads(),
        "command": reproduce_command(arch, data_spec, out_dir, config), **plan.record}
    if history:
        description["training"]["epochs"] = history
    progress.check()  # a Cancel that came during evaluation still leaves no folder
    interpretable_training.finalise(plan.model)
    save_model_dir(plan.model.eval(), description, out_dir)
    return description


def _plan(arch: str, train_set, tokenizer: WordTokenizer | None, config: TrainConfig, progress: Progress):
    """The model and what it trains on: our interpretable pair's own recipe, or the plain one."""
    if arch in INTERPRETABLE_ARCHS:
        return interpretable_training.prepare(arch, train_set, config, progress)
    arch_args = (point_recipe.arch_args(arch, train_set, config) if arch in POINT_ARCHITECTURES
                 else {"num_classes": len(output_names(arch, train_set))})
    if tokenizer is not None:
        arch_args["vocab_size"] = len(tokenizer.vocab)
    return interpretable_training.Plan(build_arch(arch, **arch_args), arch_args, train_set,
                                       np.arange(len(train_set)), None)


def default_val_data(arch: str, kind: str, train_set) -> str:
    """The architecture's own demo data with another seed; clouds of the training point count."""
    spec = DEFAULT_VAL_DATA["attributes" if arch in MULTI_LABEL_ARCHITECTURES else kind]
    return f"{spec}&points={train_set.num_points}" if kind == "points" else spec


def _augmentation(kind: str, config: TrainConfig):
    """Each batch varied: word dropout for text, rotation and jitter for points, images as they are."""
    if kind == "text":
        return partial(_unknown_words, rate=config.unk_rate)
    return point_recipe.augmentation(config) if kind == "points" else None


def _load_labelled(spec: str, kind: str, progress: Progress, arch: str = ""):
    """A dataset of the kind the architecture reads, every sample labelled (training or held out);
    a multi-label architecture needs the data's attributes."""
    dataset = load_data(spec, progress=progress)
    if dataset.kind != kind:
        raise BadInput(f"data {spec} is {dataset.kind} data; this architecture reads {kind} data")
    if arch in MULTI_LABEL_ARCHITECTURES and getattr(dataset, "attributes", None) is None:
        raise BadInput(f"data {spec} has no attributes; {arch} trains on them "
                       f"(e.g. demo:partworld?family=faces)")
    if (dataset.labels < 0).any():
        raise BadInput(f"data {spec} has unlabelled samples; training and its evaluation need labels")
    return dataset


def targets_of(arch: str, dataset) -> np.ndarray:
    """What the loss compares the logits with: class indices (N,), or for a multi-label
    architecture the attributes as float 0/1 (N, A)."""
    if arch in MULTI_LABEL_ARCHITECTURES:
        return dataset.attributes.astype(np.float32)
    return dataset.labels


def output_names(arch: str, dataset) -> list[str]:
    """One name per logit: the class names, or a multi-label architecture's attribute names."""
    return list(dataset.attribute_names) if arch in MULTI_LABEL_ARCHITECTURES else dataset.class_names


def model_inputs(dataset, tokenizer: WordTokenizer | None) -> tuple[torch.Tensor, ...]:
    """The tensors the model is called with, one row a sample: (images,), (points,) or (tokens, mask)."""
    if dataset.kind == "points":
        return (torch.from_numpy(dataset.points),)
    if tokenizer is None:
        return (torch.from_numpy(dataset.images),)
    tokens, mask, _ = tokenizer.encode(dataset.texts)
    return tokens, mask


def _input_description(dataset, tokenizer: WordTokenizer | None) -> dict:
    """What model.json needs to prepare inputs: the image size, or the tokenizer's vocabulary
    (a point model's point count is one of its arch_args)."""
    if dataset.kind == "points":
        return {}
    if tokenizer is None:
        return {"input_size": list(dataset.image_size)}
    return tokenizer.describe()


def _unknown_words(inputs: list[torch.Tensor], generator: torch.Generator, rate: float) -> list[torch.Tensor]:
    """Word dropout: each word of the batch becomes UNK with probability `rate`."""
    tokens, mask = inputs
    hit = (torch.rand(tokens.shape, generator=generator) < rate) & mask
    return [tokens.masked_fill(hit, UNK), mask]


def _fit(model, inputs: tuple[torch.Tensor, ...], labels: np.ndarray, config: TrainConfig,
         progress: Progress, augment=None, rows: np.ndarray | None = None, extra_loss=None) -> list[dict]:
    """AdamW with a one-cycle schedule over `rows` of the data (repeats allowed; default all);
    `augment(batch_inputs, generator)` varies each batch; `extra_loss(model, labels, epoch)`,
    read after each training forward, is added to the classification loss (1-based epochs).
    Returns one row per epoch (mean losses, and β of masked layers) when there is an extra loss."""
    model.train()
    generator = torch.Generator().manual_seed(config.seed)
    labels = torch.from_numpy(labels)
    rows = torch.arange(len(labels)) if rows is None else torch.from_numpy(np.asarray(rows))
    steps_per_epoch = -(-len(rows) // config.batch_size)
    total = config.epochs * steps_per_epoch
    optimizer = torch.optim.AdamW(model.parameters(), config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.lr, total_steps=total)
    history = []
    for epoch in range(config.epochs):
        order = rows[torch.randperm(len(rows), generator=generator)]
        sums = np.zeros(2)
        for step, batch in enumerate(order.split(config.batch_size)):
            progress.step(epoch * steps_per_epoch + step, total, f"epoch {epoch + 1}/{config.epochs}")
            batch_inputs = [x[batch] for x in inputs]
            if augment is not None:
                batch_inputs = augment(batch_inputs, generator)
            loss, extra = _batch_loss(model, batch_inputs, labels[batch], epoch + 1, extra_loss)
            optimizer.zero_grad(set_to_none=True)
            (loss + extra).backward()
            optimizer.step()
            schedule.step()
            sums += (loss.item(), extra.item())
        if extra_loss:
            history.append(_epoch_row(model, epoch + 1, sums / steps_per_epoch))
    model.eval()
    return history


def _batch_loss(model, batch_inputs: list[torch.Tensor], labels: torch.Tensor, epoch: int,
                extra_loss=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(classification loss, extra loss) of one training forward (spec §2.4 total loss)."""
    logits = model(*batch_inputs)
    loss = (F.binary_cross_entropy_with_logits(logits, labels) if labels.is_floating_point()
            else F.cross_entropy(logits, labels))
    extra = extra_loss(model, labels, epoch) if extra_loss else loss.new_zeros(())
    return loss, extra


def _epoch_row(model, epoch: int, losses: np.ndarray) -> dict:
    """One epoch of a model with a filter loss, for the training dashboard (issue 5 §4)."""
    row = {"epoch": epoch, "classification_loss": round(float(losses[0]), 6),
           "filter_loss": round(float(losses[1]), 8)}
    for layer_name in getattr(model, "interpretable_layers", ()):
        layer = getattr(model, layer_name)
        row[f"kappa/{layer_name}"] = interpretable_training.kappa_of(layer, epoch)
        row[f"beta/{layer_name}"] = [round(float(v), 4) for v in
                                     (layer.beta.min(), layer.beta.mean(), layer.beta.max())]
    return row


def accuracy_of(model, inputs: tuple[torch.Tensor, ...], labels: np.ndarray, batch_size: int = 128,
                rows: np.ndarray | None = None) -> float:
    """Fraction of rows whose arg-max logit is the label (`inputs` as `model_inputs` gives);
    `rows` (repeats allowed) weighs the samples as an epoch of them would. Multi-label targets
    (N, A): the mean per-attribute accuracy, an attribute predicted present when its logit > 0."""
    model.eval()
    right = np.zeros(labels.shape, bool)
    with torch.no_grad():
        for start in range(0, len(labels), batch_size):
            logits = model(*(x[start:start + batch_size] for x in inputs))
            guess = (logits > 0).numpy() if labels.ndim == 2 else logits.argmax(1).numpy()
            right[start:start + batch_size] = guess == labels[start:start + batch_size]
    return float(right.mean() if rows is None else right[rows].mean())


def evaluate(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 128) -> float:
    """Accuracy of an image model on (N,3,H,W) images."""
    return accuracy_of(model, (torch.from_numpy(images),), labels, batch_size)


def reproduce_command(arch: str, data_spec: str, out_dir: str, config: TrainConfig) -> str:
    """The `deepscope train` line that makes this model again (project paths made relative)."""
    out = Path(out_dir).resolve()
    if out.is_relative_to(PROJECT_ROOT):
        out_dir = str(out.relative_to(PROJECT_ROOT))
    defaults = to_dict(TrainConfig())
    sets = " ".join(f"--set {shlex.quote(f'{k}={v}')}" for k, v in to_dict(config).items()
                    if v != defaults[k])  # quoted: a value may hold & or spaces (a data spec)
    return f'deepscope train {arch} --data "{data_spec}" --out {out_dir} {sets}'.strip()
