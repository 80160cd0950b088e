"""Checks of data-spec options (`?n=..&seed=..&points=..`) shared by the point-cloud loaders."""
from __future__ import annotations

import numpy as np

from engine.errors import BadInput, choices


def integer(owner: str, key: str, text) -> int:
    """An option's text as an integer, or a one-line BadInput naming the option."""
    try:
        return int(str(text).strip())
    except ValueError:
        raise BadInput(f"{owner} option {key}={text!r} is not an integer") from None


def check_integer(owner: str, key: str, value, low: int, high: int) -> None:
    """BadInput unless `value` is an integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise BadInput(f"{owner} option {key}={value!r} must be an integer in [{low}, {high}]")


def check_choice(owner: str, key: str, value, valid) -> None:
    """BadInput unless `value` is one of `valid`."""
    if value not in valid:
        raise BadInput(f"{owner} option {key}={value!r} is not one of {choices(valid)}")
