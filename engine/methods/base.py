"""What a method declares and what it receives."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from engine.data.types import ImageDataset, TextDataset
from engine.distributed import LOCAL
from engine.models import LoadedModel


@dataclass
class MethodInputs:
    """Resolved inputs of one run: models, data, picked layers, seed."""

    model: LoadedModel
    data: ImageDataset | TextDataset
    layers: list[str]
    seed: int = 0
    model2: LoadedModel | None = None
    executor: object = LOCAL  # where the per-sample pieces run (engine/distributed.py)


@dataclass(frozen=True)
class Method:
    name: str
    kind: str            # the result kind its records carry
    summary: str
    config_cls: type
    result_cls: type     # has to_record(run_info) and from_record(record)
    compute: Callable    # (MethodInputs, config, Progress) -> result_cls instance
    needs_model2: bool = False
    accepts_model2: bool = False     # loads --model2 when one is given, runs without it too
    input_kinds: tuple = ("image",)  # the data kinds it analyses
    default_layers: Callable | None = None  # module → the layers it reads when none are asked for
                                            # (None: the model's default layer)
    shards: bool = False  # its per-sample pieces run on inputs.executor (--ray)
