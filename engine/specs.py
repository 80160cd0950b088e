"""Spec strings: `kind:target?key=value&key=value` (DESIGN.md, CLI contract)."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from engine.errors import BadInput, choices


@dataclass(frozen=True)
class Spec:
    kind: str
    target: str
    query: dict = field(default_factory=dict)
    text: str = ""


def check_option_keys(query: dict, valid, what: str) -> None:
    """A spec option the generator does not know is a `BadInput` that lists the valid ones."""
    unknown = [key for key in query if key not in valid]
    if unknown:
        raise BadInput(f"unknown {what} option {unknown[0]!r}; valid options: {choices(valid)}")


def parse_spec(text: str, valid_kinds, what: str) -> Spec:
    """Split a spec; an unknown kind is a `BadInput` listing the valid ones."""
    head, _, query = text.partition("?")
    kind, sep, target = head.partition(":")
    if not sep or kind not in valid_kinds:
        raise BadInput(f"unknown {what} spec {text!r}; valid kinds: "
                       f"{choices(k + ':' for k in valid_kinds)}")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise BadInput(f"{what} spec {text!r}: options after '?' must be key=value&key=value") from None
    return Spec(kind, target, dict(pairs), text)
