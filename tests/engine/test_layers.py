"""Layer names, picking, hooked capture (hooks always removed, truncated forward), the cache."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.errors import BadInput
from engine.layers import ActivationCache, capture, hooked, layer_names, pick_layers
from engine_testkit import hooks_left, tiny_cnn

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.*:FutureWarning")

CNN_LAYERS = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc"]


def test_layer_names_of_partworld_cnn_are_its_declared_blocks():
    model = tiny_cnn()
    assert layer_names(model) == CNN_LAYERS
    assert pick_layers(model, None) == ["conv5"] and pick_layers(model, []) == ["conv5"]


def test_layer_names_of_an_undeclared_model_are_its_conv_and_linear_modules():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Sequential(nn.Flatten(), nn.Linear(4, 2)))
    assert layer_names(model) == ["0", "2.1"]
    assert pick_layers(model, None) == ["2.1"]  # no default_layer: the last one


def test_layer_names_of_a_torchscript_module_are_found_by_original_name():
    scripted = torch.jit.script(nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU(), nn.Conv2d(4, 2, 1)))
    assert layer_names(scripted) == ["0", "2"]


def test_pick_layers_accepts_declared_names_and_any_submodule():
    model = tiny_cnn()
    assert pick_layers(model, ["conv2", "conv5.0"]) == ["conv2", "conv5.0"]


def test_pick_layers_unknown_name_lists_the_valid_ones():
    with pytest.raises(BadInput) as info:
        pick_layers(tiny_cnn(), ["conv2", "conv9", "fc2"])
    assert str(info.value) == ("unknown layer conv9, fc2; valid layers: "
                               "conv1, conv2, conv3, conv4, conv5, fc")


def test_capture_returns_the_outputs_of_the_requested_layers():
    model = tiny_cnn()
    x = torch.rand(2, 3, 32, 32)
    got = capture(model, x, ["conv1", "conv3"], truncate=False)
    with torch.no_grad():
        conv1 = model.conv1(x)
        conv3 = model.conv3(model.pool2(model.conv2(model.pool1(conv1))))
    assert list(got) == ["conv1", "conv3"]
    assert torch.equal(got["conv1"], conv1) and torch.equal(got["conv3"], conv3)
    assert got["conv3"].shape == (2, 4, 8, 8) and not got["conv3"].requires_grad
    assert hooks_left(model) == {}


def test_truncated_capture_runs_no_layer_after_the_deepest():
    model = tiny_cnn()
    calls = {name: 0 for name in CNN_LAYERS}
    for name in CNN_LAYERS:
        getattr(model, name).register_forward_hook(
            lambda *_, name=name: calls.__setitem__(name, calls[name] + 1))
    got = capture(model, torch.rand(1, 3, 32, 32), ["conv3", "conv1"])
    assert calls == {"conv1": 1, "conv2": 1, "conv3": 1, "conv4": 0, "conv5": 0, "fc": 0}
    assert set(got) == {"conv1", "conv3"}
    capture(model, torch.rand(1, 3, 32, 32), ["conv3"], truncate=False)
    assert calls == {"conv1": 2, "conv2": 2, "conv3": 2, "conv4": 1, "conv5": 1, "fc": 1}
    assert {n: len(getattr(model, n)._forward_hooks) for n in CNN_LAYERS} == dict.fromkeys(CNN_LAYERS, 1)


class Exploding(nn.Module):
    layer_names = ("conv",)

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)

    def forward(self, x):
        self.conv(x)
        raise RuntimeError("boom after conv")


def test_hooks_are_removed_when_the_forward_raises():
    model = Exploding()
    with pytest.raises(RuntimeError, match="boom after conv"):
        capture(model, torch.rand(1, 3, 4, 4), ["conv"], truncate=False)
    assert len(model.conv._forward_hooks) == 0
    assert hooks_left(model) == {}


def test_hooks_are_removed_when_the_body_of_hooked_raises():
    model = tiny_cnn()
    store = {}
    with pytest.raises(KeyError):
        with hooked(model, ["conv1", "fc"], store):
            assert len(model.conv1._forward_hooks) == 1
            raise KeyError("anything")
    assert hooks_left(model) == {}


def test_hooked_keeps_the_first_element_of_a_tuple_output():
    lstm = nn.Sequential()
    lstm.add_module("rnn", nn.LSTM(3, 5, batch_first=True))
    store = {}
    with hooked(lstm, ["rnn"], store):
        out, _ = lstm.rnn(torch.rand(2, 4, 3))
    assert torch.equal(store["rnn"], out)


def tensor_of(nbytes: int) -> torch.Tensor:
    return torch.zeros(nbytes // 4, dtype=torch.float32)


def test_cache_is_bounded_in_bytes_and_evicts_least_recently_used():
    cache = ActivationCache(max_bytes=1000)
    for key in "abc":
        cache.put((key,), tensor_of(400))
    assert (len(cache), cache.bytes) == (2, 800)           # "a" went to make room for "c"
    assert cache.get(("a",)) is None
    assert cache.get(("b",)) is not None                   # "b" is now the most recent
    cache.put(("d",), tensor_of(400))
    assert cache.get(("c",)) is None and cache.get(("b",)) is not None
    assert cache.bytes == 800 and cache.bytes <= cache.max_bytes


def test_cache_replacing_a_key_counts_its_bytes_once_and_skips_oversized_values():
    cache = ActivationCache(max_bytes=1000)
    cache.put(("a",), tensor_of(400))
    cache.put(("a",), tensor_of(200))
    assert (len(cache), cache.bytes) == (1, 200)
    cache.put(("huge",), tensor_of(2000))
    assert (len(cache), cache.bytes) == (1, 200) and cache.get(("huge",)) is None
    value = tensor_of(800)
    cache.put(("b",), value)
    assert cache.get(("b",)) is value and cache.get(("a",)) is not None
    assert cache.bytes == 1000


def test_rows_leaving_at_their_layer_get_the_same_features_as_a_full_forward():
    from engine.layers import forward_by_rows, forward_to  # noqa: PLC0415
    from engine.models.partworld_cnn import build  # noqa: PLC0415

    torch.manual_seed(0)
    net = build(widths=(4, 4, 4, 4, 4)).eval()
    x = torch.rand(6, 3, 32, 32)
    layers = ["conv2", "conv5", "conv1"]
    row_layer = torch.tensor([0, 1, 2, 1, 0, 2])
    with torch.no_grad():
        full = forward_to(net, x, layers)
        own = forward_by_rows(net, x, layers, row_layer)
    for index, layer in enumerate(layers):
        torch.testing.assert_close(own[layer], full[layer][row_layer == index])
    assert all(not m._forward_hooks for m in net.modules())


def test_rows_cannot_leave_inside_a_skip_connection_and_it_says_so():
    from engine.layers import forward_by_rows  # noqa: PLC0415

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Conv2d(3, 3, 3, padding=1)
            self.outer = nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, x):
            return self.outer(x + self.inner(x))

    with pytest.raises(RuntimeError):
        forward_by_rows(Residual(), torch.rand(4, 3, 8, 8), ["inner", "outer"], torch.tensor([0, 1, 0, 1]))
