"""Training as a job (issue 5 §1): the request the GUI runs, its defaults and its refusals."""
from __future__ import annotations

import re

import pytest

from engine.errors import BadInput
from engine.jobs import CancelToken, Progress, run_job
from engine.session import Session
from engine.training_job import TrainRequest, default_data, default_out, execute_training, trainable_archs


def test_every_registered_arch_is_trainable_with_its_demo_recipes_data():
    assert {"partworld-cnn", "partworld-icnn", "partworld-cnn6", "text-cnn", "text-lstm"} <= set(trainable_archs())
    assert default_data("partworld-icnn") == "demo:partworld?n=1500&seed=0"
    assert default_data("text-transformer") == "demo:keywordtext?n=4000&seed=0"


def test_default_output_is_a_new_folder_in_the_session(tmp_path):
    out = default_out(Session(tmp_path), "partworld-icnn")
    assert out.parent == tmp_path / "models"
    assert re.fullmatch(r"\d{8}-\d{6}-partworld-icnn-[0-9a-f]{6}", out.name)  # session.new_id
    assert not out.exists()


@pytest.mark.parametrize("settings, out, message", [
    ({"epoch": "1"}, "new", "unknown setting epoch; valid: epochs"),
    ({"epochs": "one"}, "new", "setting epochs='one' is not a valid int"),
    ({}, "full", "already exists and is not empty; train into a new folder"),
    ({}, "", "no output folder given"),
])
def test_bad_requests_fail_in_one_line_before_training(tmp_path, settings, out, message):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "model.json").write_text("{}")
    folder = "" if not out else str(tmp_path / out)
    request = TrainRequest("partworld-icnn", "demo:partworld?n=10", folder, settings)
    outcome = run_job(lambda p: execute_training(request, p), Progress())
    assert outcome.bad_input and message in outcome.reason and "\n" not in outcome.reason
    assert not (tmp_path / "new").exists()


def test_a_cancelled_request_writes_nothing(tmp_path):
    token = CancelToken()
    token.cancel()
    request = TrainRequest("partworld-cnn", "demo:partworld?n=10&size=32", str(tmp_path / "m"), {"epochs": "1"})
    outcome = run_job(lambda p: execute_training(request, p), Progress(token=token))
    assert outcome.status == "cancelled" and not (tmp_path / "m").exists()
    assert request.model_spec == f"dir:{tmp_path / 'm'}"
