"""The transplant pane (issue 9 §2; spec: concepts-bias-trees §6): the table of variants, a held-out
image with its foreground and every variant's segmentation, export."""
from __future__ import annotations

import numpy as np

from engine.analysis import AnalysisRequest
from engine.methods.transplant.result import TransplantResult
from gui_testkit import shown_in

REQUEST = AnalysisRequest("transplant", "demo:partworld-cnn", "demo:partworld?n=60&seed=4", settings={
    "new_category": "car", "teacher_images": "4", "pool_images": "4", "shots": "0,2", "epochs": "2"}, device="cpu")
SHOT = "/tmp/transplant_pane.png"


def test_variants_maps_of_a_held_out_image_and_export(qtbot, window, tmp_path):
    pane = shown_in(qtbot, window, REQUEST, "transplant", "transplant")
    result = TransplantResult.from_record(pane.record)
    assert result.variants == ["teacher", "transplanted", "finetune_0", "finetune_2"]
    table = pane.table
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == [*result.variants, "old_categories"]
    assert [table.item(r, 1).text() for r in range(4)] == ["4", "0", "0", "2"]   # labelled images used
    scores = result.scores()
    assert float(table.item(1, 3).text()) == scores[1][3]       # the transplanted IoU
    assert [label.toPlainText() for label, _ in pane.tiles][:3] == ["image", "foreground", "teacher (4)"]
    np.testing.assert_array_equal(pane.tiles[1][1].image, result.truth[0])
    qtbot.waitUntil(lambda: pane.isVisible())
    assert pane.grab().save(SHOT, "PNG")

    pane.sample_spin.setValue(2)                                   # another held-out image
    np.testing.assert_array_equal(pane.tiles[3][1].image, result.probability[2, 1])
    assert pane.summary.text().startswith(f"car behind the task module, {result.sample_names[2]}:")
    assert pane.figure_options() == {"sample": 2}
    assert window.export("png", str(tmp_path / "transplant.png"), 80)
    assert window.export("csv", str(tmp_path / "transplant.csv"), 80)
    lines = (tmp_path / "transplant.csv").read_text().splitlines()
    assert lines[0] == "variant,labelled_images,accuracy,iou" and len(lines) == 6
