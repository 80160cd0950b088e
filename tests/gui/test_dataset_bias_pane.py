"""The dataset-bias pane (spec: concepts-bias-trees §5.2 analyzer, §5.1 table; issue 8): the biased
demo attribute model on 24 faces, the three matrices, the ranked pairs (a real click selects one),
its ρ maps, the masking tables, export."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.analysis import AnalysisRequest
from engine.figures.dataset_bias import DIVERGING, GRAPH_EDGES, graph_edges, matrix_limit
from engine.methods.dataset_bias.result import DatasetBiasResult
from gui.panes._imaging import colorize, lut, overlay
from gui_testkit import wait_job

MODEL, DATA = "demo:partworld-attributes-biased", "demo:partworld?family=faces&n=24&seed=2"
SHOT = "/tmp/dataset_bias_pane.png"


def expected_evidence(result, sample: int, attribute: str) -> np.ndarray:
    maps = result.evidence[sample, result.attributes.index(attribute)]
    return overlay(result.images[sample].astype(np.float32) / 255.0, maps, lut("inferno"), 0.0, float(maps.max()))


def green_edges(pane, edges) -> list[tuple[str, str]]:
    """The graph's edges drawn green: the chosen pair's, when it is among the strongest."""
    return [(e["a"], e["b"]) for line, e in zip(pane.graph_lines, edges)
            if line.opts["pen"].color().getRgb()[:3] == (0, 200, 0)]


def click_row(qtbot, table, row: int) -> None:
    rect = table.visualItemRect(table.item(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())


@pytest.mark.slow  # about 10 s: the run on 24 faces and the export
def test_matrices_ranked_pairs_a_click_the_masking_table_and_export(qtbot, window, tmp_path):
    job_id = window.run(AnalysisRequest("dataset-bias", MODEL, DATA, settings={
        "masking_images": "24", "check_pairs": "smile:rosy_cheeks"}, device="cpu"))
    wait_job(qtbot, window, job_id, timeout_ms=120000)
    assert window.document.jobs[job_id].status == "done", window.document.jobs[job_id].reason
    pane = window.panes["dataset_bias"]
    assert window.current_pane() is pane and pane.record.kind == "dataset-bias"
    result = DatasetBiasResult.from_record(pane.record)

    limit = matrix_limit(result)
    for name, item in pane.matrix_items.items():
        np.testing.assert_array_equal(item.image, colorize(getattr(result, name), lut(DIVERGING), -limit, limit))
    table = pane.pairs_table
    assert table.rowCount() == 21 and table.item(0, 0).text() == "1"
    assert [table.item(r, 1).text() + "–" + table.item(r, 2).text() for r in range(3)] == \
        [f"{r['a']}–{r['b']}" for r in result.relations[:3]]
    top = result.relations[0]
    assert [t.toPlainText() for t, _ in pane.evidence_items] == [f"ρ {top['a']}, {result.sample_names[0]}",
                                                                 f"ρ {top['b']}, {result.sample_names[0]}"]
    edges = graph_edges(result)                                    # the relationship graph
    assert len(pane.graph_lines) == GRAPH_EDGES == len(edges)
    assert abs(edges[0]["mined"]) == max(abs(r["mined"]) for r in result.relations)
    assert green_edges(pane, edges) == [(top["a"], top["b"])] * (top in edges)
    qtbot.waitUntil(lambda: pane.isVisible())
    assert pane.grab().save(SHOT, "PNG")

    click_row(qtbot, table, 2)                                     # a real click picks the third pair
    chosen = result.relations[2]
    assert pane.state.pair == 2 and f"{chosen['a']}–{chosen['b']}" in pane.summary.text()
    a, b = result.attributes.index(chosen["a"]), result.attributes.index(chosen["b"])
    assert all(frame.rect().getRect() == (b, a, 1, 1) for frame in pane.frames)
    assert green_edges(pane, edges) == [(chosen["a"], chosen["b"])] * (chosen in edges)
    for (_, item), attribute in zip(pane.evidence_items, (chosen["a"], chosen["b"])):
        np.testing.assert_array_equal(item.image, expected_evidence(result, 0, attribute))
    pane.sample_spin.setValue(3)
    np.testing.assert_array_equal(pane.evidence_items[1][1].image, expected_evidence(result, 3, chosen["b"]))

    labels = [c.label for c in result.checks]
    assert labels[-1] == "smile:rosy_cheeks" and pane.state.check == labels[0]
    pane.check_box.setCurrentText("smile:rosy_cheeks")             # the named check's table
    masking = pane.masking_table
    assert [masking.horizontalHeaderItem(c).text() for c in range(4)] == \
        ["smile logit", "rosy_cheeks original", "rosy_cheeks pasted", "rosy_cheeks masked"]
    check = result.checks[-1]
    for g in range(2):
        assert masking.item(g, 0).text().endswith(f"smile ({check.counts[g]})")
        assert [masking.item(g, c + 1).text() for c in range(3)] == [f"{v:.4g}" for v in check.table[g]]

    assert pane.figure_options() == {"pair": 2, "sample": 3, "check": "smile:rosy_cheeks"}
    figure = pane.figure()
    assert figure.axes[5].get_title() == "smile logit, rosy_cheeks region"
    assert figure.axes[3].get_title().startswith("relationship graph") and len(figure.axes[3].lines) == GRAPH_EDGES
    assert window.export("png", str(tmp_path / "bias.png"), 80)
    assert (tmp_path / "bias.png").stat().st_size > 10000
    assert window.export("csv", str(tmp_path / "bias.csv"), 80)
    lines = (tmp_path / "bias.csv").read_text().splitlines()
    assert lines[0] == "rank,attribute_a,attribute_b,mined,truth,score,cosine" and len(lines) == 22
