"""Settings: `--set key=value` coercion, unknown keys, options, JSON round trip of every config."""
from __future__ import annotations

import dataclasses
import json

import pytest

from engine import settings
from engine.errors import BadInput
from engine.methods import METHODS
from engine.models.training import TrainConfig
from engine.settings import describe, from_dict, from_strings, setting, to_dict


@dataclasses.dataclass(frozen=True)
class Example:
    steps: int = setting(4, "how many steps", "steps")
    rate: float = setting(0.5, "a rate")
    smooth: bool = setting(False, "smooth it?")
    names: tuple[str, ...] = setting(("a", "b"), "names to use")
    sizes: tuple[int, ...] = setting((1,), "sizes", "px")
    mode: str = setting("fast", "how to run", options=("fast", "exact"))


def test_from_strings_coerces_each_field_to_its_type():
    config = from_strings(Example, {"steps": "12", "rate": "1e-3", "smooth": "yes",
                                    "names": " x, y ,,z ", "sizes": "3,5", "mode": "exact"})
    assert config == Example(12, 0.001, True, ("x", "y", "z"), (3, 5), "exact")
    assert type(config.steps) is int and type(config.rate) is float and type(config.names) is tuple


@pytest.mark.parametrize("text, value", [("1", True), ("true", True), ("On", True),
                                         ("0", False), ("FALSE", False), ("no", False)])
def test_bool_words(text, value):
    assert from_strings(Example, {"smooth": text}).smooth is value


def test_defaults_stay_when_nothing_is_set_and_typed_values_pass_through():
    assert from_strings(Example, {}) == Example()
    assert from_strings(Example, {"steps": 7, "names": ("q",)}) == Example(steps=7, names=("q",))


def test_unknown_key_lists_the_valid_ones():
    with pytest.raises(BadInput) as info:
        from_strings(Example, {"step": "3", "rate": "1"})
    assert str(info.value) == "unknown setting step; valid: steps, rate, smooth, names, sizes, mode"


@pytest.mark.parametrize("key, text, message", [
    ("steps", "3.5", "setting steps='3.5' is not a valid int"),
    ("rate", "fast", "setting rate='fast' is not a valid float"),
    ("smooth", "maybe", "setting smooth='maybe' is not a valid bool"),
    ("sizes", "1,x", "setting sizes='1,x' is not a valid tuple"),
    ("mode", "slow", "setting mode='slow'; valid values: fast, exact"),
])
def test_bad_values_are_bad_input_in_one_line(key, text, message):
    with pytest.raises(BadInput) as info:
        from_strings(Example, {key: text})
    assert str(info.value) == message


def test_describe_lists_every_field_with_type_default_unit_doc_and_options():
    rows = {row["name"]: row for row in describe(Example)}
    assert list(rows) == ["steps", "rate", "smooth", "names", "sizes", "mode"]
    assert rows["steps"] == {"name": "steps", "type": "int", "default": 4, "unit": "steps",
                             "doc": "how many steps", "options": []}
    assert rows["mode"]["options"] == ["fast", "exact"]
    json.dumps(describe(Example))  # JSON-able as `deepscope methods --json` prints it


def json_round_trip(config_cls, config):
    return from_dict(config_cls, json.loads(json.dumps(to_dict(config))))


def test_to_dict_from_dict_round_trip_of_the_example():
    config = Example(9, 2.5, True, ("u",), (2, 4), "exact")
    assert to_dict(config)["names"] == ["u"]
    assert json_round_trip(Example, config) == config


def test_from_dict_ignores_keys_a_newer_or_older_config_does_not_have():
    assert from_dict(Example, {"steps": 3, "gone": 1}) == Example(steps=3)


CONFIGS = {name: method.config_cls for name, method in METHODS.items()} | {"train": TrainConfig}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_registered_config_round_trips_through_json(name):
    config_cls = CONFIGS[name]
    assert dataclasses.is_dataclass(config_cls) and config_cls.__dataclass_params__.frozen
    default = config_cls()
    assert json_round_trip(config_cls, default) == default
    changed = {}
    for f in dataclasses.fields(config_cls):  # every field off its default, through strings
        value = f.default
        if isinstance(value, bool):
            changed[f.name] = str(not value)
        elif isinstance(value, (int, float)):
            changed[f.name] = str(value + 1)
        elif isinstance(value, tuple):
            changed[f.name] = ",".join(map(str, value[:1]))
        elif f.metadata.get("options"):
            changed[f.name] = f.metadata["options"][-1]
    config = from_strings(config_cls, changed)
    assert json_round_trip(config_cls, config) == config
    for f in dataclasses.fields(config_cls):
        assert f.metadata["doc"], f"{name}.{f.name} has no doc"


def test_baseline_methods_setting_parses_a_comma_list():
    config = from_strings(METHODS["baseline"].config_cls, {"methods": "saliency,occlusion",
                                                            "ig_steps": "4"})
    assert config.methods == ("saliency", "occlusion") and config.ig_steps == 4
    assert settings.to_dict(config)["methods"] == ["saliency", "occlusion"]
