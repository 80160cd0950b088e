"""The training dashboard pane on the demo interpretable CNN (spec: interpretable-cnn §2.12)."""
from __future__ import annotations

import numpy as np

from engine.analysis import AnalysisRequest
from engine.figures.training import beta_histogram
from engine.models import load_model
from gui_testkit import wait_job

SHOT = "/tmp/training_dashboard.png"


def test_dashboard_shows_kappa_beta_table_a_and_silent_bars_of_the_demo_model(qtbot, window):
    job_id = window.run(AnalysisRequest("interpretable-training", "demo:partworld-icnn", "demo:partworld?n=20&seed=1"))
    wait_job(qtbot, window, job_id)
    assert window.document.jobs[job_id].status == "done", window.document.jobs[job_id].reason
    pane = window.panes["training_dashboard"]
    assert window.current_pane() is pane
    model = load_model("demo:partworld-icnn")
    rows = model.description["training"]["epochs"]
    assert [pane.layer_box.itemText(i) for i in range(pane.layer_box.count())] == ["conv5_masked", "conv6_masked"]
    assert pane.state.layer == "conv6_masked"  # the model's default layer, the new conv (§2.2)

    kappa = [item.getData()[1].tolist() for item in pane.kappa_plot.listDataItems()]
    assert kappa == [[row[f"kappa/{layer}"] for row in rows] for layer in ("conv5_masked", "conv6_masked")]
    losses = [item.getData()[1].tolist() for item in pane.loss_plot.listDataItems()]
    assert losses == [[row["classification_loss"] for row in rows], [row["filter_loss"] for row in rows]]

    metrics = window.document.record(window.document.selection.result).metrics
    heights = pane.silent_bars.opts["height"].tolist()
    assert heights == [metrics["silent_share/conv5_masked"], metrics["silent_share/conv6_masked"]]

    beta = model.module.conv6_masked.beta.numpy()
    assert pane.beta_bars.opts["height"].sum() == 64
    np.testing.assert_array_equal(pane.beta_bars.opts["height"], beta_histogram(beta)[0])
    assert pane.matrix_item.image.shape == (5, 64, 3)  # categories × filters, coloured
    assert [name for _, name in pane.matrix_plot.getAxis("left")._tickLevels[0]] == model.class_names
    qtbot.waitUntil(lambda: pane.isVisible())
    assert pane.grab().save(SHOT, "PNG")

    pane.layer_box.setCurrentText("conv5_masked")
    np.testing.assert_array_equal(pane.beta_bars.opts["height"],
                                  beta_histogram(model.module.conv5_masked.beta.numpy())[0])
    assert pane.figure_options() == {"layer": "conv5_masked"}
    figure = pane.figure()
    assert figure.axes[3].get_title() == "conv5_masked: β_f of 64 filters"  # Export draws the pane's layer
