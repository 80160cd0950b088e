"""Benchmark of the GUI thread's garbage collections after start-up.

`python -m tests.bench.gui_heap` prints JSON, measured in this run on the window `deepscope`
opens (offscreen, an empty session, before its demo job runs): the objects the collector
tracks and the best of five full collections (`gc.collect()`), as started and after
`gui.launch.settle_heap` (what `run_gui` does before the event loop); their ratio.
"""
from __future__ import annotations

import torch  # noqa: F401  (first: ENVIRONMENT.md rule 1)
import torchvision  # noqa: F401

import gc
import json
import os
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from gui.launch import application, make_window, settle_heap  # noqa: E402


def full_collection_s(repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        gc.collect()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> dict:
    app = application()
    window = make_window(os.path.join(tempfile.mkdtemp(prefix="deepscope-bench-"), "session"))
    window.show()
    app.processEvents()
    tracked, started_s = len(gc.get_objects()), full_collection_s()
    settle_heap()
    settled_s = full_collection_s()
    out = {"tracked_objects_started": tracked, "full_collection_started_s": round(started_s, 4),
           "tracked_objects_settled": len(gc.get_objects()), "full_collection_settled_s": round(settled_s, 6),
           "settled_over_started": round(settled_s / started_s, 6)}
    window.engine.shutdown()
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
    os._exit(0)  # the Qt teardown crash launch.leave() explains
