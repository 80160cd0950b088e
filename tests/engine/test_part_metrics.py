"""Known answers of the part metrics (spec: interpretable-cnn §2.8; verification §7.2)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.errors import BadInput
from engine.jobs import Progress
from engine.layers import pick_layers
from engine.methods.base import MethodInputs
from engine.methods.explanatory_graph._metrics import instability_table
from engine.methods.location_instability.api import compute as instability, per_unit
from engine.methods.location_instability.config import LocationInstabilityConfig
from engine.methods.part_interpretability._regions import disc_cover, regions
from engine.methods.part_interpretability.api import compute as interpretability, measure_layer
from engine.methods.part_interpretability.config import PartInterpretabilityConfig
from engine.models import LoadedModel
from engine_testkit import TINY_WIDTHS, images_dataset

DIAGONAL = 224 * np.sqrt(2)  # the paper's crops (§0.1)


# ------------------------------------------------------------------ location instability

def test_a_filter_always_at_a_fixed_offset_from_its_landmark_has_zero_instability():
    rng = np.random.default_rng(0)
    marks = rng.uniform(10, 200, (50, 1, 2))
    positions = marks + [7.0, -4.0]
    table = instability_table(positions, rng.random((50, 1)), marks, 100, among_having=True)
    assert table[0, 0] == pytest.approx(0.0, abs=1e-9)


def test_isotropic_jitter_gives_sigma_over_the_diagonal():
    """verification §7.2: jitter σ px with a large offset → instability ≈ σ/316.8."""
    rng = np.random.default_rng(1)
    marks = rng.uniform(0, 10, (4000, 1, 2))
    positions = marks + [300.0, 0.0] + rng.normal(0, 4.0, marks.shape)
    table = instability_table(positions, np.ones((4000, 1)), marks, 4000, among_having=True)
    assert table[0, 0] / DIAGONAL == pytest.approx(4.0 / DIAGONAL, rel=0.05)


def test_top_images_are_ranked_among_those_showing_the_landmark():
    """§2.8 step 3: the top-T among images with landmark k; §1.8 (the graph) drops them after."""
    marks = np.array([[[np.nan, np.nan]], [[np.nan, np.nan]], [[10.0, 0.0]], [[20.0, 0.0]]])
    positions = np.zeros((4, 1, 2))
    scores = np.array([[9.0], [8.0], [2.0], [1.0]])            # the images lacking k fire most
    among = instability_table(positions, scores, marks, 2, among_having=True)
    after = instability_table(positions, scores, marks, 2, among_having=False)
    assert among[0, 0] == pytest.approx(np.std([10.0, 20.0], ddof=1))
    assert np.isnan(after[0, 0])


def test_a_silent_filter_has_no_position_and_no_instability():
    """A post-ReLU map of zeros peaks at its first cell: those images are left out of its top
    images (else a dead filter, in the same corner on every image, would look perfectly steady)."""
    rng = np.random.default_rng(2)
    marks = rng.uniform(10, 200, (40, 1, 2))
    corner = np.zeros((40, 2, 2))
    scores = np.zeros((40, 2))
    scores[:10, 1] = rng.uniform(1, 2, 10)                      # the second filter fires on 10 images
    table = instability_table(corner, scores, marks, 100, among_having=True)
    assert np.isnan(table[0, 0])                                # silent everywhere: nothing to measure
    distances = np.linalg.norm(marks[:10, 0], axis=1)           # only the images where it fired
    assert table[1, 0] == pytest.approx(np.std(distances, ddof=1))


def test_fewer_than_two_images_with_a_landmark_give_nan_and_are_skipped():
    marks = np.array([[[5.0, 5.0], [1.0, 1.0]], [[9.0, 5.0], [np.nan, np.nan]], [[7.0, 1.0], [np.nan, np.nan]]])
    table = instability_table(np.zeros((3, 1, 2)), np.ones((3, 1)), marks, 100, among_having=True)
    assert np.isfinite(table[0, 0]) and np.isnan(table[0, 1])
    _, value = per_unit(table, np.ones((3, 1)), marks, {"a": np.array([0, 1])}, "score")
    assert value[0] == pytest.approx(table[0, 0])             # the NaN landmark is left out of the mean


def test_the_category_rules_of_several_categories():
    """§2.8 step 6: min over categories (paper) or the one with the highest mean score (code)."""
    table = np.array([[0.3, 0.1]])
    marks = np.array([[[1.0, 1.0], [np.nan, np.nan]], [[np.nan, np.nan], [1.0, 1.0]]])
    scores = np.array([[5.0], [1.0]])                          # fires on category a's image
    groups = {"a": np.array([0]), "b": np.array([1])}
    assert per_unit(table, scores, marks, groups, "min")[1][0] == pytest.approx(0.1)
    assert per_unit(table, scores, marks, groups, "score") == (np.array([0]), pytest.approx(np.array([0.3])))


# ------------------------------------------------------------------ part interpretability

def _parts_and_maps(n=8, side=16, seed=0):
    """Part 0: a random 4×4 square; part 1: the opposite corner; maps at image resolution."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, 2, side, side), bool)
    for i, (r, c) in enumerate(rng.integers(0, side // 2 - 4, (n, 2))):
        masks[i, 0, r:r + 4, c:c + 4] = True
        masks[i, 1, -4:, -4:] = True
    on_part = masks[:, 0].astype(np.float32)
    background = np.zeros_like(on_part)
    background[:, 8:12, 0:4] = 1.0                            # never on either part
    return masks, np.stack([on_part, background], 1)


def test_a_map_that_is_a_parts_mask_has_iou_one_and_counts_and_background_gives_zero():
    masks, maps = _parts_and_maps()
    flat = torch.from_numpy(masks.reshape(len(masks), 2, -1))
    config = PartInterpretabilityConfig(region="upsample", batch_size=3)
    layer = measure_layer(None, "L", maps, flat, (16, 16), config, Progress())
    assert layer.mean_iou[0, 0] == pytest.approx(1.0)
    assert layer.hit_rate[0, 0] == 1.0 and layer.part()[0] == 0 and layer.interpretability()[0] == 1.0
    assert layer.mean_iou[1].max() == pytest.approx(0.0) and layer.interpretability()[1] == 0.0


def test_a_silent_filter_has_no_region():
    threshold = torch.zeros(1)
    assert not regions(torch.zeros(1, 1, 4, 4), threshold, (16, 16)).any()


def test_a_round_rf_is_a_disc_around_the_units_centre():
    cover = disc_cover((4, 4), (32, 32), 3.5, 8.0, 5.0)       # the demo CNN's conv5 grid, × 8 + 3.5
    maps = torch.zeros(1, 1, 4, 4)
    maps[0, 0, 1, 2] = 1.0
    region = regions(maps, torch.ones(1), (32, 32), cover).reshape(32, 32).numpy()
    ys, xs = np.nonzero(region)
    assert (xs.mean(), ys.mean()) == (pytest.approx(19.5), pytest.approx(11.5))
    assert len(xs) == pytest.approx(np.pi * 25, rel=0.1)


# ------------------------------------------------------------------ the methods on a model

def test_data_without_landmarks_or_part_masks_is_refused(tiny_model):
    bare = MethodInputs(tiny_model, images_dataset(np.zeros((3, 3, 32, 32))), ["conv5"])
    with pytest.raises(BadInput, match="no part landmarks"):
        instability(bare, LocationInstabilityConfig(), Progress())
    with pytest.raises(BadInput, match="no part masks"):
        interpretability(bare, PartInterpretabilityConfig(), Progress())


def test_a_layer_that_is_not_conv_is_refused(tiny_model, tiny_data):
    inputs = MethodInputs(tiny_model, tiny_data, ["fc"])
    with pytest.raises(BadInput, match="fc is not a conv layer"):
        instability(inputs, LocationInstabilityConfig(), Progress())
    with pytest.raises(BadInput, match="fc is not a conv layer"):
        interpretability(inputs, PartInterpretabilityConfig(), Progress())


def test_an_interpretable_model_is_measured_at_its_interpretable_layer(tiny_data):
    from engine.models.interpretable import build  # noqa: PLC0415

    torch.manual_seed(0)
    model = LoadedModel(build(5, TINY_WIDTHS).eval(), "icnn", "partworld-icnn")
    inputs = MethodInputs(model, tiny_data, pick_layers(model.module, None))
    assert inputs.layers == ["conv6_masked"]
    metrics = instability(inputs, LocationInstabilityConfig(class_name="car"), Progress()).metrics()
    assert np.isfinite(metrics["instability/conv6_masked"])
    assert "interpretability/conv6_masked" in interpretability(inputs, PartInterpretabilityConfig(), Progress()).metrics()


def test_graph_nodes_are_measured_by_the_same_protocol(tiny_model, tiny_data, tmp_path):
    from engine.methods.explanatory_graph.api import compute as mine  # noqa: PLC0415
    from engine.methods.explanatory_graph.config import ExplanatoryGraphConfig  # noqa: PLC0415
    from engine.results import save_result  # noqa: PLC0415

    graph = mine(MethodInputs(tiny_model, tiny_data, ["conv5"]), ExplanatoryGraphConfig(iterations=1), Progress())
    folder = save_result(graph.to_record("m", "d", 0), tmp_path / "g")
    result = instability(MethodInputs(tiny_model, tiny_data, ["conv4"]),
                         LocationInstabilityConfig(graph=str(folder), class_name="car"), Progress())
    assert result.source == "nodes" and list(result.layers) == ["conv5"]
    assert result.layers["conv5"].positions.shape[1] == graph.graph["conv5"].nodes
    assert np.isfinite(result.metrics()["instability/conv5"])


# ------------------------------------------------------------------ side by side (--model2, issue 5 §2)

def _tiny_icnn() -> LoadedModel:
    from engine.models.interpretable import build  # noqa: PLC0415

    torch.manual_seed(0)
    return LoadedModel(build(5, TINY_WIDTHS).eval(), "icnn", "partworld-icnn")


def test_a_second_model_is_measured_at_its_default_layer_beside_the_first(tiny_model, tiny_data):
    from engine.figures import render  # noqa: PLC0415
    from engine.methods.location_instability.result import LocationInstabilityResult  # noqa: PLC0415
    from engine.methods.part_interpretability.result import PartInterpretabilityResult  # noqa: PLC0415
    from engine.tables import TABLES  # noqa: PLC0415

    inputs = MethodInputs(_tiny_icnn(), tiny_data, ["conv6_masked"], model2=tiny_model)
    alone = instability(MethodInputs(tiny_model, tiny_data, ["conv5"]), LocationInstabilityConfig(class_name="car"),
                        Progress()).metrics()
    both = instability(inputs, LocationInstabilityConfig(class_name="car"), Progress())
    m = both.metrics()
    assert both.model2 == tiny_model.spec and list(both.layers2) == ["conv5"]
    assert m["instability_model2/conv5"] == pytest.approx(alone["instability/conv5"])
    assert m["instability_ratio"] == pytest.approx(m["instability/conv6_masked"] / m["instability_model2/conv5"])
    assert "accuracy_model2" in m
    record = both.to_record("icnn", "d", 0)
    assert LocationInstabilityResult.from_record(record).metrics() == pytest.approx(m, nan_ok=True)
    header, rows = TABLES["location-instability"](record)
    assert {r[0] for r in rows} == {"conv6_masked", "model2 conv5"}

    parts = interpretability(inputs, PartInterpretabilityConfig(), Progress())
    p = parts.metrics()
    assert p["interpretability_gain"] == pytest.approx(p["interpretability/conv6_masked"]
                                                       - p["interpretability_model2/conv5"])
    record2 = parts.to_record("icnn", "d", 0)
    assert PartInterpretabilityResult.from_record(record2).metrics() == pytest.approx(p, nan_ok=True)
    assert {r[0] for r in TABLES["part-interpretability"](record2)[1]} == {"conv6_masked", "model2 conv5"}
    for r in (record, record2):
        assert len([a for a in render(r).axes if a.axison]) >= 4  # two rows: both models


def test_model2_is_optional_and_loaded_only_when_given(model_spec):
    from engine.analysis import AnalysisRequest, execute  # noqa: PLC0415
    from engine_testkit import TINY_DATA  # noqa: PLC0415

    settings = {"class_name": "car", "batch_size": "4"}
    alone = execute(AnalysisRequest("location-instability", model_spec, TINY_DATA, settings=settings, device="cpu"),
                    Progress())
    assert "instability_ratio" not in alone.metrics and not alone.meta["layers2"]
    both = execute(AnalysisRequest("location-instability", model_spec, TINY_DATA, settings=settings, device="cpu",
                                   model2=model_spec), Progress())
    assert both.metrics["instability_ratio"] == pytest.approx(1.0)
    parts = execute(AnalysisRequest("part-interpretability", model_spec, TINY_DATA, device="cpu", model2=model_spec),
                    Progress())
    assert parts.metrics["interpretability_gain"] == pytest.approx(0.0)
