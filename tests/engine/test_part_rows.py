"""The rows the part-metric views show (engine/figures/part_rows.py): both models' layers, the summary."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.analysis import AnalysisRequest, execute
from engine.figures.part_rows import layer_rows, summary
from engine.jobs import Progress
from engine.methods.part_interpretability.result import PartInterpretabilityResult
from engine_testkit import TINY_DATA


@pytest.fixture(scope="module")
def records(model_dir):
    spec = f"dir:{model_dir}"

    def run(method, model2="", **settings):
        return execute(AnalysisRequest(method, spec, TINY_DATA, settings=settings, device="cpu", model2=model2),
                       Progress())

    # the tiny data's cars show their landmarks on enough images for a std (test_part_metrics)
    return {"alone": run("location-instability", class_name="car"),
            "both": run("location-instability", spec, class_name="car"),
            "parts": run("part-interpretability", spec)}


def test_without_model2_one_row_and_no_ratio(records):
    record = records["alone"]
    header, rows = summary(record)
    assert header == ["model", "layer", "mean instability", "accuracy"]
    assert rows == [[record.model, "conv5", record.metrics["instability/conv5"], record.metrics["accuracy"]]]
    (row,) = layer_rows(record)
    a = record.arrays
    assert (row.label, row.layer, row.model) == ("conv5", "conv5", record.model)
    assert np.array_equal(row.matrix, a["distance_std/conv5"], equal_nan=True)
    assert row.groups == [record.meta["categories"][c] for c in a["category/conv5"]]


def test_with_model2_both_layers_and_the_ratio(records):
    record = records["both"]
    _, rows = summary(record)
    assert [r[:2] for r in rows] == [[record.model, "conv5"], [record.meta["model2"], "conv5"],
                                     ["ratio (model ÷ model2)", ""]]
    assert rows[2][2] == pytest.approx(1.0) and math.isnan(rows[2][3])  # the same model twice
    assert [r.label for r in layer_rows(record)] == ["conv5", "model2 conv5"]


def test_interpretability_rows_are_each_filters_best_part_and_hit_rates(records):
    record = records["parts"]
    result = PartInterpretabilityResult.from_record(record)
    row = layer_rows(record)[0]
    m = result.layers["conv5"]
    assert row.units.tolist() == [0, 1, 2, 3]
    assert row.groups == [result.part_names[p] if p >= 0 else "" for p in m.part()]
    assert np.array_equal(row.values, m.interpretability(), equal_nan=True)
    assert np.array_equal(row.matrix, m.hit_rate, equal_nan=True)
    assert summary(record)[1][-1][:3] == ["gain (model − model2)", "", record.metrics["interpretability_gain"]]
