"""engine/ never imports Qt or the GUI: every engine module, imported in a fresh process."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "vispy.app", "gui")

PROBE = """
import torch, torchvision  # ENVIRONMENT.md rule 1, as the app does
import importlib, json, pkgutil, sys
import engine
names = ["engine"] + [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.")]
for name in names:
    importlib.import_module(name)
forbidden = %r
loaded = sorted(m for m in sys.modules
                if any(m == f or m.startswith(f + ".") for f in forbidden))
print(json.dumps({"imported": names, "forbidden_loaded": loaded}))
"""


@pytest.mark.slow
def test_importing_every_engine_module_loads_no_qt():
    done = subprocess.run([sys.executable, "-c", PROBE % (FORBIDDEN,)], cwd=REPO,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    on_disk = {p.relative_to(REPO).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
               for p in (REPO / "engine").rglob("*.py")}
    assert on_disk <= set(report["imported"])  # the walk reached every module
    assert {"engine.cli", "engine.methods.baseline.api", "engine.figures.activations"} <= on_disk
    assert report["forbidden_loaded"] == []
