"""Engine fixtures: a tiny untrained PartWorld CNN on disk and tiny PartWorld datasets.

Everything is small (4 filters a layer, 32-pixel images) so the whole engine suite runs in
well under two minutes on two cores; no known answer depends on training.
"""
from __future__ import annotations

import signal

import pytest
import torch

from engine.data import load_data
from engine.data.types import ImageDataset
from engine.models import LoadedModel, load_model
from engine_testkit import TINY_DATA, write_model_dir


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A `dir:` model folder holding an untrained tiny PartWorldCNN (widths 4, 32×32 input)."""
    return write_model_dir(tmp_path_factory.mktemp("tiny-cnn"))


@pytest.fixture(scope="session")
def model_spec(model_dir) -> str:
    return f"dir:{model_dir}"


@pytest.fixture
def tiny_model(model_spec) -> LoadedModel:
    """A fresh load each test: tests count and check hooks on its modules."""
    return load_model(model_spec)


@pytest.fixture(scope="session")
def partworld8() -> ImageDataset:
    return load_data("demo:partworld?n=8&seed=3")


@pytest.fixture
def tiny_data() -> ImageDataset:
    return load_data(TINY_DATA)


@pytest.fixture
def restore_sigint():
    """`engine.cli.main` installs its own Ctrl-C handler; give pytest its own back."""
    saved = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, saved)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Convolutions this small: a second thread only adds synchronisation (resources/README.md)."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)
