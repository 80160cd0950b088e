"""Training as a GUI job (issue 5 §1): the Train… form, progress, Cancel, and the new model offered."""
from __future__ import annotations

import json
import time

from PySide6.QtCore import Qt

from engine import settings
from engine.models.training import TrainConfig
from engine.training_job import TrainRequest
from gui.dialogs import RunDialog, TrainDialog
from gui_testkit import wait_job

# one quick epoch on a few 96-pixel images; held-out data small too
TINY_TRAINING = {"epochs": "1", "batch_size": "8", "min_category_images": "2",
                 "val_data": "demo:partworld?n=20&seed=1"}


def items(box) -> list[str]:
    return [box.itemText(i) for i in range(box.count())]


def test_train_form_lists_the_archs_and_follows_the_chosen_one(qtbot, window):
    dialog = TrainDialog(window.document.session, window)
    assert {"partworld-cnn", "partworld-icnn", "partworld-cnn6", "text-cnn"} <= set(items(dialog.arch_box))
    assert dialog.arch_box.currentText() == "partworld-icnn"
    assert dialog.data_box.currentText() == "demo:partworld?n=1500&seed=0"  # its demo model's recipe
    assert dialog.out_edit.text().startswith(str(window.document.session.folder / "models"))
    docs = {f["name"]: f["doc"] for f in settings.describe(TrainConfig)}
    assert set(dialog.settings_rows.edits) == set(docs)
    assert dialog.settings_rows.edits["kappa_mag"].toolTip() == docs["kappa_mag"]
    dialog.arch_box.setCurrentText("text-lstm")
    assert dialog.data_box.currentText() == "demo:keywordtext?n=4000&seed=0"
    assert "text-lstm" in dialog.out_edit.text()
    dialog.settings_rows.edits["epochs"].setText("2")
    assert dialog.request().settings == {"epochs": "2"}  # only what the user changed


def test_training_job_ends_done_writes_the_model_and_offers_it(qtbot, window, tmp_path):
    out = tmp_path / "icnn"
    dialog = TrainDialog(window.document.session, window)
    dialog.data_box.setEditText("demo:partworld?n=40")
    dialog.out_edit.setText(str(out))
    for key, value in TINY_TRAINING.items():
        dialog.settings_rows.edits[key].setText(value)
    request = dialog.request()
    assert (request.arch, request.settings) == ("partworld-icnn", TINY_TRAINING)
    job_id = window.train(request)
    wait_job(qtbot, window, job_id, timeout_ms=120000)
    assert window.document.jobs[job_id].status == "done", window.document.jobs[job_id].reason
    description = json.loads((out / "model.json").read_text())
    accuracy = description["training"]["val_accuracy"]
    assert description["arch"] == "partworld-icnn" and 0.0 <= accuracy <= 1.0
    assert [row["epoch"] for row in description["training"]["epochs"]] == [1]
    assert (out / "weights.safetensors").is_file()
    assert f"dir:{out}: held-out accuracy {accuracy:.4f}" in window.log_panel.toPlainText()
    assert f"dir:{out}" in window.document.session.models
    models = window.session_tree.topLevelItem(0)
    assert f"dir:{out}" in [models.child(i).text(0) for i in range(models.childCount())]
    assert f"dir:{out}" in items(RunDialog(window.document.session, window).model_box)


def test_cancelled_training_leaves_no_model_folder(qtbot, window, tmp_path):
    out = tmp_path / "icnn"
    # 32-pixel images, 4 a step: a step (the cancellation point) takes milliseconds even on a busy machine
    long_run = {**TINY_TRAINING, "epochs": "200", "batch_size": "4", "val_data": "demo:partworld?n=20&size=32"}
    job_id = window.train(TrainRequest("partworld-icnn", "demo:partworld?n=80&size=32", str(out), long_run))
    # in epoch 2: the first steps also pay torch's one-time start-up, which is no cancellation point
    qtbot.waitUntil(lambda: window.document.jobs[job_id].message.startswith("epoch 2/"), timeout=60000)
    clicked = time.monotonic()
    qtbot.mouseClick(window.jobs_panel.rows[job_id].cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.document.jobs[job_id].status == "cancelled", timeout=2000)
    assert time.monotonic() - clicked < 1.0
    assert not out.exists()
    entry = window.document.session.results[-1]
    assert (entry.method, entry.model, entry.status) == ("train", "partworld-icnn", "cancelled")
    assert f"dir:{out}" not in window.document.session.models


def test_training_into_a_folder_with_files_fails_in_one_line_and_keeps_them(qtbot, window, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    job_id = window.train(TrainRequest("partworld-icnn", "demo:partworld?n=40", str(tmp_path), TINY_TRAINING))
    wait_job(qtbot, window, job_id)
    job = window.document.jobs[job_id]
    assert job.status == "failed"
    assert job.reason == f"output folder {tmp_path} already exists and is not empty; train into a new folder"
    assert (tmp_path / "keep.txt").read_text() == "mine"
