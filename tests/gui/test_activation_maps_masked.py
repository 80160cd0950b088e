"""The interpretable layer view of the activation maps pane (spec: interpretable-cnn §2.12):
raw map, template, masked map and μ̂'s RF centre of the clicked filter and sample."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.models.interpretable_loss import peak_positions
from gui_testkit import click_view_point, small_request, wait_job

LAYER = "conv6_masked"
SNAPSHOT = "/tmp/activation_maps_masked.png"


@pytest.fixture
def shown(qtbot, window):
    request = small_request(n=6, model="demo:partworld-icnn", layers=["conv6", LAYER])
    job_id = window.run(request)
    wait_job(qtbot, window, job_id)
    return window, window.panes["activation_maps"]


def live_filter(raw: np.ndarray, sample: int) -> int:
    """A filter that fires on `sample` (a dead map would make every panel flat)."""
    return int(np.flatnonzero(raw[sample].reshape(raw.shape[1], -1).max(1) > 0)[-1])


def test_clicking_a_cell_shows_its_raw_map_template_masked_map_and_rf_centre(qtbot, shown):
    window, pane = shown
    assert pane.state.layer == LAYER and pane.masked_panels.isVisible()
    a = pane.record.arrays
    filt = live_filter(a[f"raw/{LAYER}"], 2)
    click_view_point(qtbot, pane.grid_view, pane.grid_box, pane.cell_centre(sample=2, filt=filt))
    assert (pane.state.sample, pane.state.filter) == (2, filt)
    assert (window.document.selection.sample, window.document.selection.filter) == (2, filt)
    panels, raw = pane.masked_panels, a[f"raw/{LAYER}"][2, filt]
    assert np.array_equal(panels.raw_item.image, raw)
    assert np.array_equal(panels.template_item.image, a[f"template/{LAYER}"][2, filt])
    assert np.array_equal(panels.masked_item.image, a[f"maps/{LAYER}"][2, filt])
    assert np.array_equal(panels.masked_item.image, np.maximum(raw * panels.template_item.image, 0))
    assert np.array_equal(panels.image_item.image, a["images"][2].transpose(1, 2, 0))
    assert tuple(panels.raw_item.levels) == tuple(panels.masked_item.levels) == (0.0, float(raw.max()))
    row, col = a[f"mu/{LAYER}"][2, filt]
    expected = peak_positions(torch.from_numpy(raw[None, None]), "centroid")   # the demo ICNN's μ̂
    assert (row, col) == (int(expected[0]), int(expected[1]))
    x, y = panels.marker.getData()
    assert (x[0], y[0]) == tuple(a[f"rf_centre/{LAYER}"][2, filt]) == (3.5 + 8 * col, 3.5 + 8 * row)
    assert f"μ̂ = (row {row}, col {col})" in panels.caption.text
    pane.grab().save(SNAPSHOT)


def test_the_masked_layers_raw_maps_are_the_feeding_convs_maps(shown):
    _, pane = shown
    a = pane.record.arrays
    np.testing.assert_array_equal(a[f"raw/{LAYER}"], a["maps/conv6"])
    pane.layer_box.setCurrentText("conv6")   # an ordinary layer: no interpretable view
    assert pane.state.layer == "conv6" and not pane.masked_panels.isVisible()
    assert "sample" not in pane.figure_options()


def test_figure_exports_the_same_four_panels(shown, tmp_path):
    window, pane = shown
    pane.set_state(filter=live_filter(pane.record.arrays[f"raw/{LAYER}"], 1), sample=1)
    raw_ax, template_ax, masked_ax, image_ax = pane.figure().axes
    panels = pane.masked_panels
    assert np.array_equal(raw_ax.images[0].get_array(), panels.raw_item.image)
    assert np.array_equal(template_ax.images[0].get_array(), panels.template_item.image)
    assert np.array_equal(masked_ax.images[0].get_array(), panels.masked_item.image)
    assert image_ax.collections[0].get_offsets().tolist() == [list(map(float, np.ravel(panels.marker.getData())))]
    assert window.export("png", str(tmp_path / "masked.png"), 100)
    assert (tmp_path / "masked.png").read_bytes()[:4] == b"\x89PNG"
