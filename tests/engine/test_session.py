"""Session folders: reopen identical, repair a damaged session.json without losing results."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engine.errors import BadInput
from engine.results import ResultRecord
from engine.session import SESSION_JSON, open_session
from engine_testkit import assert_same_arrays


def record(method: str, value: float) -> ResultRecord:
    return ResultRecord(kind=f"{method}-kind", method=method, config={"x": value},
                        model="dir:/m", data="demo:partworld?n=4", seed=2,
                        metrics={"score": value},
                        arrays={"values": np.full((2, 3), value, np.float32)},
                        meta={"layers": ["conv5"]})


def filled_session(folder):
    session = open_session(folder)
    session.remember(models=["dir:/m", "dir:/m", ""], data=["demo:partworld?n=4"])
    done = [session.add_result(record("activations", 1.5)), session.add_result(record("baseline", -2.0))]
    failed = session.add_unfinished("baseline", "dir:/m", "folder:/x", "failed",
                                    "RuntimeError: out of memory")
    cancelled = session.add_unfinished("activations", "dir:/m", "folder:/x", "cancelled",
                                       "cancelled by the user")
    session.layout = {"panes": ["activation_maps"], "selected": done[0].id}
    session.save()
    return session, done, failed, cancelled


def test_new_session_folder_is_created_with_an_empty_session_json(tmp_path):
    session = open_session(tmp_path / "s")
    assert json.loads((tmp_path / "s" / SESSION_JSON).read_text()) == {
        "schema_version": 1, "models": [], "data": [], "results": [], "layout": {}}
    assert session.warnings == []


def test_open_without_create_refuses_a_folder_that_is_not_a_session(tmp_path):
    with pytest.raises(BadInput, match="is not a session folder"):
        open_session(tmp_path, create=False)


def test_reopened_session_is_identical(tmp_path):
    session, done, failed, cancelled = filled_session(tmp_path / "s")
    again = open_session(tmp_path / "s", create=False)
    assert again.warnings == []
    assert again.results == session.results == [*done, failed, cancelled]
    assert again.models == ["dir:/m"] and again.data == ["demo:partworld?n=4"]
    assert again.layout == {"panes": ["activation_maps"], "selected": done[0].id}
    for entry, value in zip(done, (1.5, -2.0)):
        loaded = again.load(entry.id)
        assert_same_arrays(loaded.arrays, record(entry.method, value).arrays)
        assert loaded.metrics == {"score": value} and loaded.kind == f"{entry.method}-kind"


def test_failed_and_cancelled_entries_keep_their_reason(tmp_path):
    filled_session(tmp_path / "s")
    again = open_session(tmp_path / "s")
    unfinished = [(e.method, e.status, e.reason) for e in again.results if e.status != "done"]
    assert unfinished == [("baseline", "failed", "RuntimeError: out of memory"),
                          ("activations", "cancelled", "cancelled by the user")]
    assert not again.result_dir(again.results[2].id).exists()


def test_truncated_session_json_reopens_every_result_from_results_dir(tmp_path):
    folder = tmp_path / "s"
    _, done, _, _ = filled_session(folder)
    path = folder / SESSION_JSON
    path.write_text(path.read_text()[:100])
    again = open_session(folder)
    assert len(again.warnings) == 1
    assert "damaged" in again.warnings[0] and "reopened the 2 results found in results/" in again.warnings[0]
    assert sorted(e.id for e in again.results) == sorted(e.id for e in done)
    assert {e.method: (e.kind, e.status) for e in again.results} == {
        "activations": ("activations-kind", "done"), "baseline": ("baseline-kind", "done")}
    assert again.load(done[1].id).metrics == {"score": -2.0}
    # the repaired list was saved: the next open needs no repair
    assert open_session(folder).warnings == []


def test_a_damaged_result_folder_is_skipped_when_rebuilding(tmp_path):
    folder = tmp_path / "s"
    session, done, _, _ = filled_session(folder)
    (session.result_dir(done[0].id) / "result.json").write_text("{")
    (folder / SESSION_JSON).write_text("not json")
    again = open_session(folder)
    assert [e.id for e in again.results] == [done[1].id]


def test_results_listed_but_missing_on_disk_are_dropped_with_a_warning(tmp_path):
    folder = tmp_path / "s"
    session, done, failed, cancelled = filled_session(folder)
    shutil.rmtree(session.result_dir(done[0].id))
    again = open_session(folder)
    assert again.results == [done[1], failed, cancelled]  # unfinished ones never had a folder
    assert again.warnings == [f"1 results listed in {SESSION_JSON} are missing on disk"]


def test_a_session_from_a_newer_deepscope_is_rebuilt_from_results(tmp_path):
    folder = tmp_path / "s"
    _, done, _, _ = filled_session(folder)
    stored = json.loads((folder / SESSION_JSON).read_text())
    stored["schema_version"] = 99
    (folder / SESSION_JSON).write_text(json.dumps(stored))
    again = open_session(folder)
    assert "newer DeepScope" in again.warnings[0]
    assert sorted(e.id for e in again.results) == sorted(e.id for e in done)


def test_session_save_leaves_no_temp_files(tmp_path):
    session, *_ = filled_session(tmp_path / "s")
    session.save()
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["results", SESSION_JSON]


def test_unknown_result_id_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="no result 'nope'"):
        open_session(tmp_path / "s").entry("nope")
