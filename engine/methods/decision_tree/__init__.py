"""Decision trees over an interpretable CNN's rationales (spec: concepts-bias-trees §4, CVPR'19)."""
from engine.methods.base import Method
from engine.methods.decision_tree.api import compute
from engine.methods.decision_tree.config import DecisionTreeConfig
from engine.methods.decision_tree.result import KIND, DecisionTreeResult

METHOD = Method("decision-tree", KIND, "a tree of decision modes, sparse linear rationales shared by groups of "
                "a category's images, from generic to image-specific, with part contributions",
                DecisionTreeConfig, DecisionTreeResult, compute)
