"""Result folders: identical round trip, atomic replace, damage and versions, no pickle."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine.errors import BadInput
from engine.results import (ARRAYS_NPZ, RESULT_JSON, SCHEMA_VERSION, ResultRecord,
                            load_result, read_header, save_result)
from engine_testkit import assert_same_arrays


def sample_record() -> ResultRecord:
    rng = np.random.default_rng(0)
    return ResultRecord(
        kind="activations", method="activations", config={"top_k": 3, "names": ["a", "b"]},
        model="dir:/m", data="demo:partworld?n=4", seed=7,
        metrics={"max_activation/conv5": 1.25, "accuracy": math.nan, "inf": math.inf, "count": 3},
        arrays={"maps/conv5": rng.standard_normal((2, 3, 4, 4)).astype(np.float32),
                "labels": np.array([0, -1], np.int64), "mask": rng.random((2, 5)) > 0.5,
                "with_nan": np.array([np.nan, 1.0, -0.0]), "empty": np.zeros((0, 3), np.float16)},
        meta={"layers": ["conv5"], "sample_names": ["x", "y"]},
        versions={"python": "3.11", "torch": "2.14.1"})


def test_save_then_load_is_identical(tmp_path):
    record = sample_record()
    loaded = load_result(save_result(record, tmp_path / "r"))
    assert_same_arrays(loaded.arrays, record.arrays)
    assert loaded.metrics["max_activation/conv5"] == 1.25 and loaded.metrics["count"] == 3
    assert math.isnan(loaded.metrics["accuracy"])
    assert math.isnan(loaded.metrics["inf"])  # JSON has no Inf: not-a-finite-number reads as NaN
    for field in ("kind", "method", "config", "model", "data", "seed", "status", "meta", "versions"):
        assert getattr(loaded, field) == getattr(record, field), field
    assert loaded.schema_version == SCHEMA_VERSION


def test_result_json_holds_the_contract_fields(tmp_path):
    save_result(sample_record(), tmp_path / "r")
    header = json.loads((tmp_path / "r" / RESULT_JSON).read_text())
    assert {"kind", "method", "schema_version", "config", "model", "data", "seed", "versions",
            "status", "metrics", "arrays"} <= set(header)
    assert header["arrays"] == sorted(sample_record().arrays)
    assert header["metrics"]["accuracy"] is None


def test_save_fills_in_library_versions_when_none_given(tmp_path):
    record = sample_record()
    record.versions = {}
    header = read_header(save_result(record, tmp_path / "r"))
    import torch

    assert header["versions"]["torch"] == torch.__version__
    assert header["versions"]["numpy"] == np.__version__


def test_saving_over_an_existing_result_replaces_it_and_leaves_no_temp_folders(tmp_path):
    target = tmp_path / "r"
    target.mkdir()
    (target / "stale.txt").write_text("from an older run")
    record = sample_record()
    save_result(record, target)
    record.arrays = {"only": np.arange(3)}
    save_result(record, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    assert sorted(p.name for p in target.iterdir()) == [ARRAYS_NPZ, RESULT_JSON]
    assert list(load_result(target).arrays) == ["only"]


def test_a_failed_save_keeps_the_old_result_and_leaves_no_temp_folders(tmp_path):
    target = save_result(sample_record(), tmp_path / "r")
    broken = sample_record()
    broken.metrics = {"bad": "not a number"}
    with pytest.raises(ValueError):
        save_result(broken, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    assert_same_arrays(load_result(target).arrays, sample_record().arrays)


def test_truncated_result_json_is_bad_input_in_one_line(tmp_path):
    target = save_result(sample_record(), tmp_path / "r")
    path = target / RESULT_JSON
    path.write_text(path.read_text()[:57])
    with pytest.raises(BadInput) as info:
        load_result(target)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "damaged" in message


def test_folder_without_result_json_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="is not a result folder"):
        load_result(tmp_path)


def test_missing_or_damaged_arrays_are_bad_input(tmp_path):
    target = save_result(sample_record(), tmp_path / "r")
    (target / ARRAYS_NPZ).write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(BadInput, match="damaged or missing"):
        load_result(target)
    np.savez(target / ARRAYS_NPZ, labels=np.zeros(2))
    with pytest.raises(BadInput, match="lacks arrays the result lists: empty, maps/conv5, mask, with_nan$"):
        load_result(target)


def test_a_newer_schema_is_refused(tmp_path):
    target = save_result(sample_record(), tmp_path / "r")
    header = json.loads((target / RESULT_JSON).read_text())
    header["schema_version"] = SCHEMA_VERSION + 1
    (target / RESULT_JSON).write_text(json.dumps(header))
    with pytest.raises(BadInput, match=rf"newer DeepScope \(schema {SCHEMA_VERSION + 1} > {SCHEMA_VERSION}\)"):
        load_result(target)


def test_schema_0_is_upgraded_on_load(tmp_path):
    target = tmp_path / "old"
    target.mkdir()
    old = {"kind": "activations", "method": "activations", "config": {"top_k": 2},
           "model": "demo:partworld-cnn", "data": "demo:partworld", "seed": 1, "status": "done",
           "metrics": {"accuracy": 0.5, "gone": None}, "arrays": ["labels"]}  # no schema_version, meta, versions
    (target / RESULT_JSON).write_text(json.dumps(old))
    np.savez_compressed(target / ARRAYS_NPZ, labels=np.array([3, 1]))
    record = load_result(target)
    assert record.schema_version == 1 and record.meta == {} and record.versions == {}
    assert record.metrics["accuracy"] == 0.5 and math.isnan(record.metrics["gone"])
    assert record.arrays["labels"].tolist() == [3, 1] and record.seed == 1


class _Marker:
    """Unpickling this would create a file: proof that loading ran code."""

    path = ""

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_arrays_are_read_without_pickle(tmp_path):
    target = save_result(sample_record(), tmp_path / "r")
    marker = tmp_path / "unpickled"
    evil = _Marker()
    evil.path = str(marker)
    arrays = dict(sample_record().arrays)
    arrays["mask"] = np.array([evil], dtype=object)
    np.savez(target / ARRAYS_NPZ, **arrays)  # numpy pickles object arrays
    with pytest.raises(BadInput, match="damaged or missing"):
        load_result(target)
    assert not marker.exists()
    with np.load(target / ARRAYS_NPZ, allow_pickle=False) as npz:  # and plain arrays are plain
        assert npz["labels"].tolist() == [0, -1]


@pytest.mark.parametrize("text", ["[1, 2]", '{"method": "activations"}', "null"])
def test_json_that_is_not_a_result_header_is_bad_input(tmp_path, text):
    target = save_result(sample_record(), tmp_path / "r")
    (target / RESULT_JSON).write_text(text)
    with pytest.raises(BadInput, match="is damaged"):
        load_result(target)
