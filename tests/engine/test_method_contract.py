"""One table drives the same contract over every registered method (STYLE.md, after Captum).

Progress monotone to 1, cancel within one step, no hooks left, save→load identical,
same seed same result, config JSON round trip.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine import settings
from engine.analysis import AnalysisRequest, ModelCache, execute, method_layers, seed_everything
from engine.data import load_data
from engine.export import data_text
from engine.figures import render
from engine.jobs import CancelToken, Cancelled, Progress, run_job
from engine.methods import METHODS, MethodInputs, method_for_kind
from engine.results import load_result, save_result
from engine.models import load_model
from engine_testkit import (TINY_DATA, TINY_FACES, TINY_POINTS, assert_same_arrays, hooks_left,
                            write_attributes_dir, write_icnn_dir, write_point_model_dir)

pytestmark = pytest.mark.filterwarnings(
    "ignore:Input Tensor 0 did not already require gradients:UserWarning",
    "ignore:Internal batch size cannot be less than:UserWarning")

# (method, settings as the CLI's --set would give them): small, so each run takes well under 1 s;
# TINY_GRAPH stands for the folder of a graph mined on the tiny model (the `tiny_graph` fixture)
TINY_GRAPH = "@tiny-graph"
GRAPH_FOLDER: list[str] = []
CASES = [
    ("activations", {"top_k": "2", "samples_kept": "3", "batch_size": "4"}),
    ("baseline", {"ig_steps": "4", "batch_size": "4", "internal_batch_size": "8",
                  "occlusion_window": "16", "occlusion_stride": "16"}),
    ("information", {"grid": "4", "iterations": "4", "draws": "2", "eval_draws": "2", "judge_draws": "2", "eval_every": "2", "repeats": "2",
                     "batch_size": "4"}),
    ("explanatory-graph", {"iterations": "2", "parents": "3", "batch_size": "4"}),
    ("graph-inference", {"graph": TINY_GRAPH, "batch_size": "4"}),
    ("part-localization", {"graph": TINY_GRAPH, "shots": "1", "nodes": "5", "batch_size": "4"}),
    # the car is the only category on two tiny images: the others' landmarks give no std (§2.8 step 3)
    ("location-instability", {"class_name": "car", "images": "4", "batch_size": "4"}),
    ("part-interpretability", {"batch_size": "4"}),
    ("interpretable-training", {"batch_size": "4"}),
    ("consistency", {"epochs": "2", "batch_size": "4", "maps_images": "2"}),  # the tiny model against itself
    ("pointcloud-utility", {"samples": "2", "rotations": "2", "iterations": "4", "draws": "2", "eval_draws": "2",
                            "judge_draws": "2", "eval_every": "2", "neighbours": "4", "attack_targets": "2",
                            "attack_steps": "3"}),
    ("concepts", {"epochs": "2", "batch_size": "4", "width": "4"}),  # "car" by the tiny model's other 4 outputs
    ("decision-tree", {"batch_size": "4"}),
    ("dataset-bias", {"masking_images": "6", "evidence_images": "2", "batch_size": "4"}),
    # 16 filters on the car's two images: of 4 at most one fired on both, and instability needs two
    ("explainer", {"epochs": "1", "filters": "16", "batch_size": "4", "samples_kept": "2", "images": "4",
                   "crop": "none", "class_name": "car"}),
    ("transplant", {"new_category": "car", "epochs": "1", "batch_size": "4", "teacher_images": "1",
                    "pool_images": "1", "shots": "0,1", "width": "4"}),
]
# methods that read masked filters run on a tiny interpretable CNN (ICNN_FOLDER) instead,
# point methods on a tiny untrained PointNet++ (POINT_FOLDER) and clouds of 64 points,
ICNN_METHODS = {"interpretable-training", "decision-tree"}
ICNN_FOLDER: list[str] = []
POINT_METHODS = {"pointcloud-utility"}
POINT_FOLDER: list[str] = []
# methods that read attribute logits on a tiny attribute CNN (ATTRIBUTES_FOLDER) over faces
ATTRIBUTE_METHODS = {"dataset-bias"}
ATTRIBUTES_FOLDER: list[str] = []
NAMES = [name for name, _ in CASES]
TRANSPLANT_DATA = "demo:partworld?n=20&seed=3&size=32"


def test_the_table_covers_every_registered_method():
    assert sorted(NAMES) == sorted(METHODS)


def inputs_for(model, name: str, layers=None, seed=0) -> MethodInputs:
    """A method that needs a second model compares the tiny model with itself."""
    data = load_data(data_for(name))
    return MethodInputs(model, data, method_layers(METHODS[name], model.module, layers), seed,
                        model if METHODS[name].needs_model2 else None)


@pytest.fixture(scope="module", autouse=True)
def tiny_graph(model_spec, tmp_path_factory):
    """The graph TINY_GRAPH names: one mined on the tiny model and data, for the methods that read one."""
    folder = tmp_path_factory.mktemp("tiny-graph") / "graph"
    save_result(run_request("explanatory-graph", {"iterations": "2", "batch_size": "4"}, model_spec), folder)
    GRAPH_FOLDER.append(str(folder))


@pytest.fixture(scope="module", autouse=True)
def tiny_icnn(tmp_path_factory):
    ICNN_FOLDER.append(str(write_icnn_dir(tmp_path_factory.mktemp("tiny-icnn"))))


@pytest.fixture(scope="module", autouse=True)
def tiny_attributes(tmp_path_factory):
    ATTRIBUTES_FOLDER.append(str(write_attributes_dir(tmp_path_factory.mktemp("tiny-attributes"))))


@pytest.fixture(scope="module", autouse=True)
def tiny_point_model(tmp_path_factory):
    POINT_FOLDER.append(str(write_point_model_dir(tmp_path_factory.mktemp("tiny-points"))))


def spec_for(name: str, model_spec: str) -> str:
    if name in ATTRIBUTE_METHODS:
        return f"dir:{ATTRIBUTES_FOLDER[-1]}"
    if name in POINT_METHODS:
        return f"dir:{POINT_FOLDER[-1]}"
    return f"dir:{ICNN_FOLDER[-1]}" if name in ICNN_METHODS else model_spec


def data_for(name: str) -> str:
    if name == "transplant":  # a teacher's image, a pool image and two to measure on, of one category
        return TRANSPLANT_DATA
    if name in ATTRIBUTE_METHODS:
        return TINY_FACES
    return TINY_POINTS if name in POINT_METHODS else TINY_DATA


def break_forward(data) -> None:
    """Inputs the model cannot run: images too small for three pools, points in two dimensions."""
    if data.kind == "points":
        data.points = data.points[:, :, :2]
    else:
        data.images = data.images[:, :, :5, :5]


@pytest.fixture
def tiny_model(request, model_spec):
    """The case's model, loaded fresh each test: tests count and check hooks on its modules."""
    return load_model(spec_for(request.node.callspec.params["name"], model_spec))


