"""The CLI contract (DESIGN.md): subcommands, result folders, exports and exit codes 0/2/3/130."""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import cli
from engine.jobs import JobOutcome
from engine.methods import METHODS
from engine.results import load_result

REPO = Path(__file__).resolve().parents[2]
SMALL_DATA = "demo:partworld?n=3&seed=1&size=32"


def deepscope(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    """`python -m engine.cli ARGS` run from the repository, as a script would."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(done: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    assert done.returncode == code, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    lines = [l for l in done.stderr.replace("\r", "\n").splitlines() if l.startswith("deepscope ")]
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.mark.slow
def test_methods_json_lists_every_method_with_its_config_fields():
    done = deepscope("methods", "--json")
    assert done.returncode == 0, done.stderr
    table = {m["name"]: m for m in json.loads(done.stdout)}
    assert set(table) == set(METHODS) >= {"activations", "baseline"}
    fields = {name: {f["name"]: f for f in m["config"]} for name, m in table.items()}
    assert list(fields["activations"]) == ["top_k", "samples_kept", "batch_size"]
    assert fields["activations"]["top_k"]["default"] == 8 and fields["activations"]["top_k"]["unit"] == "samples"
    assert fields["baseline"]["methods"]["default"] == ["saliency", "integrated_gradients",
                                                        "grad_cam", "occlusion"]
    assert fields["baseline"]["ig_steps"]["type"] == "int" and table["baseline"]["kind"] == "attribution"


@pytest.mark.slow
def test_run_with_an_unknown_layer_is_exit_2_in_one_line(tmp_path, model_spec):
    done = deepscope("run", "activations", "--model", model_spec, "--data", SMALL_DATA,
                     "--layers", "conv2,conv9", "--out", str(tmp_path / "r"))
    assert_one_line_error(done, 2, "unknown layer conv9", "valid layers: conv1, conv2, conv3")
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_run_with_an_unknown_data_spec_is_exit_2(tmp_path, model_spec):
    done = deepscope("run", "baseline", "--model", model_spec, "--data", "imagenet:/x",
                     "--out", str(tmp_path / "r"))
    assert_one_line_error(done, 2, "unknown data spec 'imagenet:/x'; valid kinds: demo:, folder:, npy:, text:")


@pytest.fixture(scope="module")
def cli_result(tmp_path_factory, model_spec):
    out = tmp_path_factory.mktemp("cli") / "result"
    done = deepscope("run", "activations", "--model", model_spec, "--data", "demo:partworld?n=8",
                     "--set", "top_k=3", "--seed", "5", "--out", str(out))
    return done, out


@pytest.mark.slow
def test_run_activations_writes_a_result_folder(cli_result, model_spec):
    done, out = cli_result
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    header = json.loads((out / "result.json").read_text())
    assert (header["kind"], header["method"], header["seed"], header["status"]) == \
        ("activations", "activations", 5, "done")
    assert header["model"] == model_spec and header["data"] == "demo:partworld?n=8"
    assert header["config"] == {"top_k": 3, "samples_kept": 16, "batch_size": 32}
    assert {"maps/conv5", "filter_max/conv5", "topk_index/conv5"} <= set(header["arrays"])
    record = load_result(out)
    assert record.arrays["maps/conv5"].shape == (8, 4, 12, 12)      # 96 px → three pools → 12
    assert record.arrays["topk_index/conv5"].shape == (4, 3)
    assert header["metrics"]["max_activation/conv5"] == \
        pytest.approx(float(record.arrays["filter_max/conv5"].mean()))
    assert record.arrays["labels"].tolist() == [0, 1, 2, 3, 4, 0, 1, 2]


@pytest.mark.slow
def test_export_png_from_the_command_line(cli_result, tmp_path):
    _, out = cli_result
    done = deepscope("export", str(out), "--format", "png", "--out", str(tmp_path / "f.png"), "--dpi", "60")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def run_main(argv) -> int:
    return cli.main([str(a) for a in argv])


MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_export_figures_have_the_right_format(cli_result, tmp_path, fmt, restore_sigint, capsys):
    path = tmp_path / f"figure.{fmt}"
    assert run_main(["export", cli_result[1], "--format", fmt, "--out", path, "--dpi", 50]) == 0
    data = path.read_bytes()
    if fmt == "svg":
        assert b"<svg" in data[:2000]
    else:
        assert data.startswith(MAGIC[fmt])
    assert capsys.readouterr().out.strip() == str(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left


def test_export_png_size_follows_dpi(cli_result, tmp_path, restore_sigint):
    sizes = []
    for dpi in (40, 80):
        assert run_main(["export", cli_result[1], "--format", "png", "--out", tmp_path / f"{dpi}.png",
                         "--dpi", dpi]) == 0
        sizes.append(Image.open(tmp_path / f"{dpi}.png").size)
    assert abs(sizes[1][0] / sizes[0][0] - 2) < 0.1 and abs(sizes[1][1] / sizes[0][1] - 2) < 0.1


def test_export_csv_has_one_row_per_filter(cli_result, tmp_path, restore_sigint):
    assert run_main(["export", cli_result[1], "--format", "csv", "--out", tmp_path / "t.csv"]) == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text())))
    assert rows[0] == ["layer", "filter", "mean_of_max", "mean_of_mean", "top_sample"]
    record = load_result(cli_result[1])
    peak = record.arrays["filter_max/conv5"]
    assert [r[:2] for r in rows[1:]] == [["conv5", str(f)] for f in range(4)]
    assert [float(r[2]) for r in rows[1:]] == pytest.approx(peak.mean(0).tolist())
    tops = record.arrays["topk_index/conv5"][:, 0]
    assert [r[4] for r in rows[1:]] == [record.meta["sample_names"][i] for i in tops]


def test_export_json_holds_the_header_and_the_table(cli_result, tmp_path, restore_sigint):
    assert run_main(["export", cli_result[1], "--format", "json", "--out", tmp_path / "t.json"]) == 0
    exported = json.loads((tmp_path / "t.json").read_text())
    header = json.loads((cli_result[1] / "result.json").read_text())
    assert exported["metrics"] == header["metrics"] and exported["kind"] == "activations"
    assert exported["table"]["columns"][0] == "layer" and len(exported["table"]["rows"]) == 4


def test_export_into_a_missing_folder_is_exit_2(cli_result, tmp_path, restore_sigint, capsys):
    assert run_main(["export", cli_result[1], "--format", "csv", "--out", tmp_path / "no" / "t.csv"]) == 2
    assert capsys.readouterr().err.strip().endswith(f"folder {tmp_path / 'no'} does not exist")


def test_a_method_that_raises_is_exit_3_with_its_reason(monkeypatch, tmp_path, model_spec,
                                                       restore_sigint, capsys):
    def explode(inputs, config, progress):
        progress.step(0, 1, "about to fail")
        raise RuntimeError("method exploded\nwith details nobody needs")

    monkeypatch.setitem(METHODS, "activations", dataclasses.replace(METHODS["activations"], compute=explode))
    code = run_main(["run", "activations", "--model", model_spec, "--data", SMALL_DATA,
                     "--out", tmp_path / "r"])
    err = capsys.readouterr().err
    assert code == 3
    assert err.strip().splitlines()[-1] == "deepscope run: RuntimeError: method exploded"
    assert "Traceback" not in err and not (tmp_path / "r").exists()


def test_bad_settings_are_exit_2(tmp_path, model_spec, restore_sigint, capsys):
    code = run_main(["run", "activations", "--model", model_spec, "--data", SMALL_DATA,
                     "--set", "top_k=many", "--out", tmp_path / "r"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "deepscope run: setting top_k='many' is not a valid int"
    assert run_main(["run", "activations", "--model", model_spec, "--data", SMALL_DATA,
                     "--set", "top_k", "--out", tmp_path / "r"]) == 2


def test_a_comparison_without_its_second_model_is_exit_2(tmp_path, model_spec, restore_sigint, capsys):
    code = run_main(["run", "consistency", "--model", model_spec, "--data", SMALL_DATA, "--out", tmp_path / "r"])
    assert code == 2 and not (tmp_path / "r").exists()
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "deepscope run: consistency compares two models: give the second with --model2"


def test_ctrl_c_midway_is_exit_130(monkeypatch, tmp_path, model_spec, restore_sigint, capsys):
    steps = []

    def interrupted(inputs, config, progress):
        for i in range(5):
            progress.step(i, 5)
            steps.append(i)
            if i == 1:
                signal.raise_signal(signal.SIGINT)  # what Ctrl-C does: main's handler sets the token
        return None

    monkeypatch.setitem(METHODS, "activations",
                        dataclasses.replace(METHODS["activations"], compute=interrupted))
    code = run_main(["run", "activations", "--model", model_spec, "--data", SMALL_DATA,
                     "--out", tmp_path / "r"])
    assert code == 130 and steps == [0, 1]
    assert capsys.readouterr().err.strip().splitlines()[-1] == "deepscope run: cancelled by the user"
    assert not (tmp_path / "r").exists()


def test_exit_codes_of_outcomes():
    assert cli.exit_code(JobOutcome("done")) == 0
    assert cli.exit_code(JobOutcome("failed", bad_input=True)) == 2
    assert cli.exit_code(JobOutcome("failed")) == 3
    assert cli.exit_code(JobOutcome("cancelled")) == 130


def test_in_process_run_matches_the_subprocess_result(cli_result, tmp_path, model_spec, restore_sigint):
    out = tmp_path / "again"
    assert run_main(["run", "activations", "--model", model_spec, "--data", "demo:partworld?n=8",
                     "--set", "top_k=3", "--seed", "5", "--out", out]) == 0
    first, again = load_result(cli_result[1]), load_result(out)
    assert sorted(first.arrays) == sorted(again.arrays)
    for name in first.arrays:
        assert np.array_equal(first.arrays[name], again.arrays[name]), name


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_cuda_is_exit_2(tmp_path, model_spec, restore_sigint, capsys):
    code = run_main(["run", "activations", "--model", model_spec, "--data", SMALL_DATA,
                     "--device", "cuda", "--out", tmp_path / "r"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "deepscope run: --device cuda, but no CUDA device is available here"
