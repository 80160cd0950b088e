"""The concept-bars pane (spec: concepts-bias-trees §3.3 "Analyzer"): the demo CNN's "car" logit
explained by its other four outputs (a short fit); the waterfall, importance bars and scatters it
shows, choosing an image by clicking its dot (shared with the document), export."""
from __future__ import annotations

import numpy as np

from engine.analysis import AnalysisRequest
from engine.figures.concepts import importance_order, waterfall
from engine.methods.concepts.result import ConceptsResult
from gui_testkit import click_view_point, wait_job

SHOT = "/tmp/concept_bars_pane.png"


def request() -> AnalysisRequest:
    return AnalysisRequest("concepts", "demo:partworld-cnn", "demo:partworld?n=24&seed=5", [],
                           {"epochs": "20", "batch_size": "8"})


def assert_waterfall_of(pane, result, sample: int) -> None:
    bars, opts = waterfall(result, sample), pane.waterfall_item.opts
    np.testing.assert_allclose(opts["y0"], bars.bottoms)
    np.testing.assert_allclose(opts["height"], bars.heights)
    assert [t for _, t in pane.waterfall_plot.getAxis("bottom")._tickLevels[0]] == bars.labels


def test_waterfall_importance_click_to_choose_and_export(qtbot, window, tmp_path):
    job_id = window.run(request())
    wait_job(qtbot, window, job_id, timeout_ms=120000)
    assert window.document.jobs[job_id].status == "done", window.document.jobs[job_id].reason
    pane = window.panes["concept_bars"]
    assert window.current_pane() is pane and pane.record.kind == "concepts"
    result = ConceptsResult.from_record(pane.record)
    assert result.concept_names == ["house", "animal", "flower", "robot"]

    assert_waterfall_of(pane, result, 0)     # b, four concepts, explained, residual, ŷ
    heights = pane.waterfall_item.opts["height"]
    np.testing.assert_allclose(heights[-1], result.yhat[0], rtol=1e-6)
    np.testing.assert_allclose(heights[-3] + heights[-2], heights[-1], rtol=1e-5, atol=1e-6)
    order = importance_order(result)
    np.testing.assert_allclose(pane.importance_item.opts["width"], result.importance()[order])
    assert [t for _, t in pane.importance_plot.getAxis("left")._tickLevels[0]] == \
        [result.concept_names[i] for i in order]
    assert len(pane.dots.data) == 24 and len(pane.prior_dots.data) == 24 * 4
    assert f"{pane.record.metrics['explained_share']:.3f}" in pane.summary.text()
    qtbot.waitUntil(lambda: pane.isVisible())
    assert pane.grab().save(SHOT, "PNG")

    chosen = 1 + int(np.argmax(result.yhat[1:]))  # the highest dot but the shown image's: apart from the rest
    box = pane.scatter_plot.vb
    click_view_point(qtbot, pane.plots, box, pg_point(result.explained[chosen], result.yhat[chosen]))
    qtbot.waitUntil(lambda: pane.state.sample == chosen)
    assert window.document.selection.sample == chosen and pane.sample_spin.value() == chosen
    assert_waterfall_of(pane, result, chosen)
    np.testing.assert_allclose(pane.chosen_dot.data["x"], [result.explained[chosen]])

    window.document.select(sample=3)         # the shared selection moves the pane too
    assert pane.state.sample == 3
    assert_waterfall_of(pane, result, 3)
    assert pane.figure_options() == {"sample": 3}
    assert window.export("png", str(tmp_path / "concepts.png"), 80)
    assert (tmp_path / "concepts.png").stat().st_size > 10000
    assert window.export("csv", str(tmp_path / "concepts.csv"), 80)
    lines = (tmp_path / "concepts.csv").read_text().splitlines()
    assert lines[0].startswith("sample,split,yhat,explained,bias,residual,explained_share") and len(lines) == 25


def pg_point(x: float, y: float):
    from PySide6.QtCore import QPointF  # noqa: PLC0415

    return QPointF(float(x), float(y))