def resolved(values: dict) -> dict:
    return {k: GRAPH_FOLDER[-1] if v == TINY_GRAPH else v for k, v in values.items()}


def config_for(name, values):
    return settings.from_strings(METHODS[name].config_cls, resolved(values))


@pytest.mark.parametrize("name, values", CASES, ids=NAMES)
def test_progress_is_monotone_and_ends_at_one(name, values, tiny_model):
    reports = []
    progress = Progress(lambda f, m: reports.append(f))
    outcome = run_job(lambda p: METHODS[name].compute(inputs_for(tiny_model, name), config_for(name, values), p),
                      progress)
    assert outcome.ok, outcome.reason
    assert len(reports) >= 3  # the method itself reported, not only run_job's final step
    assert all(0.0 <= a <= b <= 1.0 for a, b in zip(reports, reports[1:]))
    assert reports[-1] == 1.0 and progress.fraction == 1.0
    assert hooks_left(tiny_model.module) == {}


@pytest.mark.parametrize("name, values", CASES, ids=NAMES)
def test_cancel_after_the_first_step(name, values, tiny_model):
    token = CancelToken()
    reports = []

    def cancel_on_first_report(fraction, message):
        reports.append(fraction)
        token.cancel()

    progress = Progress(cancel_on_first_report, token)
    with pytest.raises(Cancelled):
        METHODS[name].compute(inputs_for(tiny_model, name), config_for(name, values), progress)
    assert len(reports) == 1  # the very next step raised
    assert hooks_left(tiny_model.module) == {}
    outcome = run_job(lambda p: METHODS[name].compute(inputs_for(tiny_model, name), config_for(name, values), p),
                      Progress(token=token))
    assert (outcome.status, outcome.reason) == ("cancelled", "cancelled by the user")


@pytest.mark.parametrize("name, values", CASES, ids=NAMES)
def test_no_hooks_are_left_after_a_failure(name, values, tiny_model):
    inputs = inputs_for(tiny_model, name)
    break_forward(inputs.data)
    outcome = run_job(lambda p: METHODS[name].compute(inputs, config_for(name, values), p), Progress())
    assert outcome.status == "failed" and outcome.reason
    assert hooks_left(tiny_model.module) == {}


def run_request(name, values, model_spec, seed=0, cache=None):
    spec = spec_for(name, model_spec)
    request = AnalysisRequest(name, spec, data_for(name), settings=resolved(values), seed=seed, device="cpu",
                              model2=spec if METHODS[name].needs_model2 else "")
    return execute(request, Progress(), cache)


@pytest.mark.parametrize("name, values", CASES, ids=NAMES)
def test_save_load_from_record_to_record_is_identical(name, values, model_spec, tmp_path):
    record = run_request(name, values, model_spec, seed=3)
    assert (record.kind, record.method, record.seed, record.model) == \
        (METHODS[name].kind, name, 3, spec_for(name, model_spec))
    assert method_for_kind(record.kind) is METHODS[name]
    loaded = load_result(save_result(record, tmp_path / "r"))
    again = METHODS[name].result_cls.from_record(loaded).to_record(record.model, record.data, record.seed)
    assert_same_arrays(again.arrays, record.arrays)
    assert again.config == record.config == json.loads(json.dumps(record.config))
    assert again.meta == record.meta
    assert json.dumps(again.metrics, sort_keys=True) == json.dumps(record.metrics, sort_keys=True)
    assert record.metrics and all(np.isfinite(v) for v in record.metrics.values())


