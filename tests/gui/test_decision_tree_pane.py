"""The decision-tree pane (spec: concepts-bias-trees §4.4): the demo ICNN's tree of decision modes
for cars, the highlighted path of a held-out image, the waterfall of a clicked node, export."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.analysis import AnalysisRequest
from engine.figures.decision_tree import alpha_rows
from engine.methods.decision_tree.result import DecisionTreeResult
from gui.panes.decision_tree import PATH_BRUSH
from gui_testkit import shown_in

REQUEST = AnalysisRequest("decision-tree", "demo:partworld-icnn-fc", "demo:partworld?n=60&seed=4")
SHOT = "/tmp/decision_tree_pane.png"


def highlighted(pane) -> set[int]:
    return {node for node, item in pane.items.items() if item.background(0) == PATH_BRUSH}


def marked_rows(pane) -> list[float]:
    """The rows of the α heat map marked as the selected node (horizontal lines)."""
    return [line.value() for line in pane.alpha_plot.items if isinstance(line, pg.InfiniteLine)
            and line.angle == 0]


def test_path_waterfall_click_and_export_of_the_demo_tree(qtbot, window, tmp_path):
    pane = shown_in(qtbot, window, REQUEST, "decision_tree", "decision-tree")
    result = DecisionTreeResult.from_record(pane.record)
    tree = result.tree

    assert pane.tree_widget.topLevelItemCount() == 1 and pane.tree_widget.topLevelItem(0).text(0) == "root"
    assert len(pane.items) == len(tree.parent)
    assert highlighted(pane) == {tree.root, *result.paths[0].tolist()}   # image 0's way down
    node = int(result.paths[0, 0])
    assert pane.selected_node() == node and pane.tree_widget.currentItem() is pane.items[node]
    heights, bottoms = pane.bar_item.opts["height"], pane.bar_item.opts["y0"]
    np.testing.assert_allclose(heights, [tree.bias[node], *result.contributions(node, 0)])
    np.testing.assert_allclose(bottoms[-1] + heights[-1], tree.hypothesis(node, result.held.x[0]))
    assert f"fidelity {pane.record.metrics['fidelity']:.3f}" in pane.summary.text()
    nodes, order, alpha = alpha_rows(result)                     # α_v: merged nodes × filters by part
    np.testing.assert_array_equal(pane.alpha_image.image, 1.0 - alpha)  # used: dark
    assert sorted(nodes.tolist()) == list(range(len(result.leaf_names), tree.root))
    assert np.all(np.diff(result.filter_part[order]) >= 0)
    assert marked_rows(pane) == [float(np.flatnonzero(nodes == node)[0]) + 0.5]
    qtbot.waitUntil(lambda: pane.isVisible())
    assert pane.grab().save(SHOT, "PNG")

    pane.sample_spin.setValue(3)                                  # another held-out image
    assert highlighted(pane) == {tree.root, *result.paths[3].tolist()}
    leaf = next(n for n in range(len(result.leaf_names)) if n not in result.paths[3])
    item = pane.items[leaf]
    pane.tree_widget.scrollToItem(item)
    qtbot.mouseClick(pane.tree_widget.viewport(), Qt.LeftButton,
                     pos=pane.tree_widget.visualItemRect(item).center())
    assert pane.state.node == leaf and pane.selected_node() == leaf
    assert marked_rows(pane) == []                               # a leaf has no row of its own
    np.testing.assert_allclose(pane.bar_item.opts["height"][1:], result.contributions(leaf, 3))
    assert item.font(0).bold() and item.text(0) == result.leaf_names[leaf]

    assert pane.figure_options() == {"sample": 3, "depth": 1, "node": leaf}
    figure = pane.figure()
    assert figure.axes[1].get_title().startswith(f"node {leaf}:")
    assert figure.axes[2].images[0].get_array().shape == alpha.shape
    assert window.export("png", str(tmp_path / "tree.png"), 80)
    assert window.export("csv", str(tmp_path / "tree.csv"), 80)
    lines = (tmp_path / "tree.csv").read_text().splitlines()
    assert lines[0] == "node,parent,depth,kind,leaves,filters,bias,image" and len(lines) == len(tree.parent) + 1
