"""Figure of a `dataset-bias` result (spec: concepts-bias-trees §5.2 analyzer, the §5.1 table): the
mined, ground-truth and difference matrices on one diverging scale, the relationship graph of
the strongest mined relations, the most suspicious pairs' scores, a masking table, and one image's contribution maps ρ_a, ρ_b of the chosen pair. The
dataset-bias pane draws the same from these helpers.
"""
from __future__ import annotations

import numpy as np

from engine.figures._common import grid_figure, overlay

DIVERGING = "RdBu_r"
MATRIX_TITLES = {"mined": "mined r_ab", "truth": "ground truth R*", "difference": "difference r − κR*"}
BARS = 10  # pairs shown in the ranked bars
GRAPH_EDGES = 8  # relations drawn as edges of the relationship graph


def matrix_limit(result) -> float:
    """One symmetric colour limit for the three matrices (|values| ≤ 1 + κ)."""
    return max(1.0, float(np.abs(result.difference).max()))


def draw_matrix(ax, matrix: np.ndarray, names: list[str], title: str, limit: float):
    ax.set_axis_on()
    image = ax.imshow(matrix, cmap=DIVERGING, vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=5)
    ax.set_yticks(range(len(names)), names, fontsize=5)
    ax.set_title(title, fontsize=7)
    return image


def graph_layout(count: int) -> np.ndarray:
    """(A, 2) the attributes on the unit circle, the first on top, clockwise."""
    angle = np.pi / 2 - 2 * np.pi * np.arange(count) / max(count, 1)
    return np.stack([np.cos(angle), np.sin(angle)], 1)


def graph_edges(result, count: int = GRAPH_EDGES) -> list[dict]:
    """The `count` relations with the largest |r_ab|, strongest first: the relationship graph's
    edges. An edge people did not state (R* = 0) is where a dataset bias would show."""
    return sorted(result.relations, key=lambda r: -abs(r["mined"]))[:count]


def draw_graph(ax, result, pair: int = 0) -> None:
    """Attributes as nodes, the strongest mined relations as edges: width |r|, red r > 0, blue
    r < 0, dashed where R* = 0 (unstated); the chosen pair green (§5.2 outputs as a graph)."""
    xy, names, chosen = graph_layout(len(result.attributes)), result.attributes, result.relations[pair]
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_yticks([])
    for edge in graph_edges(result):
        ends = xy[[names.index(edge["a"]), names.index(edge["b"])]]
        colour = "tab:green" if edge is chosen else "tab:red" if edge["mined"] > 0 else "tab:blue"
        ax.plot(*ends.T, color=colour, lw=0.5 + 3 * abs(edge["mined"]), ls="--" if edge["truth"] == 0 else "-")
    ax.scatter(*xy.T, s=14, color="0.2", zorder=3)
    for (x, y), name in zip(xy, names):
        ax.text(1.15 * x, 1.15 * y, name, fontsize=5, ha="center", va="center")
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.4, 1.4)
    ax.set_title(f"relationship graph: {GRAPH_EDGES} strongest |r|", fontsize=7)


def pair_label(relation: dict) -> str:
    return f"{relation['a']}–{relation['b']}"


def draw_ranking(ax, relations: list[dict], selected: int = 0) -> None:
    """The first BARS pairs' scores |r − κR*|, the most suspicious on top; the selected one darker."""
    shown = relations[:BARS]
    ax.set_axis_on()
    colours = ["tab:red" if i == selected else "tab:blue" for i in range(len(shown))]
    ax.barh(range(len(shown)), [r["score"] for r in shown], color=colours)
    ax.set_yticks(range(len(shown)), [pair_label(r) for r in shown], fontsize=5)
    ax.invert_yaxis()
    ax.tick_params(axis="x", labelsize=5)
    ax.set_title("suspicious pairs |r − κR*|", fontsize=7)


def draw_masking(ax, check) -> None:
    """The §5.1 table: a's mean logit per group (rows) and b's region (columns), values written in."""
    from engine.methods.dataset_bias._masking import CONDITIONS, GROUPS  # noqa: PLC0415

    ax.set_axis_on()
    table = check.table
    limit = float(np.nanmax(np.abs(table))) if np.isfinite(table).any() else 1.0
    ax.imshow(np.nan_to_num(table), cmap=DIVERGING, vmin=-limit, vmax=limit, aspect="auto")
    for (g, c), value in np.ndenumerate(table):
        ax.text(c, g, f"{value:+.2f}", ha="center", va="center", fontsize=6)
    ax.set_xticks(range(len(CONDITIONS)), [f"{check.region} {c}" for c in CONDITIONS], fontsize=5)
    ax.set_yticks(range(len(GROUPS)), [f"{g} {check.attribute} ({n})" for g, n in zip(GROUPS, check.counts)],
                  fontsize=5)
    ax.set_title(f"{check.attribute} logit, {check.region} region", fontsize=7)


def draw_evidence(ax, result, sample: int, attribute: str) -> None:
    """ρ_attribute summed over channels on kept image `sample`, over the image in grey."""
    maps = result.evidence[sample, result.attributes.index(attribute)]
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_yticks([])
    overlay(ax, result.images[sample].astype(np.float32) / 255, maps, limits=(0.0, float(maps.max()) or 1.0))
    ax.set_title(f"ρ {attribute}, {result.sample_names[sample]}", fontsize=6)


def render(record, pair: int = 0, sample: int = 0, check: str | None = None, **_):
    """Row 1: mined, truth, difference and their colour bar, the relationship graph; row 2: the
    ranked pairs, the masking check labelled `check` (default the first), and ρ of the chosen
    pair's two attributes on one kept image (when kept)."""
    from engine.methods.dataset_bias.result import DatasetBiasResult  # noqa: PLC0415

    result = DatasetBiasResult.from_record(record)
    figure, axes = grid_figure(2, 4, cell=2.4, title=f"dataset bias at {result.layer}")
    limit = matrix_limit(result)
    for ax, name in zip(axes[0], MATRIX_TITLES):
        image = draw_matrix(ax, getattr(result, name), result.attributes, MATRIX_TITLES[name], limit)
    figure.colorbar(image, ax=list(axes[0, :3]), shrink=0.8).ax.tick_params(labelsize=5)
    draw_graph(axes[0, 3], result, pair)
    draw_ranking(axes[1, 0], result.relations, pair)
    shown = next((c for c in result.checks if c.label == check), result.checks[0] if result.checks else None)
    if shown is not None:
        draw_masking(axes[1, 1], shown)
    if len(result.images):
        relation = result.relations[pair]
        draw_evidence(axes[1, 2], result, sample, relation["a"])
        draw_evidence(axes[1, 3], result, sample, relation["b"])
    return figure
