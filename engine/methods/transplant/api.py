"""`transplant`: network transplanting on PartWorld (spec: concepts-bias-trees §6, "Network
transplanting": an outline; our design is marked).

A modular network: category modules f_c over a shared stem (the maps of --model at `stem_layer`,
frozen [ours]) and one generic task module g, foreground segmentation on the stem's grid. f_c and
g learn together from the other categories' images. For the new category a teacher exists: its own
module f_new and head h, trained on `teacher_images` labelled images of it. Transplanting connects
f_new to g through an adapter (a 1×1 conv, identity at the start), learnt from the `pool_images`
without their labels: g(a(f_new)) distils h(f_new) (outputs) and the gradients g sends back
(back-distillation, double backward). The fine-tuned baselines learn the same adapter from the
first k labelled pool images (k in `shots`, 0: not trained). All are measured on the new
category's remaining images: pixel accuracy and IoU of the foreground.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from engine.errors import BadInput, choices
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.explanatory_graph.api import to_uint8
from engine.methods.location_instability._maps import layer_maps
from engine.methods.transplant._modules import (adapter, back_distillation, category_module, segmentation_loss,
                                                task_module)
from engine.methods.transplant._train import fit
from engine.methods.transplant.config import TransplantConfig
from engine.methods.transplant.result import KEPT, TransplantResult

OLD_HELD = 0.2  # share of each old category's images held out to measure the modular network on them


def compute(inputs: MethodInputs, config: TransplantConfig, progress: Progress) -> TransplantResult:
    data = inputs.data
    new = check(data, config)
    stem, target = cached(inputs, config, progress.child(0.0, 0.1))
    teacher_rows, pool, held = new_category_rows(data, new, config)
    old_train, old_held = old_rows(data, new)
    torch.manual_seed(inputs.seed)
    width, channels = config.width, stem.shape[1]
    modules = {c: category_module(channels, width) for c in old_categories(data, new)}
    g = task_module(width)
    fit([g, *modules.values()],
        lambda rows: segmentation_loss(g(routed(rows, data.labels, modules, stem)), target[rows]), old_train,
        config, inputs.seed, progress.child(0.1, 0.4), "category modules and task module")
    f_new, head = category_module(channels, width), task_module(width)
    fit([f_new, head], lambda rows: segmentation_loss(head(f_new(stem[rows])), target[rows]), teacher_rows,
        config, inputs.seed + 1, progress.child(0.4, 0.5), "the teacher")
    for module in (g, f_new, head):
        module.requires_grad_(False)
    adapters = {"transplanted": transplanted(f_new, head, g, stem, pool, config, inputs.seed,
                                             progress.child(0.5, 0.75))}
    for k, shots in enumerate(config.shots):
        adapters[f"finetune_{shots}"] = finetuned(f_new, g, stem, target, pool[:shots], config, inputs.seed + k,
                                                  progress.child(0.75 + 0.2 * k / len(config.shots),
                                                                 0.75 + 0.2 * (k + 1) / len(config.shots)))
    progress.step(0.95, 1.0, "measuring on the held-out images")
    with torch.no_grad():
        z = f_new(stem[held])
        probabilities = {"teacher": torch.sigmoid(head(z))[:, 0]}
        probabilities.update({name: torch.sigmoid(g(a(z)))[:, 0] for name, a in adapters.items()})
        old = torch.sigmoid(g(routed(old_held, data.labels, modules, stem)))[:, 0]
    progress.step(1.0, 1.0, "transplanted")
    names = list(probabilities)
    labelled = [config.teacher_images, 0, *config.shots]  # the teacher learnt from its own labelled images
    return TransplantResult(config, config.new_category, names, labelled,
                            np.stack([probabilities[n].numpy() for n in names], 1), target[held].numpy(),
                            old.numpy(), target[old_held].numpy(), to_uint8(data.images[held[:KEPT]]),
                            [data.names[i] for i in held])


def check(data, config: TransplantConfig) -> int:
    """The new category's label, once the data and settings suit the method."""
    if getattr(data, "foreground", None) is None:
        raise BadInput(f"{data.spec or 'the data'} has no foreground masks: transplant's task is foreground "
                       "segmentation (demo:partworld)")
    if config.new_category not in data.class_names:
        raise BadInput(f"new_category={config.new_category!r} is not a class of the data; valid: "
                       f"{choices(data.class_names)}")
    if min(config.width, config.epochs, config.batch_size, config.teacher_images) < 1 or config.pool_images < 0:
        raise BadInput("width, epochs, batch_size and teacher_images must be at least 1, pool_images at least 0")
    if any(k < 0 or k > config.pool_images for k in config.shots):
        raise BadInput(f"shots {list(config.shots)} must lie between 0 and pool_images={config.pool_images}")
    new = data.class_names.index(config.new_category)
    if not old_categories(data, new):
        raise BadInput("transplant needs images of other categories to train the task module on")
    return new


