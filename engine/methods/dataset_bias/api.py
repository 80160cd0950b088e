"""`dataset-bias`: which attributes a multi-attribute CNN infers from the same features, against
the relations people say are true (spec: concepts-bias-trees §5.2, an implementable reconstruction).

Step 1: per image and attribute a, ρ_a = max(g_a ∘ x, 0) at the top conv layer (the model's last
conv layer unless --layers names another), g_a = ∂y_a/∂x on the logits. Step 2: r_ab =
E_I[cos(ρ_a, ρ_b)] · sign(corr_I(y_a, y_b)). Step 3: pairs ranked by |r_ab − κ R*_ab|. Step 4 (the
§5.1 table): for the top pair, both ways, and the pairs of `check_pairs`, a's logit with b's
region kept, pasted from a donor or masked. The model's outputs must be the data's attributes,
and the data must carry part masks (PartWorld faces).
"""
from __future__ import annotations

import numpy as np

from engine.errors import BadInput
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.dataset_bias import _masking
from engine.methods.dataset_bias._relations import attribute_index, mine, output_signs, parse_truth, ranked_pairs
from engine.methods.dataset_bias.config import DatasetBiasConfig
from engine.methods.dataset_bias.result import DatasetBiasResult
from engine.methods.explanatory_graph.api import to_uint8

MINING = 0.7  # share of the progress bar for steps 1-2; the masking checks share the rest


def compute(inputs: MethodInputs, config: DatasetBiasConfig, progress: Progress) -> DatasetBiasResult:
    names = check_inputs(inputs, config)
    truth = parse_truth(config.truth, names)
    layer = inputs.layers[0]
    kept = min(config.evidence_images, len(inputs.data.images))
    patterns = mine(inputs.model, inputs.data.images, layer, config.batch_size, kept, progress.child(0, MINING))
    mined = patterns.cosine * output_signs(patterns.logits)
    relations = ranked_pairs(mined, truth, config.kappa, names)
    pairs = checked_pairs(relations, config.check_pairs, names)
    rng = np.random.default_rng(inputs.seed)
    checks = []
    for index, (a, b) in enumerate(pairs):
        share = (1 - MINING) / len(pairs)
        span = progress.child(MINING + share * index, MINING + share * (index + 1))
        checks.append(_masking.check(inputs.model, inputs.data, patterns.logits, names, a, b,
                                     config.masking_images, config.batch_size, rng, span))
    progress.step(1.0, 1.0, "relations mined")
    return DatasetBiasResult(config, names, layer, mined, patterns.cosine, truth, relations, checks,
                             to_uint8(inputs.data.images[:kept]), patterns.evidence,
                             list(inputs.data.names[:kept]))


def check_inputs(inputs: MethodInputs, config: DatasetBiasConfig) -> list[str]:
    """The model's output names, once the model and data are known to suit the method."""
    data, names = inputs.data, list(inputs.model.class_names)
    if getattr(data, "attributes", None) is None or getattr(data, "part_masks", None) is None \
            or "face/face" not in data.part_names:
        raise BadInput(f"data {data.spec or 'given'} lacks the faces' attributes and part masks: dataset-bias "
                       "needs both (demo:partworld?family=faces)")
    missing = [n for n in names if n not in data.attribute_names]
    if len(names) < 2 or missing:
        raise BadInput(f"the model's outputs {', '.join(names) or '(unnamed)'} are not attributes of the data "
                       f"({', '.join(data.attribute_names)}): dataset-bias needs a multi-attribute model "
                       "such as demo:partworld-attributes")
    if len(inputs.layers) != 1:
        raise BadInput(f"dataset-bias reads one conv layer (the top one by default); --layers names "
                       f"{len(inputs.layers)}: {', '.join(inputs.layers)}")
    if min(config.batch_size, config.masking_images) < 1 or config.evidence_images < 0:
        raise BadInput("batch_size and masking_images must be at least 1, evidence_images at least 0")
    return names


def checked_pairs(relations: list[dict], text: str, names: list[str]) -> list[tuple[str, str]]:
    """The top pair both ways where a region exists for its b, then `check_pairs` (a:b) in order."""
    top = relations[0]
    pairs = [(a, b) for a, b in ((top["a"], top["b"]), (top["b"], top["a"])) if _masking.has_region(b)]
    for item in filter(None, (t.strip() for t in text.split(","))):
        bits = [b.strip() for b in item.split(":")]
        if len(bits) != 2:
            raise BadInput(f"check_pairs item {item!r} must be a:b (a's logit, b's region)")
        attribute_index(bits[0], names)  # a is read from the model, b only drawn on the face
        _masking.region_parts(bits[1])
        if tuple(bits) not in pairs:
            pairs.append(tuple(bits))
    return pairs
