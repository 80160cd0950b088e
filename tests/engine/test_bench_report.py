"""The benchmark report runner (issue 10 §3): every benchmark's last JSON kept, a failure
reported with its reason while the others still run, one JSON and one Markdown table."""
from __future__ import annotations

import json
import sys

import pytest

from tests.bench import __main__ as bench

PRINTS = "print('warming up'); import json; print(json.dumps({'ratio': 1.25, 'sizes': {'n': 64}}, indent=2))"


def test_the_report_keeps_each_benchmark_s_json_and_names_a_failure(monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "BENCHES", {
        "good": [sys.executable, "-c", PRINTS],
        "broken": [sys.executable, "-c", "import sys; sys.exit('no model file')"],
        "silent": [sys.executable, "-c", "print('done')"]})
    assert bench.main(["--out", str(tmp_path)]) == 1  # not every benchmark succeeded
    report = json.loads((tmp_path / "bench-report.json").read_text())
    assert report["benches"]["good"]["results"] == {"ratio": 1.25, "sizes": {"n": 64}}
    assert report["benches"]["broken"] == {"status": "failed", "seconds": report["benches"]["broken"]["seconds"],
                                           "error": "exit 1: no model file"}
    assert report["benches"]["silent"]["error"] == "printed no JSON object"
    assert report["machine"]["cpus"] >= 1 and report["machine"]["gpu"]
    table = (tmp_path / "bench-report.md").read_text()
    assert "| ratio | 1.25 |" in table and "| sizes.n | 64 |" in table
    assert "## broken (failed" in table and "`exit 1: no model file`" in table


def test_only_runs_the_named_benchmarks_and_refuses_unknown_ones(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "BENCHES", {"good": [sys.executable, "-c", PRINTS], "other": ["false"]})
    assert bench.main(["--out", str(tmp_path), "--only", "good"]) == 0
    assert list(json.loads((tmp_path / "bench-report.json").read_text())["benches"]) == ["good"]
    with pytest.raises(SystemExit) as exited:
        bench.main(["--out", str(tmp_path), "--only", "nope"])
    assert exited.value.code == 2
    assert "unknown benchmark 'nope'; valid: good, other" in capsys.readouterr().err
