"""Frozen-dataclass settings: declared fields with a default, a unit and a one-line doc.

Methods' `config.py` and training use `setting()` for every field; the CLI's
`--set key=value`, `deepscope methods --json` and the GUI's run form all read the
same declarations, so a field is described once.
"""
from __future__ import annotations

import dataclasses
import typing

from engine.errors import BadInput, choices


def setting(default, doc: str, unit: str = "", options: tuple = ()):
    """A config field: `options` lists the allowed values of a string field."""
    return dataclasses.field(default=default,
                             metadata={"doc": doc, "unit": unit, "options": tuple(options)})


def describe(config_cls) -> list[dict]:
    """Each field as {name, type, default, unit, doc, options} (JSON-able)."""
    hints = typing.get_type_hints(config_cls)
    return [{"name": f.name, "type": _type_name(hints[f.name]), "default": f.default,
             "unit": f.metadata.get("unit", ""), "doc": f.metadata.get("doc", ""),
             "options": list(f.metadata.get("options", ()))}
            for f in dataclasses.fields(config_cls)]


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def from_strings(config_cls, values: dict[str, str]):
    """Build a config from `key=value` strings, each coerced to its field's type."""
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    unknown = [k for k in values if k not in fields]
    if unknown:
        raise BadInput(f"unknown setting {', '.join(unknown)}; valid: {choices(fields, 40)}")
    hints = typing.get_type_hints(config_cls)
    kwargs = {k: _coerce(k, v, hints[k], fields[k]) for k, v in values.items()}
    return config_cls(**kwargs)


def from_dict(config_cls, values: dict):
    """Rebuild a config saved as JSON (values already typed, tuples stored as lists)."""
    hints = typing.get_type_hints(config_cls)
    names = {f.name for f in dataclasses.fields(config_cls)}
    return config_cls(**{k: tuple(v) if _is_tuple(hints[k]) else v
                         for k, v in values.items() if k in names})


def to_dict(config) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def _is_tuple(tp) -> bool:
    return tp is tuple or typing.get_origin(tp) is tuple


def _coerce(name: str, text, tp, f):
    if not isinstance(text, str):
        return text
    try:
        value = _parse(text, tp)
    except ValueError:
        raise BadInput(f"setting {name}={text!r} is not a valid {_type_name(tp)}") from None
    options = f.metadata.get("options", ())
    if options and value not in options:
        raise BadInput(f"setting {name}={text!r}; valid values: {choices(options)}")
    return value


def _parse(text: str, tp):
    if tp is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(text)
    if tp in (int, float):
        return tp(text)
    if _is_tuple(tp):
        args = typing.get_args(tp)
        item = args[0] if args else str
        return tuple(_parse(part.strip(), item) for part in text.split(",") if part.strip())
    return text
