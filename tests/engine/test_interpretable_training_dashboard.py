"""The `interpretable-training` method (spec: interpretable-cnn §2.12 training dashboards).

Known answers from a tiny interpretable CNN whose buffers are set by hand, and a lit/dark
pair of classes: with every conv weight positive and no bias up to conv5, a lit image
lights every conv5 filter and a black image none; conv6 is made to give 1 on every image.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.analysis import AnalysisRequest, execute
from engine.errors import BadInput
from engine.export import data_text
from engine.figures import render
from engine.figures.training import NO_EPOCHS, beta_histogram, category_matrix
from engine.jobs import Progress, run_job
from engine.methods import METHODS, MethodInputs
from engine.methods.interpretable_training._silence import silence
from engine.methods.interpretable_training.api import table_categories
from engine.methods.interpretable_training.result import InterpretableTrainingResult
from engine.models import LoadedModel, load_model
from engine.models.interpretable import InterpretablePartWorldCNN
from engine.results import load_result, save_result
from engine_testkit import TINY_WIDTHS, images_dataset

METHOD = METHODS["interpretable-training"]
CONV5_BETA = [1.5, 2.0, 2.5, 3.0]
CONV6_BETA = [1.6, 1.7, 1.8, 1.9]
CONV5_TABLE = [[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]]  # every filter: lit
CONV6_TABLE = [[0.1, 0.9], [0.9, 0.1], [0.2, 0.8], [0.5, 0.4]]  # dark, lit, dark, lit
EPOCHS = [{"epoch": 1, "classification_loss": 1.2, "filter_loss": -0.1, "kappa/conv5_masked": 1e-4,
           "kappa/conv6_masked": 1e-4, "beta/conv5_masked": [1.5, 1.6, 1.7]},
          {"epoch": 2, "classification_loss": 0.4, "filter_loss": -0.3, "kappa/conv5_masked": 5e-5,
           "kappa/conv6_masked": 5e-5, "beta/conv5_masked": [1.5, 1.6, 1.8]}]


def lit_model(epochs=EPOCHS) -> LoadedModel:
    torch.manual_seed(0)
    module = InterpretablePartWorldCNN(num_classes=2, widths=TINY_WIDTHS, categories=2).eval()
    with torch.no_grad():
        for i in range(1, 6):
            getattr(module, f"conv{i}")[0].weight.abs_()
        module.conv6[0].weight.zero_()
        module.conv6[0].bias.fill_(1.0)
        for layer, beta, table in ((module.conv5_masked, CONV5_BETA, CONV5_TABLE),
                                   (module.conv6_masked, CONV6_BETA, CONV6_TABLE)):
            layer.beta.copy_(torch.tensor(beta))
            layer.category_table.copy_(torch.tensor(table))
    description = {"training": {"epochs": epochs}} if epochs is not None else {}
    return LoadedModel(module, "test:lit", "partworld-icnn", ["lit", "dark"], (32, 32), None, description)


def lit_and_dark(per_class: int = 3):
    images = np.concatenate([np.ones((per_class, 3, 32, 32)), np.zeros((per_class, 3, 32, 32))])
    data = images_dataset(images, [0] * per_class + [1] * per_class)
    data.class_names, data.spec = ["lit", "dark"], "test:lit-and-dark"
    return data


def dashboard(model=None, data=None, layers=("conv6_masked",), **config) -> InterpretableTrainingResult:
    inputs = MethodInputs(model or lit_model(), data or lit_and_dark(), list(layers))
    return METHOD.compute(inputs, METHOD.config_cls(**config), Progress())


def test_beta_table_and_categories_are_the_models_buffers():
    result = dashboard()
    assert list(result.layers) == ["conv5_masked", "conv6_masked"]  # every masked layer, forward order
    assert result.categories == ["lit", "dark"] and result.data_categories == ["lit", "dark"]
    conv5, conv6 = result.layers["conv5_masked"], result.layers["conv6_masked"]
    np.testing.assert_allclose(conv5.beta, CONV5_BETA)
    np.testing.assert_allclose(conv6.beta, CONV6_BETA)
    np.testing.assert_allclose(conv6.category_table, CONV6_TABLE)
    assert conv5.category.tolist() == [0, 0, 0, 0] and conv6.category.tolist() == [1, 0, 1, 0]
    assert result.images_per_category.tolist() == [3, 3]


def test_filters_lit_only_by_their_category_are_silent_and_filters_on_every_image_are_not():
    result = dashboard()
    conv5, conv6 = result.layers["conv5_masked"], result.layers["conv6_masked"]
    assert (conv5.mean_peak[:, 0] > 0).all() and (conv5.mean_peak[:, 1] == 0).all()
    np.testing.assert_allclose(conv6.mean_peak, 1.0)  # the bias: 1 on every image of both classes
    assert conv5.silent.tolist() == [1, 1, 1, 1] and conv6.silent.tolist() == [0, 0, 0, 0]
    assert result.metrics() == {"silent_share/conv5_masked": 1.0, "silent_share/conv6_masked": 0.0}


def test_silence_rule_counts_a_filter_silent_on_its_own_class_as_not_silent():
    mean_peak = np.array([[4.0, 0.3, 0.1],    # own class 0, others below 0.1 × 4: silent
                          [4.0, 0.5, 0.1],    # class 1 at 0.5 ≥ 0.4: not silent
                          [0.0, 0.0, 0.0],    # dead: silent on its own class too
                          [np.nan, 1.0, 2.0],  # no image of its own class: unknown
                          [2.0, np.nan, np.nan]])  # no image of another class: unknown
    assert silence(mean_peak, np.zeros(5, int), 0.1).tolist() == [1, 0, 0, -1, -1]


def test_silent_ratio_moves_the_cut():
    data = lit_and_dark()
    data.images[3:] = 0.5  # no bias up to conv5: the stack is positively homogeneous, half the light half the peak
    peaks = dashboard(data=data).layers["conv5_masked"].mean_peak
    np.testing.assert_allclose(peaks[:, 1], 0.5 * peaks[:, 0], rtol=1e-5)
    assert dashboard(data=data, silent_ratio=0.51).layers["conv5_masked"].silent_share() == 1.0
    assert dashboard(data=data, silent_ratio=0.49).layers["conv5_masked"].silent_share() == 0.0


def test_per_epoch_record_comes_from_model_json_and_survives_save_and_load(tmp_path):
    record = dashboard().to_record("test:lit", "test:lit-and-dark", 0)
    loaded = InterpretableTrainingResult.from_record(load_result(save_result(record, tmp_path / "r")))
    assert loaded.epoch_numbers().tolist() == [1, 2]
    assert loaded.trace("kappa/conv6_masked").tolist() == [1e-4, 5e-5]
    assert {k: v.tolist() for k, v in loaded.loss_traces().items()} == \
        {"classification_loss": [1.2, 0.4], "filter_loss": [-0.1, -0.3]}
    np.testing.assert_allclose(loaded.layers["conv5_masked"].beta, CONV5_BETA)


def test_figure_draws_the_traces_and_says_so_when_model_json_has_no_epochs():
    with_epochs = render(dashboard().to_record("test:lit", "d", 0))
    kappa_ax = with_epochs.axes[0]
    assert [line.get_ydata().tolist() for line in kappa_ax.lines] == [[1e-4, 5e-5], [1e-4, 5e-5]]
    bars = with_epochs.axes[2].patches
    assert [round(b.get_height(), 3) for b in bars] == [1.0, 0.0]
    without = dashboard(lit_model(epochs=None))
    assert without.epochs == [] and without.trace("kappa/conv5_masked").size == 0
    texts = [t.get_text() for ax in render(without.to_record("m", "d", 0)).axes for t in ax.texts]
    assert texts.count(NO_EPOCHS) == 2


def test_histogram_and_matrix_helpers_show_every_filter_once():
    conv6 = dashboard().layers["conv6_masked"]
    counts, edges = beta_histogram(conv6.beta)
    assert counts.sum() == 4 and edges[0] == pytest.approx(1.6) and edges[-1] == pytest.approx(1.9)
    matrix, order = category_matrix(conv6)
    assert matrix.shape == (2, 4) and sorted(order.tolist()) == [0, 1, 2, 3]
    assert conv6.category[order].tolist() == [0, 0, 1, 1]  # lit filters first, then dark
    np.testing.assert_allclose(matrix.max(0), 1.0)  # each filter scaled to its largest entry


def test_table_has_a_row_per_filter_with_its_table_a_row_and_mean_peaks():
    record = dashboard().to_record("m", "d", 0)
    table = json.loads(data_text(record, "json"))["table"]
    assert table["columns"] == ["layer", "filter", "category", "beta", "silent", "A/lit", "A/dark",
                                "mean_peak/lit", "mean_peak/dark"]
    assert len(table["rows"]) == 8
    first_conv6 = table["rows"][4]
    assert first_conv6[:5] == ["conv6_masked", 0, "dark", pytest.approx(1.6), 0]
    assert first_conv6[5:] == pytest.approx([0.1, 0.9, 1.0, 1.0])


def test_single_category_models_name_their_one_column_by_the_positive_class():
    assert table_categories(["not-car", "car"], 1) == ["car"]
    assert table_categories(["car", "house"], 2) == ["car", "house"]


def test_a_model_without_masked_layers_is_bad_input_in_one_line(model_spec):
    outcome = run_job(lambda p: execute(AnalysisRequest("interpretable-training", model_spec,
                                                        "demo:partworld?n=4&size=32", device="cpu"), p),
                      Progress())
    assert outcome.bad_input and outcome.reason.startswith(f"{model_spec} has no interpretable layer")
    assert "\n" not in outcome.reason


@pytest.mark.parametrize("change, message", [
    ({"layers": ["conv5"]}, "layer conv5 is not an interpretable layer"),
    ({"data": "unlabelled"}, "has no class labels"),
    ({"data": "other classes"}, "the model's category 'lit' is no class of"),
])
def test_bad_layers_and_data_say_what_is_wrong(change, message):
    data = lit_and_dark()
    if change.get("data") == "unlabelled":
        data.labels[:] = -1
    elif change.get("data") == "other classes":
        data.class_names = ["car", "house"]
    with pytest.raises(BadInput, match=message):
        dashboard(data=data, layers=change.get("layers", ()))


def test_demo_interpretable_model_gives_its_buffers_and_its_training_record():
    record = execute(AnalysisRequest("interpretable-training", "demo:partworld-icnn",
                                     "demo:partworld?n=10&seed=1", device="cpu"), Progress())
    result = InterpretableTrainingResult.from_record(record)
    model = load_model("demo:partworld-icnn")
    rows = model.description["training"]["epochs"]
    assert result.categories == model.class_names == result.data_categories
    for name, layer in (("conv5_masked", model.module.conv5_masked), ("conv6_masked", model.module.conv6_masked)):
        np.testing.assert_allclose(result.layers[name].beta, layer.beta.numpy())
        assert result.layers[name].category_table.shape == (64, 5)
        assert result.trace(f"kappa/{name}").tolist() == [row[f"kappa/{name}"] for row in rows]
        assert 0.0 <= record.metrics[f"silent_share/{name}"] <= 1.0
