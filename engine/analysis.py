"""One analysis request, resolved and run: specs → model and data → method → record.

Shared by the CLI and the GUI's engine thread, so both fail the same way: a bad spec,
file or setting is `BadInput` (exit 2), anything else a failed job (exit 3).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import torch

from engine import settings
from engine.data import load_data
from engine.errors import BadInput
from engine.jobs import JobOutcome, Progress, run_job
from engine.distributed import executor_for
from engine.layers import pick_layers
from engine.methods import MethodInputs, get_method
from engine.models import LoadedModel, load_model
from engine.results import ResultRecord


@dataclass
class AnalysisRequest:
    method: str
    model: str
    data: str
    layers: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)  # key → str (CLI) or typed value (GUI)
    seed: int = 0
    device: str = "auto"
    model2: str = ""
    weights: str = ""
    trust_pickle: bool = False
    ray: str = ""  # "auto" or a Ray cluster's address: the per-sample pieces run there (issue 10 §1)

    def describe(self) -> str:
        return f"{self.method} · {self.model} · {self.data}"


def resolve_device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise BadInput("--device cuda, but no CUDA device is available here")
    return name


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class ModelCache:
    """Loaded models by (spec, weights, device): the GUI loads a model once per session."""

    def __init__(self) -> None:
        self._models: dict[tuple, LoadedModel] = {}

    def get(self, spec: str, weights: str, trust_pickle: bool, device: str) -> LoadedModel:
        key = (spec, weights, device)
        if key not in self._models:
            self._models[key] = load_model(spec, weights or None, trust_pickle, device)
        return self._models[key]


def execute(request: AnalysisRequest, progress: Progress, cache: ModelCache | None = None) -> ResultRecord:
    method = get_method(request.method)
    config = settings.from_strings(method.config_cls, request.settings)
    device = resolve_device(request.device)
    cache = cache or ModelCache()
    progress.step(0.0, 1.0, "loading model")
    model = cache.get(request.model, request.weights, request.trust_pickle, device)
    if method.needs_model2 and not request.model2:
        raise BadInput(f"{method.name} compares two models: give the second with --model2")
    wants_model2 = method.needs_model2 or (method.accepts_model2 and request.model2)
    model2 = cache.get(request.model2, "", request.trust_pickle, device) if wants_model2 else None
    data = load_data(request.data, model.input_size, progress.child(0.0, 0.1))
    check_input(model, data)
    if data.kind not in method.input_kinds:
        raise BadInput(f"{method.name} analyses {' or '.join(method.input_kinds)} data, not {data.kind} "
                       f"({data.spec})")
    layers = method_layers(method, model.module, request.layers, data.kind == "text")
    inputs = MethodInputs(model, data, layers, request.seed, model2, executor_for(request.ray, method))
    seed_everything(request.seed)
    result = method.compute(inputs, config, progress.child(0.1, 1.0))
    return result.to_record(request.model, request.data, request.seed)


def method_layers(method, module, requested: list[str] | None, text: bool = False) -> list[str]:
    """The layers a run reads: those asked for, else the method's own default, else the model's."""
    if not requested and method.default_layers is not None:
        requested = method.default_layers(module)
    return pick_layers(module, requested, every_layer=text)


def check_input(model: LoadedModel, data) -> None:
    """One sample through the network first: input it cannot take is bad input, said at once."""
    if not len(data):
        return
    if data.kind != model.input_kind:
        raise BadInput(f"{model.spec} reads {model.input_kind} input, but {data.spec} is {data.kind} data")
    try:
        with torch.no_grad():
            if data.kind == "text":
                model.module(*model.encode(data.texts[:1])[:2])
            else:
                model.module(model.prepare(_arrays(data)[:1]))
    except (RuntimeError, BadInput) as exc:  # BadInput: a point model built for another N
        reason = str(exc).strip().splitlines()[0][:160]
        raise BadInput(f"{_samples(data)} from {data.spec} do not fit {model.spec} ({reason})") from None


def _arrays(data):
    return data.points if data.kind == "points" else data.images


def _samples(data) -> str:
    """The samples, for a message: "sentences", "inputs of shape (3, 96, 96)", "clouds of shape (500, 3)"."""
    if data.kind == "text":
        return "sentences"
    return f"{'clouds' if data.kind == 'points' else 'inputs'} of shape {tuple(_arrays(data).shape[1:])}"


def run_analysis(request: AnalysisRequest, progress: Progress,
                 cache: ModelCache | None = None) -> JobOutcome:
    return run_job(lambda p: execute(request, p, cache), progress)
