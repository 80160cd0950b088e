"""The explainer's view in the activation-maps pane (issue 9 §1; spec: concepts-bias-trees §6): the
performer's layer and the explainer's masked layer as grids, the masked view of a clicked filter,
each kept image's interpretable share p, and the explainer's figure as the export."""
from __future__ import annotations

import numpy as np

from engine.analysis import AnalysisRequest
from gui_testkit import click_view_point, shown_in

REQUEST = AnalysisRequest("explainer", "demo:partworld-cnn", "demo:partworld?n=40&seed=5", layers=["conv4"],
                          settings={"epochs": "2", "samples_kept": "4", "crop": "none"}, device="cpu")
LAYER = "explainer.masked"
SHOT = "/tmp/explainer_view.png"


def test_the_explainers_filters_and_share_in_the_activation_maps(qtbot, window, tmp_path):
    pane = shown_in(qtbot, window, REQUEST, "activation_maps", "explainer")
    assert [pane.layer_box.itemText(i) for i in range(pane.layer_box.count())] == ["performer.conv4", LAYER]
    assert pane.state.layer == LAYER and pane.masked_panels.isVisible()
    a, share = pane.record.arrays, pane.record.arrays["share"]
    assert pane.explainer_info.isVisible()
    assert f"p = {share[0]:.3f}" in pane.explainer_info.text()

    live = np.flatnonzero(a[f"raw/{LAYER}"][3].reshape(a[f"raw/{LAYER}"].shape[1], -1).max(1) > 0)
    filt = int(live[0]) if len(live) else 0
    click_view_point(qtbot, pane.grid_view, pane.grid_box, pane.cell_centre(sample=3, filt=filt))
    assert (pane.state.sample, pane.state.filter) == (3, filt)
    assert f"{pane.record.meta['sample_names'][3]} p = {share[3]:.3f}" in pane.explainer_info.text()
    row, col = a[f"mu/{LAYER}"][3, filt]
    assert tuple(a[f"rf_centre/{LAYER}"][3, filt]) == (3.5 + 8 * col, 3.5 + 8 * row)  # conv4's grid (§0.2)
    qtbot.waitUntil(lambda: pane.isVisible())
    assert pane.grab().save(SHOT, "PNG")

    pane.layer_box.setCurrentText("performer.conv4")              # the performer's own filters
    assert pane.state.layer == "performer.conv4" and not pane.masked_panels.isVisible()
    assert pane.figure().axes[0].get_title() == "training losses"
    assert window.export("png", str(tmp_path / "explainer.png"), 80)
    assert window.export("csv", str(tmp_path / "explainer.csv"), 80)
    lines = (tmp_path / "explainer.csv").read_text().splitlines()
    assert lines[0] == "sample,split,share,reconstruction_error,label,prediction_from_reconstruction"
    assert len(lines) == 41
