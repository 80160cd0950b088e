"""The registry of analysis methods: one entry a method package, one common entry point.

Every method is `api.compute(inputs, config, progress) -> result` with a frozen config
dataclass and a result that converts to and from a `ResultRecord` (STYLE.md, Captum's
one-entry design). The CLI, the GUI's run form and the contract tests read this table.
"""
from __future__ import annotations


from engine.errors import BadInput, choices
from engine.methods.activations import METHOD as ACTIVATIONS
from engine.methods.baseline import METHOD as BASELINE
from engine.methods.concepts import METHOD as CONCEPTS
from engine.methods.consistency import METHOD as CONSISTENCY
from engine.methods.decision_tree import METHOD as DECISION_TREE
from engine.methods.dataset_bias import METHOD as DATASET_BIAS
from engine.methods.explainer import METHOD as EXPLAINER
from engine.methods.explanatory_graph import METHOD as EXPLANATORY_GRAPH
from engine.methods.graph_inference import METHOD as GRAPH_INFERENCE
from engine.methods.information import METHOD as INFORMATION
from engine.methods.interpretable_training import METHOD as INTERPRETABLE_TRAINING
from engine.methods.location_instability import METHOD as LOCATION_INSTABILITY
from engine.methods.part_interpretability import METHOD as PART_INTERPRETABILITY
from engine.methods.part_localization import METHOD as PART_LOCALIZATION
from engine.methods.pointcloud_utility import METHOD as POINTCLOUD_UTILITY
from engine.methods.transplant import METHOD as TRANSPLANT
from engine.methods.base import Method, MethodInputs  # noqa: F401 (re-exported)

METHODS: dict[str, Method] = {m.name: m for m in (ACTIVATIONS, BASELINE, INFORMATION, EXPLANATORY_GRAPH,
                                                   GRAPH_INFERENCE, PART_LOCALIZATION, LOCATION_INSTABILITY,
                                                   PART_INTERPRETABILITY, INTERPRETABLE_TRAINING, CONSISTENCY,
                                                   POINTCLOUD_UTILITY, CONCEPTS, DECISION_TREE,
                                                   DATASET_BIAS, EXPLAINER, TRANSPLANT)}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise BadInput(f"unknown method {name!r}; valid: {choices(METHODS)}")
    return METHODS[name]


def method_for_kind(kind: str) -> Method:
    for method in METHODS.values():
        if method.kind == kind:
            return method
    raise BadInput(f"no method makes results of kind {kind!r}")
