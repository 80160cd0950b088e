"""The entropy heatmaps pane on real `information` results: shared scale, hover, partners."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint

from engine.analysis import AnalysisRequest
from engine.figures.information import shared_limits
from gui.panes._imaging import lut, overlay
from gui_testkit import wait_job

DATA = "demo:partworld?n=2&seed=9"
QUICK = {"iterations": "6", "draws": "2", "eval_draws": "2", "judge_draws": "2", "eval_every": "3"}


def information(**settings) -> AnalysisRequest:
    return AnalysisRequest("information", "demo:partworld-cnn", DATA, ["conv1", "conv5"], {**QUICK, **settings})


@pytest.fixture
def entropy_pane(qtbot, window):
    job_id = window.run(information())
    wait_job(qtbot, window, job_id)
    assert window.document.jobs[job_id].status == "done", window.document.jobs[job_id].reason
    return window, window.panes["entropy_heatmaps"]


def test_layers_share_one_colour_scale_and_the_curve_has_both_regions(entropy_pane):
    window, pane = entropy_pane
    assert window.current_pane() is pane
    record = pane.record
    assert [layer for _, _, layer in pane.cells] == ["conv1", "conv5"]
    lo, hi = shared_limits(record, ["conv1", "conv5"])
    for box, _, layer in pane.cells:
        expected = overlay(record.arrays["images"][0], record.arrays[f"entropy/{layer}"][0],
                           lut("inferno"), lo, hi, alpha=0.75)
        image_item = [item for item in box.addedItems if hasattr(item, "image")][0]
        assert np.array_equal(image_item.image, expected)
    names = [item.name() for item in pane.curve.getPlotItem().listDataItems()]
    assert names == ["foreground · demo:partworld-cnn", "background · demo:partworld-cnn"]
    calibrated = [record.arrays[f"calibrated_rows/{l}"].all() for l in ("conv1", "conv5")]
    assert pane.calibration.text().startswith("Every map" if all(calibrated) else "Calibration not reached")
    assert "Coarse budget" in pane.calibration.text()


def test_hovering_a_cell_shows_its_sigma_and_entropy(qtbot, entropy_pane):
    _, pane = entropy_pane
    box, record, layer = pane.cells[1]
    r, c = 20 * 12 // 96, 52 * 12 // 96
    sigma, entropy = record.arrays[f"sigma/{layer}"][0, r, c], record.arrays[f"entropy/{layer}"][0, r, c]
    hover_until(qtbot, pane, box, 52.0, 20.0, f"demo:partworld-cnn · conv5 · cell ({r}, {c}) · "
                                              f"σ = {sigma:.4g} · H = {entropy:.1f} nats")


def hover_until(qtbot, pane, box, x: float, y: float, expected: str) -> None:
    """Real mouse moves onto view point (x, y) of `box` until the hover line reads `expected`;
    the point is mapped anew each try, since the layout settles lazily on a loaded machine."""
    from PySide6.QtCore import QPointF  # noqa: PLC0415

    viewport = pane.maps_view.viewport()

    def moved() -> bool:
        point = pane.maps_view.mapFromScene(box.mapViewToScene(QPointF(x, y)))
        for dx in (1, 0):  # two positions, so one is a real move wherever the cursor was
            qtbot.mouseMove(viewport, QPoint(point.x() + dx, point.y()))
        return pane.hover.text() == expected

    try:
        qtbot.waitUntil(moved, timeout=5000)
    except Exception:  # say what was shown instead
        assert pane.hover.text() == expected
        raise


def test_a_second_network_and_captum_baselines_sit_beside_it(qtbot, entropy_pane, tmp_path):
    window, pane = entropy_pane
    first = window.document.selection.result
    for request in (information(calibration="paper"),
                    AnalysisRequest("baseline", "demo:partworld-cnn", DATA, ["conv5"],
                                    {"methods": "saliency,grad_cam"})):
        job_id = window.run(request)
        wait_job(qtbot, window, job_id)
    window.document.select(result=first)
    assert window.current_pane() is pane and pane.compare_box.count() == 2 and pane.baseline_box.count() == 2
    pane.compare_box.setCurrentIndex(1)
    pane.baseline_box.setCurrentIndex(1)
    assert [layer for _, _, layer in pane.cells] == ["conv1", "conv5", "conv1", "conv5", "saliency", "grad_cam"]
    assert len(pane.curve.getPlotItem().listDataItems()) == 4
    pane.sample_spin.setValue(1)
    assert pane.state.sample == 1
    assert window.export("svg", str(tmp_path / "entropy.svg"), 80)
    assert b"<svg" in (tmp_path / "entropy.svg").read_bytes()[:2000]
    assert window.export("csv", str(tmp_path / "entropy.csv"), 80)
    assert (tmp_path / "entropy.csv").read_text().splitlines()[0].startswith("sample,layer,mean_entropy")


def test_text_results_show_a_layer_by_token_matrix_and_coloured_words(qtbot, window):
    request = AnalysisRequest("information", "demo:text-cnn", "demo:keywordtext?n=2&seed=3", [], QUICK)
    job_id = window.run(request)
    wait_job(qtbot, window, job_id)
    pane = window.panes["entropy_heatmaps"]
    assert window.current_pane() is pane
    record = pane.record
    words = record.meta["words"][0]
    assert len(pane.cells) == 1 and pane.tokens.isVisible()
    assert pane.tokens.text().count("<span") == len(words)
    image = [item for item in pane.cells[0][0].addedItems if hasattr(item, "image")][0].image
    assert image.shape[:2] == (2 * 8, len(words) * 8)  # conv1, conv2 × the sentence's tokens
    names = [item.name() for item in pane.curve.getPlotItem().listDataItems()]
    assert names == ["keywords · demo:text-cnn", "other words · demo:text-cnn"]
    sigma, entropy = record.arrays["sigma/conv2"][0, 2], record.arrays["entropy/conv2"][0, 2]
    hover_until(qtbot, pane, pane.cells[0][0], 2 * 8 + 4, 1 * 8 + 4,
                f"demo:text-cnn · conv2 · “{words[2]}” · σ = {sigma:.4g} · H = {entropy:.1f} nats")


def test_hover_adds_the_seed_to_seed_spread_when_repeated(qtbot, window):
    job_id = window.run(information(repeats="2"))
    wait_job(qtbot, window, job_id)
    pane = window.panes["entropy_heatmaps"]
    spread = pane.record.arrays["entropy_spread/conv5"][0, 2, 6]
    assert pane.describe_point(pane.record, "conv5", 52.0, 20.0).endswith(f" ± {spread:.1f} over seeds")
