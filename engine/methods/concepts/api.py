"""`concepts`: explain a performer's logit quantitatively by semantic concepts (spec:
concepts-bias-trees §3, ICCV'19 "Explaining Neural Networks Semantically and Quantitatively").

§3.3: precompute on every image the performer's target logit ŷ, the concept scores y_i (the
outputs of --model2, or the performer's own other outputs, as the paper's CelebA attributes
explain one attribute by the others) and the prior weights w (gradient projection, §3.2);
standardise ŷ and each y_i over the data (pitfall: else α absorbs the scale); fit g_θ on all
but the last `held_out` share of the images and report on both sets. The models stay in eval
mode (pitfall: BatchNorm); `layers` are not used.
"""
from __future__ import annotations

import numpy as np
import torch

from engine.errors import BadInput, choices
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.concepts._explainer import train
from engine.methods.concepts._scores import Sources, outputs_of, prior_weights, score_images, standardiser
from engine.methods.concepts.config import ConceptsConfig
from engine.methods.concepts.result import ConceptsResult
from engine.methods.consistency.api import split_indices
from engine.methods.explanatory_graph.api import to_uint8

SCORES = 0.2  # share of the progress bar for the scores and their gradients


def compute(inputs: MethodInputs, config: ConceptsConfig, progress: Progress) -> ConceptsResult:
    check(config)
    images = np.asarray(inputs.data.images, np.float32)
    train_idx, held_idx = split_indices(len(images), config.held_out)
    sources, target, names = resolve(inputs, config, images[:1])
    scores = score_images(sources, images, config.batch_size, progress.child(0, SCORES))
    yhat_mean, yhat_std = standardiser(scores.yhat, [f"the performer's {target}"])
    concept_mean, concept_std = standardiser(scores.concepts, [f"concept {n}" for n in names])
    prior, prior_r2 = prior_weights(scores, concept_std, float(yhat_std), config.ridge)
    tensors = tuple(torch.as_tensor(np.asarray(t, np.float32)) for t in
                    (images, (scores.yhat - yhat_mean) / yhat_std, (scores.concepts - concept_mean) / concept_std,
                     prior))
    net, curve = train(tensors, train_idx, held_idx, config, inputs.seed, progress.child(SCORES, 1))
    with torch.no_grad():
        alpha = torch.cat([net(chunk) for chunk in tensors[0].split(config.batch_size)]).numpy()
    progress.step(1.0, 1.0, "concept contributions measured")
    held = np.zeros(len(images), bool)
    held[held_idx] = True
    return ConceptsResult(config, target, names, tensors[1].numpy(), tensors[2].numpy(), alpha,
                          tensors[3].numpy(), prior_r2.astype(np.float32), held, curve, to_uint8(images),
                          concept_mean, concept_std, float(net.bias), (float(yhat_mean), float(yhat_std)),
                          list(inputs.data.names), inputs.model2.spec if inputs.model2 is not None else "")


def check(config: ConceptsConfig) -> None:
    if not 0 < config.held_out < 1 or min(config.epochs, config.batch_size, config.width) < 1:
        raise BadInput(f"held_out={config.held_out} must lie in (0, 1), and epochs, batch_size and width "
                       "be at least 1")
    if config.prior_weight < 0 or config.ridge <= 0:
        raise BadInput(f"prior_weight={config.prior_weight} must be ≥ 0 and ridge={config.ridge} > 0")


def output_names(model, count: int) -> list[str]:
    """The model's class names, or output_0… when it has none (or not one a column)."""
    names = list(model.class_names)
    return names if len(names) == count else [f"output_{k}" for k in range(count)]


def resolve(inputs: MethodInputs, config: ConceptsConfig, probe: np.ndarray) -> tuple[Sources, str, list]:
    """The performer's target column and the concept columns (§3.1: n concept predictors)."""
    performer, concept_model = inputs.model, inputs.model2
    models = [performer] + ([concept_model] if concept_model is not None else [])
    for model in models:
        model.module.eval()   # §3.3 pitfall: BatchNorm must not follow the batch
    with torch.no_grad():
        names = [output_names(m, outputs_of(m, torch.as_tensor(probe)).shape[1]) for m in models]
    own, other = names[0], names[-1]
    target = config.target or own[0]
    if target not in own:
        raise BadInput(f"target {target!r} is not an output of {performer.spec}; valid: {choices(own)}")
    offered = [n for n in other if concept_model is not None or n != target]
    wanted = list(config.concepts) or offered
    unknown = [n for n in wanted if n not in offered]
    if unknown:
        where = "--model2's outputs" if concept_model is not None else f"the performer's outputs other than {target}"
        raise BadInput(f"concepts {', '.join(unknown)} are not {where}; valid: {choices(offered)}")
    if not wanted:
        raise BadInput(f"{performer.spec} has no output besides {target} to explain it by: give concept "
                       "predictors with --model2")
    return Sources(performer, own.index(target), concept_model, [other.index(n) for n in wanted]), target, wanted
