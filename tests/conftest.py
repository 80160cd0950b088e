"""Settings every test process needs before anything else is imported.

torch and torchvision come first: torchvision imports triton, which carries its own LLVM,
and that import segfaults once Mesa's llvmpipe has loaded its LLVM (ENVIRONMENT.md rule 1).
"""
import torch  # noqa: F401  (first, see above)
import torchvision  # noqa: F401

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")

import sys

_EXIT_STATUS = {"code": 0}


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS["code"] = int(exitstatus)


def pytest_unconfigure(config):
    """Leave without interpreter teardown once pytest has reported everything.

    PySide6 with pyqtgraph on Linux can segfault while destroying Qt objects at interpreter
    exit, after a fully green run (pyqtgraph issue #2520, PYSIDE-2254); that would turn a
    passing `make test` red. Nothing is left to write by now.
    """
    if "PySide6" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS["code"])


import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def torch_threads_restored():
    """torch's thread count is process-wide: a module that lowers it (one_torch_thread) must
    give it back, or every later test runs on one core (it once slowed the suite by minutes)."""
    before = torch.get_num_threads()
    yield
    after = torch.get_num_threads()
    torch.set_num_threads(before)
    assert after == before, f"this module left torch on {after} threads (it found {before})"