@pytest.mark.parametrize("name, values", CASES, ids=NAMES)
def test_same_seed_gives_identical_arrays(name, values, model_spec):
    cache = ModelCache()
    first = run_request(name, values, model_spec, seed=11, cache=cache)
    seed_everything(999)  # whatever ran in between must not matter
    second = run_request(name, values, model_spec, seed=11, cache=cache)
    assert_same_arrays(first.arrays, second.arrays)
    assert first.metrics == second.metrics


@pytest.mark.parametrize("name, values", CASES, ids=NAMES)
def test_config_json_round_trip(name, values):
    config_cls = METHODS[name].config_cls
    for config in (config_cls(), config_for(name, values)):
        text = json.dumps(settings.to_dict(config))
        assert settings.from_dict(config_cls, json.loads(text)) == config
    described = settings.describe(config_cls)
    assert [f["name"] for f in described] == list(settings.to_dict(config_cls()))
    assert all(f["doc"] for f in described)


# what the shared figure and table show for the CASES above on 6 samples, 4 filters a layer:
# activations: 4 filters × top_k 2 samples, one row a filter; baseline: 6 samples × (image + 4 maps)
# information: 4 samples × (image + 1 layer), its colour bar and the foreground/background curve
# explanatory-graph: the graph panel and 6 strongest nodes × 5 patches; a row a node (4 filters × 6 nodes)
PARTS_ON_TWO_TINY_IMAGES = 4  # only the car (images 0 and 5) appears twice in TINY_DATA: its 4 parts
# graph-inference: 6 images on 2 rows; part-localization: the bars and the car's one test image (2 × 1 grid)
# location-instability, part-interpretability: one layer, bars and heat map; a row a filter (4)
# interpretable-training: κ, losses, silent bars, β histogram, table A and its colour bar; a row a filter of 2 layers
# decision-tree: the tree, the waterfall, the metrics per depth; a row a node: the car's one training
# image (a leaf) and the root
# consistency: the image, A, B and orders 0-2 with the residual on one row, the bars and the curves; a row a direction
# pointcloud-utility: the first cloud coloured by importance and its colour bar; a row a metric
# dataset-bias: 3 matrices with their colour bar, the relationship graph, then the ranking, the masking table and
# ρ_a, ρ_b; a row a pair of the 7 face attributes (21)
# transplant: the scores, the image, its foreground and 4 variants (teacher, transplanted, finetune_0, _1)
# explainer: losses, share, error, instability (and 3 empty cells); the image and 3 filters of each layer; a row an image
# concepts: the image, its waterfall, importance bars, ŷ against explained, w against α; a row an image
FIGURE_GRID = {"activations": (4, 2), "baseline": (6, 5), "information": (4, 2), "explanatory-graph": (6, 5),
               "graph-inference": (2, 3), "part-localization": (2, 1), "location-instability": (1, 2),
               "part-interpretability": (1, 2), "interpretable-training": (1, 5),
               "consistency": (1, 7), "pointcloud-utility": (1, 1), "concepts": (1, 5), "decision-tree": (1, 4),
               "dataset-bias": (2, 4), "explainer": (2, 7), "transplant": (1, 7)}
FIGURE_EXTRA_AXES = {"information": 2, "explanatory-graph": 1, "part-localization": 1, "interpretable-training": 1,
                     "consistency": 2, "pointcloud-utility": 1, "dataset-bias": 1}
TABLE_ROWS = {"activations": 4, "baseline": 6, "information": 6, "explanatory-graph": 24,
              "graph-inference": 6, "part-localization": PARTS_ON_TWO_TINY_IMAGES, "location-instability": 4,
              "part-interpretability": 4, "interpretable-training": 8,
              "consistency": 2, "pointcloud-utility": 9, "concepts": 6, "decision-tree": 2, "dataset-bias": 21,
              "explainer": 6, "transplant": 5}


@pytest.mark.parametrize("name, values", CASES, ids=NAMES)
def test_every_result_has_a_figure_and_a_table(name, values, model_spec):
    assert set(FIGURE_GRID) == set(TABLE_ROWS) == set(METHODS)
    record = run_request(name, values, model_spec)
    rows, cols = FIGURE_GRID[name]
    assert len(render(record).axes) == rows * cols + FIGURE_EXTRA_AXES.get(name, 0)
    table = json.loads(data_text(record, "json"))["table"]
    assert len(table["rows"]) == TABLE_ROWS[name]
    assert all(len(row) == len(table["columns"]) for row in table["rows"])
    assert len(data_text(record, "csv").splitlines()) == TABLE_ROWS[name] + 1
