"""The part metrics pane (spec: interpretable-cnn §2.8, §2.12): the interpretable demo CNN beside
its ordinary twin, the numbers and matrices it shows, clicks that select a filter, export."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from engine.analysis import AnalysisRequest
from engine.methods.part_interpretability.result import PartInterpretabilityResult
from gui_testkit import click_view_point, wait_job

ICNN, TWIN, DATA = "demo:partworld-icnn", "demo:partworld-cnn6", "demo:partworld?n=30&seed=2"


def shown(qtbot, window, method: str):
    job_id = window.run(AnalysisRequest(method=method, model=ICNN, model2=TWIN, data=DATA))
    wait_job(qtbot, window, job_id)
    assert window.document.jobs[job_id].status == "done"
    pane = window.panes["part_metrics"]
    assert window.current_pane() is pane and pane.record.kind == method
    return pane


def cells(table, row: int) -> list:
    return [table.item(row, c).data(Qt.UserRole) for c in range(table.columnCount())]


def headers(table) -> list[str]:
    return [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]


def same(shown_values, expected) -> bool:
    return np.array_equal(np.asarray(shown_values, float), np.asarray(expected, float), equal_nan=True)


def test_empty_it_names_what_to_run_and_then_what_it_shows(qtbot, window):
    pane = window.panes["part_metrics"]
    assert pane.record is None
    assert "location-instability" in pane.caption.text() and "part-interpretability" in pane.caption.text()
    pane = shown(qtbot, window, "location-instability")
    assert pane.caption.text() == f"location-instability of {ICNN} against {TWIN} on {DATA}"


def test_instability_of_both_models_their_ratio_units_and_heat_map(qtbot, window):
    pane = shown(qtbot, window, "location-instability")
    m, a = pane.record.metrics, pane.record.arrays
    assert headers(pane.summary_table) == ["model", "layer", "mean instability", "accuracy"]
    assert cells(pane.summary_table, 0) == [ICNN, "conv6_masked", m["instability/conv6_masked"], m["accuracy"]]
    assert cells(pane.summary_table, 1) == [TWIN, "conv6", m["instability_model2/conv6"], m["accuracy_model2"]]
    ratio = cells(pane.summary_table, 2)
    assert ratio[:3] == ["ratio (model ÷ model2)", "", m["instability_ratio"]]
    assert ratio[2] == pytest.approx(m["instability/conv6_masked"] / m["instability_model2/conv6"])
    parts = pane.record.meta["part_names"]
    assert headers(pane.unit_table) == ["unit", "category", "instability", *parts]
    assert pane.unit_table.rowCount() == 64
    row = cells(pane.unit_table, 5)
    unit = list(a["units/conv6_masked"]).index(row[0])
    assert row[1] == pane.record.meta["categories"][a["category/conv6_masked"][unit]]
    assert same(row[2:], [a["instability/conv6_masked"][unit], *a["distance_std/conv6_masked"][unit]])
    assert same(pane.heat.item.image, a["distance_std/conv6_masked"])
    pane.layer_box.setCurrentText("model2 conv6")
    assert same(pane.heat.item.image, a["model2/distance_std/conv6"])
    click_view_point(qtbot, pane.heat, pane.heat.plot.getViewBox(), QPointF(3.0, 7.0))
    assert pane.state.unit == 7
    selection = window.document.selection
    assert (selection.layer, selection.filter) == ("conv6", int(a["model2/units/conv6"][7]))
    assert pane.unit_table.selectedItems()[0].data(Qt.UserRole) == selection.filter
    pane.grab().save("/tmp/part_metrics_instability.png")


def test_interpretability_table_sorts_heat_map_is_the_hit_rate_and_rows_select_filters(qtbot, window, tmp_path):
    pane = shown(qtbot, window, "part-interpretability")
    m, result = pane.record.metrics, PartInterpretabilityResult.from_record(pane.record)
    layer = result.layers["conv6_masked"]
    assert cells(pane.summary_table, 0) == [ICNN, "conv6_masked", m["interpretability/conv6_masked"], m["accuracy"]]
    assert cells(pane.summary_table, 1)[:3] == [TWIN, "conv6", m["interpretability_model2/conv6"]]
    assert cells(pane.summary_table, 2)[:3] == ["gain (model − model2)", "", m["interpretability_gain"]]
    assert m["interpretability/conv6_masked"] == pytest.approx(np.nanmean(layer.interpretability()))
    assert headers(pane.unit_table) == ["unit", "part", "P_f", *result.part_names]
    assert same(pane.heat.item.image, layer.hit_rate)
    pane.unit_table.sortItems(2, Qt.DescendingOrder)             # the most interpretable filter first
    best = cells(pane.unit_table, 0)
    assert best[2] == pytest.approx(np.nanmax(layer.interpretability()))
    assert best[1] == result.part_names[layer.part()[best[0]]]
    assert same(best[3:], layer.hit_rate[best[0]])
    rect = pane.unit_table.visualItemRect(pane.unit_table.item(0, 0))
    qtbot.mouseClick(pane.unit_table.viewport(), Qt.LeftButton, pos=rect.center())
    assert pane.state.unit == best[0] and window.document.selection.filter == best[0]
    assert pane.heat.highlight.rect().top() == best[0] - 0.5
    pane.grab().save("/tmp/part_metrics_interpretability.png")
    assert len(pane.figure().axes) == 2 * 2                       # both models' rows: bars and heat map
    assert window.export("csv", str(tmp_path / "units.csv"), 100)
    lines = (tmp_path / "units.csv").read_text().splitlines()
    assert lines[0] == "layer,filter,threshold,part,interpretability,mean_iou" and len(lines) == 1 + 64 + 64