def old_categories(data, new: int) -> list[int]:
    """The labels of the categories the task module learns from: every labelled one but the new."""
    return np.unique(data.labels[(data.labels >= 0) & (data.labels != new)]).tolist()


def cached(inputs: MethodInputs, config: TransplantConfig, progress: Progress) -> tuple[torch.Tensor, torch.Tensor]:
    """(stem maps (N,C,h,w), foreground (N,h,w) 0/1 on the stem's grid: a cell is foreground when
    most of its pixels are)."""
    model, data = inputs.model, inputs.data
    layer = config.stem_layer or inputs.layers[0]
    if layer not in dict(model.module.named_modules()):
        raise BadInput(f"stem_layer={layer} is not a layer of {model.spec}; valid: {choices(model.layers)}")
    stem = torch.cat([torch.from_numpy(maps[layer])  # the network run up to the stem, checked to be maps
                      for _, maps in layer_maps(model, data.images, [layer], config.batch_size, progress)])
    foreground = torch.as_tensor(data.foreground, dtype=torch.float32)[:, None]
    return stem, (F.adaptive_avg_pool2d(foreground, stem.shape[2:])[:, 0] > 0.5).float()


def new_category_rows(data, new: int, config: TransplantConfig):
    """(teacher's, the adapters' pool, held out) rows of the new category, in data order."""
    rows = np.flatnonzero(data.labels == new)
    needed = config.teacher_images + config.pool_images
    if len(rows) < needed + 2:
        raise BadInput(f"{len(rows)} images of {config.new_category!r}: transplant needs teacher_images + "
                       f"pool_images = {needed}, and 2 more to measure on (ask for more data, e.g. n=1000)")
    return rows[:config.teacher_images], rows[config.teacher_images:needed], rows[needed:]


def old_rows(data, new: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, held-out) rows of the other categories: the last OLD_HELD of each held out."""
    train, held = [], []
    for c in old_categories(data, new):
        rows = np.flatnonzero(data.labels == c)
        cut = len(rows) - max(1, int(round(OLD_HELD * len(rows))))
        train.append(rows[:cut])
        held.append(rows[cut:])
    return np.concatenate(train), np.concatenate(held)


def routed(rows, labels, modules, stem) -> torch.Tensor:
    """Each image's stem maps through its own category's module: what the one task module reads."""
    return torch.cat([modules[int(labels[i])](stem[[i]]) for i in rows])


def transplanted(f_new, head, g, stem, pool, config, seed: int, progress: Progress):
    """The adapter learnt without labels: g(a(f_new)) against the teacher's h(f_new), outputs and
    back-propagated gradients."""
    a = adapter(config.width)
    directions = torch.Generator().manual_seed(seed)

    def loss_of(rows):
        z = f_new(stem[rows])
        output = segmentation_loss(g(a(z)), torch.sigmoid(head(z))[:, 0])
        v = torch.randn(len(rows), 1, *z.shape[2:], generator=directions)
        return output + config.gradient_weight * back_distillation(z, lambda u: g(a(u)), head, v)

    fit([a], loss_of, pool, config, seed, progress, "transplanting (no labels)")
    return a


def finetuned(f_new, g, stem, target, labelled, config, seed: int, progress: Progress):
    """The baseline: the same adapter learnt from labelled images (none: left as it starts)."""
    a = adapter(config.width)
    fit([a], lambda rows: segmentation_loss(g(a(f_new(stem[rows]))), target[rows]), labelled, config, seed,
        progress, f"fine-tuning on {len(labelled)} labelled images")
    return a
