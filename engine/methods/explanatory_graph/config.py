"""Settings of `explanatory-graph` (spec: explanatory-graph §1.4, the reference code's defaults).

Sizes that the reference ties to VGG-16's 28×28 and 14×14 maps are scaled to the chosen
layers' map side n: nodes per filter ⌈n²·density⌉ with density 1.4/n by default, which is
VGG-16's 0.05 at n = 28 and 0.1 at n = 14 (40 and 20 nodes a filter) [ours].
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.settings import setting

CROPS = ("object", "none")


def crop_setting():
    """The `crop` field the graph methods share (spec §0.1)."""
    return setting("object", "object: object crops, each image cut to its foreground box and resized "
                   "(spec §0.1), where the data has masks; none: the images as they are", options=CROPS)


@dataclass(frozen=True)
class ExplanatoryGraphConfig:
    crop: str = crop_setting()
    flips: bool = setting(False, "also read each image mirrored: per image the top layer picks the orientation "
                          "its nodes explain better and lower layers follow (§1.5, optional; P1 fixed: the image "
                          "is mirrored). Off by default, as the release effectively runs (P1)")
    iterations: int = setting(20, "EM iterations per layer (iterNum)", "iterations")
    pattern_density: tuple[float, ...] = setting(
        (), "nodes per filter ⌈n²·density⌉, one value per chosen layer in --layers order; "
        "empty: 1.4/n (VGG-16's 0.05 at 28×28, 0.1 at 14×14)")
    candidates: int = setting(6, "candidate offsets per axis (positionCandNum; bin centres, no zero offset, P4)")
    max_range: float = setting(0.3, "search half-range ≤ max_range·n/2 (search_.maxRange)")
    deform_ratio: float = setting(3.0, "search half-range ≤ deform_ratio·σ_V (search_.deform_ratio)")
    init_delta: float = setting(0.15, "initial node σ and the top layer's deformation σ, × n (deform_.init_delta)")
    map_delta: float = setting(0.025, "Gaussian smoothing of the evidence, σ = map_delta·n (map_delta)")
    parents: int = setting(15, "parents per node, M (topN)", "nodes")
    parent_candidates: int = setting(600, "upper nodes considered as parents (topM)", "nodes")
    valid_tau: float = setting(0.1, "background mass τ, × the mean prior mass of a node (validTau)")
    eta: float = setting(1.0, "step of the damped mean shift of node positions (eta)")
    min_var_rate: float = setting(0.5, "share of the least-moving upper nodes left out as parents (minVarRate)")
    edge_cut_rate: float = setting(0.1, "upper nodes this close to the map border (× n) are no parents (edgeCutRate)")
    batch_size: int = setting(32, "images per E-step batch", "images")
    stats_data: str = setting("", "data spec of the reference images for the unit stds (empty: the mined images)")
    class_name: str = setting("", "mine only the images of this class (empty: all; the paper mines one category)")
    stability_nodes: int = setting(167, "nodes per layer in the location-instability metric (P7)", "nodes")
    stability_images: int = setting(20, "top images per node in the instability and purity metrics (P7)", "images")
    purity_radius: float = setting(0.0, "a position is on a part within this distance of its landmark "
                                   "(0: an eighth of the image side)", "pixels")

    def density(self, index: int, side: int) -> float:
        """The pattern density of chosen layer `index` (map side n)."""
        if self.pattern_density:
            return float(self.pattern_density[index])
        return 1.4 / side
