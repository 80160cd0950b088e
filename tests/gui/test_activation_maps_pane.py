"""The activation maps pane driven by real clicks; the values it shows; export; reopening."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui.panes._imaging import lut, overlay
from gui_testkit import click_view_point, small_request, wait_job


@pytest.fixture
def shown(qtbot, window):
    job_id = window.run(small_request(n=16))
    wait_job(qtbot, window, job_id)
    return window, window.panes["activation_maps"]


def test_clicking_a_cell_selects_its_filter_and_shows_its_top_samples(qtbot, shown):
    window, pane = shown
    assert pane.state.layer == "conv5"
    maps = pane.record.arrays["maps/conv5"]
    click_view_point(qtbot, pane.grid_view, pane.grid_box, pane.cell_centre(sample=3, filt=17))
    assert pane.state.filter == 17
    assert (window.document.selection.filter, window.document.selection.sample) == (17, 3)
    topk_maps = pane.record.arrays["topk_maps/conv5"][17]
    first_peak = f"({float(topk_maps[0].max()):.3g})"
    assert "filter 17" in pane.info.text() and first_peak in pane.info.text()
    # probe pixels: the first top tile is the overlay of that sample's image and map
    lo, hi = float(maps.min()), float(maps.max())
    index = pane.record.arrays["topk_index/conv5"][17][0]
    row = list(pane.record.arrays["top_image_index"]).index(index)
    expected = overlay(pane.record.arrays["top_images"][row], topk_maps[0], lut("inferno"), lo, hi)
    shown_pixels = pane.top_item.image
    assert np.array_equal(shown_pixels[:96, :96], expected)


def test_layer_colour_map_and_limits_change_what_is_drawn(qtbot, shown):
    _, pane = shown
    pane.layer_box.setCurrentText("conv4")
    assert pane.state.layer == "conv4" and pane.grid_item.image.shape[:2] == (16 * 13 - 1, 64 * 13 - 1)
    before = pane.grid_item.image.copy()
    pane.cmap_box.setCurrentText("gray")
    grey = pane.grid_item.image
    assert not np.array_equal(before, grey) and np.all(grey[..., 0] == grey[..., 1])
    pane.auto_box.setChecked(False)
    pane.hi_spin.setValue(0.001)
    pane.lo_spin.setValue(0.0)
    assert pane.state.levels == (0.0, 0.001)
    cells = pane.maps()[0, 0]  # activations above the new maximum saturate to white
    assert (pane.grid_item.image[:12, :12][cells >= 0.002] == 255).all()


def test_export_writes_figure_and_numbers(shown, tmp_path):
    window, pane = shown
    assert window.export("pdf", str(tmp_path / "f.pdf"), 100)
    assert (tmp_path / "f.pdf").read_bytes()[:4] == b"%PDF"
    assert window.export("csv", str(tmp_path / "t.csv"), 100)
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines[0] == "layer,filter,mean_of_max,mean_of_mean,top_sample" and len(lines) == 1 + 64 + 64
    from gui.dialogs import SNAPSHOT  # noqa: PLC0415

    assert window.export(SNAPSHOT, str(tmp_path / "pane.png"), 100)
    assert (tmp_path / "pane.png").read_bytes()[:4] == b"\x89PNG"
    assert not window.export("pdf", str(tmp_path / "missing-folder" / "f.pdf"), 100)
    assert "missing-folder does not exist" in window.statusBar().currentMessage()


def test_session_is_saved_and_reopens(qtbot, shown, tmp_path):
    window, _ = shown
    from gui.main_window import MainWindow  # noqa: PLC0415

    folder = window.document.session.folder
    stored = json.loads((folder / "session.json").read_text())
    assert stored["results"][-1]["status"] == "done" and "demo:partworld-cnn" in stored["models"]
    again = MainWindow(str(folder))
    qtbot.addWidget(again)
    assert again.document.selection.result == stored["results"][-1]["id"]
    assert again.panes["activation_maps"].record.meta["layers"] == ["conv4", "conv5"]
    again.close()


def test_truncated_session_json_opens_the_rest(qtbot, shown):
    window, _ = shown
    from gui.main_window import MainWindow  # noqa: PLC0415

    folder = window.document.session.folder
    text = (folder / "session.json").read_text()
    (folder / "session.json").write_text(text[: len(text) // 2])
    again = MainWindow(str(folder))
    qtbot.addWidget(again)
    assert "is damaged" in again.statusBar().currentMessage()
    assert len(again.session_tree.result_items()) == 1
    assert again.panes["activation_maps"].record is not None
    json.loads((folder / "session.json").read_text())  # repaired on disk
    again.close()


@pytest.mark.slow
def test_screenshot_command_renders_the_window(tmp_path):
    out = tmp_path / "shot.png"
    env = {"DEEPSCOPE_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}
    import os  # noqa: PLC0415

    done = subprocess.run([sys.executable, "-m", "gui.app", "screenshot", "--out", str(out)],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    from PIL import Image  # noqa: PLC0415

    pixels = np.asarray(Image.open(out).convert("RGB"))
    assert pixels.shape[0] > 600 and pixels.shape[1] > 1000
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # a real picture, not a blank
    bad = subprocess.run([sys.executable, "-m", "gui.app", "open", str(tmp_path / "nowhere")],
                         env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "not a session folder" in bad.stderr and "Traceback" not in bad.stderr


def test_reopening_restores_the_selected_filter_and_pane(qtbot, shown):
    window, pane = shown
    from gui.main_window import MainWindow  # noqa: PLC0415

    pane.layer_box.setCurrentText("conv4")
    click_view_point(qtbot, pane.grid_view, pane.grid_box, pane.cell_centre(sample=2, filt=40))
    window.tabs.setCurrentWidget(window.panes["figure"])
    assert window.panes["figure"].record is pane.record  # the figure view follows the selection
    again = MainWindow(str(window.document.session.folder))
    qtbot.addWidget(again)
    restored = again.panes["activation_maps"].state
    assert (restored.layer, restored.filter) == ("conv4", 40)
    assert again.document.selection.sample == 2
    assert again.current_pane() is again.panes["figure"]
    again.close()


def test_run_dialog_builds_the_request_from_the_method_config(qtbot, window):
    from gui.dialogs import RunDialog  # noqa: PLC0415

    dialog = RunDialog(window.document.session, window)
    qtbot.addWidget(dialog)
    dialog.method_box.setCurrentText("baseline")
    assert set(dialog.setting_edits) >= {"methods", "ig_steps", "internal_batch_size", "target"}
    assert dialog.setting_edits["ig_steps"].toolTip().startswith("Integrated Gradients path steps")
    dialog.setting_edits["ig_steps"].setText("4")
    dialog.setting_edits["methods"].setText("saliency,grad_cam")
    dialog.data_box.setCurrentText("demo:partworld?n=4&seed=2")
    dialog.layers_edit.setText("conv5")
    request = dialog.request()
    assert request.settings == {"ig_steps": "4", "methods": "saliency,grad_cam"}
    assert (request.method, request.layers, request.model) == ("baseline", ["conv5"], "demo:partworld-cnn")
    job_id = window.run(request)
    wait_job(qtbot, window, job_id)
    assert window.document.jobs[job_id].status == "done"
    figure_pane = window.panes["figure"]
    assert window.current_pane() is figure_pane
    assert sorted(k for k in figure_pane.record.arrays if k.startswith("attribution/")) == [
        "attribution/grad_cam", "attribution/saliency"]
    assert not figure_pane.image.pixmap().isNull() and figure_pane.image.pixmap().width() > 300


def test_the_second_model_field_is_open_only_to_methods_that_compare_two(qtbot, window):
    from gui.dialogs import RunDialog  # noqa: PLC0415

    dialog = RunDialog(window.document.session, window)
    qtbot.addWidget(dialog)
    dialog.method_box.setCurrentText("consistency")
    dialog.model2_box.setCurrentText("demo:partworld-cnn-seed2")
    assert dialog.model2_box.isEnabled() and dialog.request().model2 == "demo:partworld-cnn-seed2"
    dialog.method_box.setCurrentText("baseline")  # takes one model: a leftover second is not sent
    assert not dialog.model2_box.isEnabled() and dialog.request().model2 == ""
    dialog.method_box.setCurrentText("pointcloud-utility")  # runs with or without one
    assert dialog.model2_box.isEnabled()


def test_clicking_a_result_in_the_session_tree_opens_it(qtbot, shown):
    window, pane = shown
    second = window.run(small_request(n=8, layers=["conv3"]))
    wait_job(qtbot, window, second)
    assert pane.record.meta["layers"] == ["conv3"]
    first_item = window.session_tree.result_items()[0]
    rect = window.session_tree.visualItemRect(first_item)
    qtbot.mouseClick(window.session_tree.viewport(), Qt.LeftButton, pos=rect.center())
    assert window.document.selection.result == window.document.session.results[0].id
    assert pane.record.meta["layers"] == ["conv4", "conv5"] and pane.layer_box.currentText() == "conv5"
