"""The consistency pane (spec: knowledge-consistency §4.8; issue 7 §3): the demo CNN against its
seed-2 twin at conv4 (a short fit), the stacked bars and maps it shows, the direction switch,
a channel, export; and Cancel during the fit."""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt

from engine.analysis import AnalysisRequest
from engine.figures.consistency import colormap_of, limits, map_panels
from engine.methods.consistency.result import ConsistencyResult
from gui.panes._imaging import lut, overlay
from gui_testkit import wait_job

A, B, DATA = "demo:partworld-cnn", "demo:partworld-cnn-seed2", "demo:partworld?n=24&seed=5"
SHOT = "/tmp/consistency_pane.png"


def request(**settings) -> AnalysisRequest:
    return AnalysisRequest("consistency", A, DATA, ["conv4"], {"epochs": "3", "maps_images": "4", **settings},
                           model2=B)


def expected_maps(result, direction: str, sample: int, channel: int) -> list[np.ndarray]:
    """What each map cell after the image should show: the figure's panels, coloured as the pane does."""
    panels = map_panels(result, result.pairs[0], direction, sample, channel)
    scales, image = limits(panels, channel), result.images[sample].astype(np.float32) / 255.0
    return [overlay(image, p.values, lut(colormap_of(p, channel)), *scales[p.scale]) for p in panels]


def shown_maps(pane) -> list[np.ndarray]:
    return [item.image for _, item in pane.map_items[1:]]


def test_bars_maps_direction_channel_and_export_of_the_demo_twins(qtbot, window, tmp_path):
    job_id = window.run(request())
    wait_job(qtbot, window, job_id, timeout_ms=120000)
    assert window.document.jobs[job_id].status == "done", window.document.jobs[job_id].reason
    pane = window.panes["consistency"]
    assert window.current_pane() is pane and pane.record.kind == "consistency"
    result, m = ConsistencyResult.from_record(pane.record), pane.record.metrics

    names = ["variance_order_0", "variance_order_1", "variance_order_2", "variance_residual"]
    assert len(pane.bar_items) == 4
    for k, (item, name) in enumerate(zip(pane.bar_items, names)):  # bars: A→B then B→A, orders stacked
        np.testing.assert_allclose(item.opts["height"], [m[f"a_to_b/{name}"], m[f"b_to_a/{name}"]])
    np.testing.assert_allclose(pane.bar_items[-1].opts["y0"] + pane.bar_items[-1].opts["height"], 1.0)
    assert [t for _, t in pane.bars_plot.getAxis("bottom")._tickLevels[0]] == ["conv4 A→B", "conv4 B→A"]

    titles = [title for title, _ in pane.map_items]
    assert titles == [result.sample_names[0], "A conv4", "B conv4", "order 0", "order 1", "order 2", "residual"]
    for shown, expected in zip(shown_maps(pane), expected_maps(result, "a_to_b", 0, -1)):
        np.testing.assert_array_equal(shown, expected)
    assert "blind spots of A" in pane.summary.text() and f"{m['a_to_b/variance_residual']:.3f}" in pane.summary.text()
    qtbot.waitUntil(lambda: pane.isVisible())
    assert pane.grab().save(SHOT, "PNG")

    pane.direction_box.setCurrentIndex(1)                       # the direction switch
    assert pane.state.direction == "b_to_a" and "unreliable features of A" in pane.summary.text()
    for shown, expected in zip(shown_maps(pane), expected_maps(result, "b_to_a", 0, -1)):
        np.testing.assert_array_equal(shown, expected)
    pane.sample_spin.setValue(2)
    pane.channel_spin.setValue(5)                                # one of A's channels, rebuilt from B
    assert (pane.state.sample, pane.state.channel) == (2, 5)
    assert [t for t, _ in pane.map_items][1:3] == ["A conv4 ch 5", "B conv4"]
    for shown, expected in zip(shown_maps(pane), expected_maps(result, "b_to_a", 2, 5)):
        np.testing.assert_array_equal(shown, expected)

    assert pane.figure_options() == {"pair": "conv4", "direction": "b_to_a", "sample": 2, "channel": 5}
    assert pane.figure().axes[-1].get_title() == "residual"
    assert window.export("png", str(tmp_path / "consistency.png"), 80)
    assert (tmp_path / "consistency.png").stat().st_size > 10000
    assert window.export("csv", str(tmp_path / "consistency.csv"), 80)
    lines = (tmp_path / "consistency.csv").read_text().splitlines()
    assert lines[0].startswith("pair,layer_a,layer_b,direction,variance_order_0,") and len(lines) == 3
    assert lines[1].startswith("conv4,conv4,conv4,a_to_b,") and lines[2].startswith("conv4,conv4,conv4,b_to_a,")


def test_cancel_stops_the_fit_within_a_second(qtbot, window):
    job_id = window.run(request(epochs="500"))
    qtbot.waitUntil(lambda: "epoch" in window.document.jobs[job_id].message, timeout=60000)
    clicked = time.monotonic()
    qtbot.mouseClick(window.jobs_panel.rows[job_id].cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.document.jobs[job_id].status == "cancelled", timeout=1000)
    assert time.monotonic() - clicked < 1.0
