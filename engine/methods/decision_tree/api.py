"""`decision-tree`: a tree of decision modes over an interpretable CNN's rationales (spec §4).

For a target category, x_I is the masked top conv map, ŷ_I the category's logit and
g_I = ∂ŷ/∂x. The filter-level vectors of §4.2 of the first `train_share` of the category's
images are merged greedily into decision modes. Held-out images then walk the tree, and per
depth the node's hypothesis h_v(x_I) is compared with the CNN.

`fidelity` is our definition: on the held-out images (the category's rest and every image of
other classes), the share where the tree's decision agrees with the CNN's. The tree says
"the category" when h_v(x_I), taken back to logits by ‖g_I‖, beats the CNN's best other-class
logit on the image; the CNN says so when its own category logit does. `fidelity` is at the
decision modes (depth 1); `fidelity_one_node` is the same for one mode holding every image.
"""
from __future__ import annotations

import numpy as np

from engine.errors import BadInput
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.decision_tree._evaluate import PER_DEPTH, per_depth
from engine.methods.decision_tree._parts import NO_PART, assignment
from engine.methods.decision_tree._rationale import (filter_identity_error, filter_rationale, filter_scales,
                                                     identity_error, map_rationale)
from engine.methods.decision_tree._tree import grow, one_node
from engine.methods.decision_tree.config import DecisionTreeConfig
from engine.methods.decision_tree.result import DecisionTreeResult
from engine.methods.explanatory_graph.api import to_uint8
from engine.methods.location_instability._maps import part_groups, require
from engine.models.interpretable_training import category_index


def split(data, category: int, share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(training positives, held-out positives, negatives) in data order."""
    positives = np.flatnonzero(data.labels == category)
    if len(positives) < 2:
        raise BadInput(f"{data.spec or 'the data'} has {len(positives)} image(s) of "
                       f"{data.class_names[category]!r}: the tree needs at least 2 (one to grow on, one held out)")
    if not 0 < share < 1:
        raise BadInput(f"train_share must lie strictly between 0 and 1, got {share}")
    n = int(np.clip(round(share * len(positives)), 1, len(positives) - 1))
    return positives[:n], positives[n:], np.flatnonzero((data.labels >= 0) & (data.labels != category))


def compute(inputs: MethodInputs, config: DecisionTreeConfig, progress: Progress) -> DecisionTreeResult:
    data, layer = inputs.data, inputs.layers[0]
    if config.neighbours < 1:
        raise BadInput(f"neighbours must be at least 1, got {config.neighbours}")
    require(data, "part masks")
    found = category_index(config.category, data.class_names)
    category = 0 if found is None else found  # default: the first class
    train, held, negatives = split(data, category, config.train_share)
    order = np.concatenate([train, held, negatives])
    maps = map_rationale(inputs.model, data.images[order], layer, category, config, progress.child(0.0, 0.3))
    n, m = len(train), len(train) + len(held)
    scales = filter_scales(maps.x[:n])
    filters = filter_rationale(maps, scales)
    parts = part_groups(data.part_names).get(data.class_names[category], np.zeros(0, np.int64))
    a, filter_part = assignment(inputs.model, layer, maps.x[:n], data.part_masks[train][:, parts])
    fit, kept, rest = filters.take(slice(0, n)), filters.take(slice(n, m)), filters.take(slice(m, None))
    tree = grow(fit.x, fit.g, fit.bias, fit.target, config, progress.child(0.3, 0.95))
    progress.step(0.95, 1.0, "walking the held-out images down the tree")
    route, table = per_depth(tree, a, kept, rest)
    _, baseline = per_depth(one_node(fit.x, fit.g, fit.bias, fit.target, config), a, kept, rest)
    summary = {"identity_error": identity_error(maps, config.epsilon),
               "identity_error_filter": filter_identity_error(filters, maps),
               "fidelity": float(table[0, 0]), "fidelity_one_node": float(baseline[0, 0]),
               "depth": float(table.shape[0]), "leaves": float(n), "modes": float(len(tree.children(tree.root))),
               "held_out": float(m - n), "negatives": float(len(negatives))}
    for t, row in enumerate(table, start=1):
        summary.update({f"{name}/depth{t}": float(v) for name, v in zip(PER_DEPTH, row)})
    progress.step(1.0, 1.0, "decision tree grown")
    return DecisionTreeResult(config, layer, data.class_names[category], tree, a,
                              [data.part_names[p] for p in parts] + [NO_PART], filter_part, kept, route,
                              table, to_uint8(data.images[held]), [data.names[i] for i in held],
                              [data.names[i] for i in train], summary)
