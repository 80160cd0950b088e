"""The result of `decision-tree`: the tree of decision modes and its metrics per depth (spec §4).

Nodes are numbered leaves first (the training images), merged nodes in merge order, the root
last. The held-out positives keep their filter-level vectors and paths so the pane and the
figure show their rationales ρ = w_v ∘ x_I and part contributions ρ̂ = Aρ at any node.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from engine.methods.decision_tree._rationale import FilterRationale
from engine.methods.decision_tree._tree import Tree
from engine.results import ResultRecord
from engine.settings import to_dict

KIND = "decision-tree"


@dataclass
class DecisionTreeResult:
    config: object
    layer: str
    category: str
    tree: Tree
    assignment: np.ndarray   # (K+1,D) A: filter d belongs to part k
    part_names: list         # K+1, the last the filters on no part
    filter_part: np.ndarray  # (D,) each filter's part index
    held: FilterRationale    # the held-out positives' filter-level vectors
    paths: np.ndarray        # (N_held, depth) each one's node at depths 1…depth
    per_depth: np.ndarray    # (depth, 4) fidelity, part error, Jaccard, prediction error (_evaluate.PER_DEPTH)
    images: np.ndarray       # (N_held,3,H,W) uint8
    sample_names: list       # the held-out positives
    leaf_names: list         # the training images, one a leaf
    summary: dict            # the metrics

    def metrics(self) -> dict:
        return dict(self.summary)

    def contributions(self, node: int, sample: int) -> np.ndarray:
        """(K+1,) ρ̂ = A(w_v ∘ x_I) of held-out image `sample` at `node` (§4.2 inference)."""
        return self.assignment @ (self.tree.weights[node] * self.held.x[sample])

    def to_record(self, model: str, data: str, seed: int) -> ResultRecord:
        arrays = {f"tree/{f.name}": getattr(self.tree, f.name) for f in fields(Tree)}
        arrays.update({f"held/{f.name}": getattr(self.held, f.name) for f in fields(FilterRationale)})
        arrays.update(assignment=self.assignment, filter_part=self.filter_part, paths=self.paths,
                      per_depth=self.per_depth, images=self.images)
        meta = {"layer": self.layer, "category": self.category, "part_names": self.part_names,
                "sample_names": self.sample_names, "leaf_names": self.leaf_names}
        return ResultRecord(KIND, KIND, to_dict(self.config), model, data, seed,
                            metrics=self.metrics(), arrays=arrays, meta=meta)

    @classmethod
    def from_record(cls, record: ResultRecord) -> "DecisionTreeResult":
        from engine.methods.decision_tree.config import DecisionTreeConfig  # noqa: PLC0415
        from engine.settings import from_dict  # noqa: PLC0415

        a, meta = record.arrays, record.meta
        tree = Tree(*(a[f"tree/{f.name}"] for f in fields(Tree)))
        held = FilterRationale(*(a[f"held/{f.name}"] for f in fields(FilterRationale)))
        return cls(from_dict(DecisionTreeConfig, record.config), meta["layer"], meta["category"], tree,
                   a["assignment"], meta["part_names"], a["filter_part"], held, a["paths"], a["per_depth"],
                   a["images"], meta["sample_names"], meta["leaf_names"], dict(record.metrics))
