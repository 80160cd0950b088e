"""Benchmark of the GUI's longest stall when a mined graph arrives in the graph browser (issue:
explanatory graph §3, "stay interactive").

`python -m tests.bench.graph_pane` prints JSON, measured in this run: in the window `deepscope`
opens (under a display: run it with xvfb-run -a), `explanatory-graph` mines conv3-conv5 of the
demo CNN on 96 images (2 EM iterations) and the pane shows the result; a 10 ms timer on the GUI
thread records the longest gap between its ticks, from the job's submission to 1.5 s after it
ends. RUNS times with the graph view's whole-viewport repaints (what the pane uses) and as many
with pyqtgraph's default minimal ones, alternating; each mode's runs and median, and the ratio of
the medians (one run varies by ±15 ms). Why minimal updates make the first paint of the
edges slow in the window is not established (gui/panes/_graph_items.py).
"""
from __future__ import annotations

import torch  # noqa: F401  (first: ENVIRONMENT.md rule 1)
import torchvision  # noqa: F401

import json
import os
import statistics
import tempfile

from PySide6.QtWidgets import QGraphicsView

from engine.analysis import AnalysisRequest
from gui.event_gaps import EventLoopGaps, pump
from gui.launch import application, settle_heap, wait_for_jobs
from gui.main_window import MainWindow

REQUEST = AnalysisRequest("explanatory-graph", "demo:partworld-cnn", "demo:partworld?n=96&seed=5",
                          ["conv3", "conv4", "conv5"], {"iterations": "2", "batch_size": "4"})
RUNS = 3
MODES = {"full": QGraphicsView.ViewportUpdateMode.FullViewportUpdate,
         "minimal": QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate}


def longest_stall_ms(app, mode) -> int:
    window = MainWindow(os.path.join(tempfile.mkdtemp(prefix="deepscope-bench-"), "session"))
    window.resize(1280, 860)
    window.show()
    window.panes["graph_browser"].graph.setViewportUpdateMode(mode)
    pump(app, 0.5)
    settle_heap()
    meter = EventLoopGaps()
    meter.start()
    pump(app, 0.15)
    meter.clear()
    window.run(REQUEST)
    wait_for_jobs(window)
    pump(app, 1.5)
    meter.stop()
    window.engine.shutdown()
    window.close()
    return int(meter.longest())


def main() -> dict:
    app = application()
    runs = {name: [] for name in MODES}
    for _ in range(RUNS):
        for name, mode in MODES.items():
            runs[name].append(longest_stall_ms(app, mode))
    out = {"platform": app.platformName()}
    for name in MODES:
        out[f"longest_stall_{name}_updates_ms"] = int(statistics.median(runs[name]))
        out[f"runs_{name}_updates_ms"] = runs[name]
    out["minimal_over_full"] = round(out["longest_stall_minimal_updates_ms"] / out["longest_stall_full_updates_ms"], 1)
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
    os._exit(0)  # the Qt teardown crash launch.leave() explains
