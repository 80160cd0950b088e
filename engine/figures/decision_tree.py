"""Figure of a `decision-tree` result (spec §4.4): the tree of decision modes with one held-out
image's path, the contribution waterfall at its decision mode (b + parts = h_v, against ŷ),
the filters each merged node uses (α_v), and the metrics per depth. The decision-tree pane draws the same from these helpers.
"""
from __future__ import annotations

import numpy as np

from engine.figures._common import grid_figure

DEPTH_LABELS = {"fidelity": "fidelity", "part_error": "part-contribution error", "jaccard": "Jaccard fitness",
                "prediction_error": "relative prediction error"}


def layout(tree) -> np.ndarray:
    """(M,2) node positions: leaves side by side in depth-first order, a parent over the mean of its
    children, y = −depth."""
    xy = np.zeros((len(tree.parent), 2))
    depth = tree.depths()
    next_leaf = [0]

    def place(node):
        kids = tree.children(node)
        for kid in kids:
            place(kid)
        xy[node] = (xy[kids, 0].mean() if len(kids) else next_leaf[0], -depth[node])
        next_leaf[0] += 0 if len(kids) else 1

    place(tree.root)
    return xy


def waterfall(result, node: int, sample: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(labels, bottoms, heights): b_v, then each part's ρ̂_k stacked on it, ending at h_v(x_I) (§4.4)."""
    steps = np.concatenate([[result.tree.bias[node]], result.contributions(node, sample)])
    ends = np.cumsum(steps)
    return ["b"] + [n.split("/")[-1] for n in result.part_names], ends - steps, steps


def mean_parts(result, node: int) -> np.ndarray:
    """(K+1,) ρ̂ of the node on the held-out images' mean x, as a share of its total |ρ̂| (node glyphs)."""
    parts = result.assignment @ (result.tree.weights[node] * result.held.x.mean(0))
    return parts / max(float(np.abs(parts).sum()), 1e-12)


def draw_glyphs(ax, result, xy, levels: int = 2) -> None:
    """Part-contribution bars under the nodes of the first `levels` levels (§4.4 node glyphs)."""
    colours = [f"C{k}" for k in range(len(result.part_names))]
    offsets = np.linspace(-0.35, 0.35, len(result.part_names))
    for node in np.flatnonzero((result.tree.depths() >= 1) & (result.tree.depths() <= levels)):
        x, y = xy[node]
        ax.bar(x + offsets, 0.4 * mean_parts(result, node), bottom=y - 0.45, width=0.7 / len(offsets),
               color=colours, zorder=3)
    ax.legend(ax.patches[:len(colours)], [n.split("/")[-1] for n in result.part_names], fontsize=4,
              loc="lower right")


def draw_tree(ax, result, sample: int) -> None:
    tree = result.tree
    xy, path = layout(tree), [tree.root, *result.paths[sample]]
    for node, parent in enumerate(tree.parent):
        if parent >= 0:
            on = node in path and parent in path
            ax.plot(*xy[[node, parent]].T, color="tab:red" if on else "0.7", lw=1.6 if on else 0.6, zorder=1)
    ax.scatter(*xy.T, s=8, c=["tab:red" if v in path else "0.4" for v in range(len(xy))], zorder=2)
    draw_glyphs(ax, result, xy)
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_ylabel("depth", fontsize=6)
    ax.tick_params(labelsize=5)
    ax.set_title(f"{result.category}: decision modes, path of {result.sample_names[sample]}", fontsize=7)


def draw_waterfall(ax, result, node: int, sample: int) -> None:
    labels, bottoms, heights = waterfall(result, node, sample)
    colours = ["0.5"] + ["tab:green" if h >= 0 else "tab:red" for h in heights[1:]]
    ax.set_axis_on()
    ax.bar(range(len(labels)), heights, bottom=bottoms, color=colours, width=0.8)
    ax.axhline(result.held.target[sample], color="k", lw=0.8, ls="--")  # ŷ, as the tree's units (§4.2)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=5)
    ax.tick_params(labelsize=5)
    ax.set_title(f"node {node}: b + parts = h_v (ŷ dashed)", fontsize=7)


def alpha_rows(result) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(nodes, filter order, α): the merged nodes from the decision modes down (by depth), and
    their filters used, the filters grouped by part (§4.4 "a heat map of α_v")."""
    tree = result.tree
    merged = np.arange(len(result.leaf_names), tree.root)
    nodes = merged[np.lexsort((merged, tree.depths()[merged]))]
    order = np.argsort(result.filter_part, kind="stable")
    return nodes, order, tree.alpha[nodes][:, order].astype(np.float64)


def part_edges(result, order: np.ndarray) -> np.ndarray:
    """Positions between the part groups of `order`'s filters, for dividing lines."""
    parts = result.filter_part[order]
    return np.flatnonzero(np.diff(parts)) + 0.5


def draw_alpha(ax, result, sample: int) -> None:
    nodes, order, alpha = alpha_rows(result)
    ax.set_axis_on()
    ax.tick_params(labelsize=5)
    ax.set_title("filters used per node (α_v; path in red)", fontsize=7)
    if not len(nodes):
        ax.text(0.5, 0.5, "no merged node", ha="center", va="center", fontsize=6, transform=ax.transAxes)
        return
    ax.imshow(alpha, cmap="Greys", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    for edge in part_edges(result, order):
        ax.axvline(edge, color="tab:blue", lw=0.5)
    on_path = np.flatnonzero(np.isin(nodes, result.paths[sample]))
    ax.scatter(np.full(len(on_path), -1.0), on_path, marker=">", s=6, color="tab:red", clip_on=False)
    ax.set_xlabel("filters, grouped by part", fontsize=6)
    ax.set_ylabel("merged nodes by depth", fontsize=6)


def draw_depth_metrics(ax, result) -> None:
    from engine.methods.decision_tree._evaluate import PER_DEPTH  # noqa: PLC0415

    depths = np.arange(1, len(result.per_depth) + 1)
    ax.set_axis_on()
    for column, name in enumerate(PER_DEPTH):
        ax.plot(depths, result.per_depth[:, column], marker="o", ms=2, lw=0.8, label=DEPTH_LABELS[name])
    ax.set_xlabel("depth (1: decision modes)", fontsize=6)
    ax.tick_params(labelsize=5)
    ax.legend(fontsize=5)
    ax.set_title("held-out metrics per depth", fontsize=7)


def render(record, sample: int = 0, depth: int = 1, node: int = -1, **_):
    """`node` −1: the sample's node at `depth` on its path; else that node's waterfall."""
    from engine.methods.decision_tree.result import DecisionTreeResult  # noqa: PLC0415

    result = DecisionTreeResult.from_record(record)
    sample = int(np.clip(sample, 0, len(result.sample_names) - 1))
    if node < 0:
        node = int(result.paths[sample, int(np.clip(depth, 1, result.paths.shape[1])) - 1])
    figure, axes = grid_figure(1, 4, cell=2.8, title=f"decision tree ({result.layer})")
    draw_tree(axes[0, 0], result, sample)
    draw_waterfall(axes[0, 1], result, node, sample)
    draw_alpha(axes[0, 2], result, sample)
    draw_depth_metrics(axes[0, 3], result)
    return figure
