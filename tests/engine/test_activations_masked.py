"""`activations` on an interpretable layer: raw map, template, μ̂ and RF centre (interpretable-cnn §2.3, §0.2)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.jobs import Progress
from engine.layers import capture
from engine.methods import MethodInputs
from engine.methods.activations import ActivationsConfig, ActivationsResult, compute
from engine.methods.activations.result import masked_view
from engine.models import LoadedModel
from engine.models.interpretable import InterpretablePartWorldCNN
from engine.models.interpretable_loss import diamond_masks
from engine.receptive_field import unit_grid
from engine_testkit import TINY_WIDTHS, hooks_left, images_dataset

SIDE, N, KEPT = 32, 5, 3
BETAS = (1.5, 2.0, 2.5, 3.0)


@pytest.fixture(scope="module")
def planted():
    """Dark images with one bright 6×6 square, a different place on each."""
    images = np.full((N, 3, SIDE, SIDE), 0.1, np.float32)
    for i in range(N):
        r, c = 3 + 5 * i, 24 - 5 * i
        images[i, :, r:r + 6, c:c + 6] = 0.9
    return images


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    module = InterpretablePartWorldCNN(num_classes=5, widths=TINY_WIDTHS).eval()
    module.conv6_masked.beta.copy_(torch.tensor(BETAS))
    return module


@pytest.fixture(scope="module")
def result(model, planted):
    loaded = LoadedModel(model, "test:icnn", "partworld-icnn")
    inputs = MethodInputs(loaded, images_dataset(planted), ["conv5", "conv6_masked"])
    out = compute(inputs, ActivationsConfig(top_k=2, samples_kept=KEPT, batch_size=2), Progress())
    assert hooks_left(model) == {}
    return out


def test_only_the_masked_layer_gets_the_interpretable_arrays_for_the_kept_samples(result):
    assert list(result.masked) == ["conv6_masked"]
    m = result.masked["conv6_masked"]
    assert m.raw.shape == m.template.shape == (KEPT, 4, 4, 4)
    assert m.mu.shape == m.rf_centre.shape == (KEPT, 4, 2)


def test_the_raw_map_is_the_masked_layers_input_and_mu_its_centroid(result, model, planted):
    """μ̂ by default: the activation-weighted centroid of the raw map, rounded to a cell (§2.3, the code's)."""
    m = result.masked["conv6_masked"]
    feeding = capture(model, torch.from_numpy(planted[:KEPT]), ["conv6"])["conv6"].numpy()
    np.testing.assert_allclose(m.raw, feeding, rtol=0, atol=1e-6)
    cells = np.arange(4.0)
    total = np.maximum(m.raw.sum((2, 3)), 1e-9)
    rows = np.round((m.raw.sum(3) * cells).sum(2) / total)
    cols = np.round((m.raw.sum(2) * cells).sum(2) / total)
    assert m.mu[..., 0].tolist() == rows.tolist() and m.mu[..., 1].tolist() == cols.tolist()
    assert len({tuple(mu) for mu in m.mu[:, 3]}) > 1   # the planted squares move filter 3's centroid


def test_the_template_is_the_diamond_at_mu_with_the_layers_beta_and_masked_is_relu_raw_times_it(result):
    m = result.masked["conv6_masked"]
    rows, cols = torch.from_numpy(m.mu[..., 0]), torch.from_numpy(m.mu[..., 1])
    expected = diamond_masks(rows, cols, torch.tensor(BETAS), (4, 4)).numpy()
    np.testing.assert_allclose(m.template, expected, rtol=0, atol=1e-6)
    assert m.beta.tolist() == list(BETAS)
    np.testing.assert_allclose(result.maps["conv6_masked"], np.maximum(m.raw * m.template, 0), atol=1e-6)


def test_the_rf_centre_is_the_walkers_pixel_of_mu(result, model):
    m = result.masked["conv6_masked"]
    grid = unit_grid(model, "conv6", SIDE)
    assert (grid.centre, grid.stride) == (3.5, 8.0) == m.grid  # 3 pools of 2, 3×3 pad-1 convs
    np.testing.assert_allclose(m.rf_centre[..., 0], 3.5 + 8 * m.mu[..., 1])   # x from the column
    np.testing.assert_allclose(m.rf_centre[..., 1], 3.5 + 8 * m.mu[..., 0])   # y from the row


def test_saved_and_reloaded_the_view_of_one_filter_and_sample(result, planted):
    record = result.to_record("test:icnn", "planted", 0)
    again = ActivationsResult.from_record(record).masked["conv6_masked"]
    m = result.masked["conv6_masked"]
    for name in ("raw", "template", "mu", "rf_centre", "beta"):
        assert np.array_equal(getattr(again, name), getattr(m, name)), name
    view = masked_view(record, "conv6_masked", sample=2, filt=1)
    assert np.array_equal(view.image, planted[2]) and np.array_equal(view.raw, m.raw[2, 1])
    assert np.array_equal(view.template, m.template[2, 1]) and view.raw.max() > 0
    assert np.array_equal(view.masked, result.maps["conv6_masked"][2, 1])
    x, y = m.rf_centre[2, 1]
    reach = 8 * 3 / (2 * 2.0)  # stride · (n − 1) / (2 β_f): the zero line of filter 1's diamond
    assert view.outline.tolist() == [[x, y - reach], [x + reach, y], [x, y + reach], [x - reach, y], [x, y - reach]]


def test_the_figure_of_one_filter_and_sample_draws_the_four_panels(result):
    from engine.figures import render  # noqa: PLC0415

    record = result.to_record("test:icnn", "planted", 0)
    m = result.masked["conv6_masked"]
    figure = render(record, layer="conv6_masked", filters=[1], sample=2)
    raw, template, masked, image = figure.axes
    assert np.array_equal(raw.images[0].get_array(), m.raw[2, 1])
    assert np.array_equal(template.images[0].get_array(), m.template[2, 1])
    assert np.array_equal(masked.images[0].get_array(), result.maps["conv6_masked"][2, 1])
    assert masked.images[0].get_clim() == raw.images[0].get_clim() == (0.0, float(m.raw[2, 1].max()))
    assert template.images[0].get_clim() == (-1, 1)
    assert image.collections[0].get_offsets().tolist() == [m.rf_centre[2, 1].tolist()]
    assert len(render(record, layer="conv6_masked", filters=[1]).axes) == 2  # no sample: its top-2 samples
