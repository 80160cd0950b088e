"""Benchmark of the GUI's longest stall when a mined graph arrives in the graph browser (issue:
explanatory graph §3, "stay interactive").

`python -m tests.bench.graph_pane` prints JSON, measured in this run: in the window `deepscope`
opens (under a display: run it with xvfb-run -a), `explanatory-graph` mines conv3-conv5 of the
demo CNN on 96 images (2 EM iterations) and the pane shows the result; a 10 ms timer on the GUI
thread records the longest gap between its ticks, from the job's submission to 1.5 s after it
ends. RUNS times with the graph view's whole-viewport repaints (what the pane uses) and as many
with pyqtgraph's default minimal ones, alternating; each mode's runs and median, and the ratio of
the medians (one run varies by ±15 ms).

Why minimal updates are slow: the repaint after the graph arrives exposes a region of three
rectangles, and Qt's raster engine strokes a path against a clip of more than one rectangle
far slower. The second measure shows that outside the window: as many random cosmetic
segments as the pane draws, as one path (as pyqtgraph's line items draw them) into an image
the graph view's size, clipped to one rectangle and to that region of three (the rectangles
seen in the window).
"""
from __future__ import annotations

import torch  # noqa: F401  (first: ENVIRONMENT.md rule 1)
import torchvision  # noqa: F401

import json
import os
import statistics
import tempfile
import time

import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QRegion
from PySide6.QtWidgets import QGraphicsView

from engine.analysis import AnalysisRequest
from gui.event_gaps import EventLoopGaps, pump
from gui.launch import application, settle_heap, wait_for_jobs
from gui.main_window import MainWindow

REQUEST = AnalysisRequest("explanatory-graph", "demo:partworld-cnn", "demo:partworld?n=96&seed=5",
                          ["conv3", "conv4", "conv5"], {"iterations": "2", "batch_size": "4"})
RUNS = 3
SEGMENTS = 13_304          # the edges the pane draws of this graph
VIEW_PX = (551, 448)       # the graph view's viewport in this window
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


def clip_cost_ms(segments: int = SEGMENTS) -> dict:
    """Median ms to stroke `segments` random lines as one path, under a one- and a three-rectangle clip."""
    rng = np.random.default_rng(0)
    ends = rng.uniform(0, 1, (segments, 2, 2)) * VIEW_PX
    path = QPainterPath()
    for start, end in ends:
        path.moveTo(*start)
        path.lineTo(*end)
    pen = QPen(QColor(100, 200, 50, 150), 1)
    pen.setCosmetic(True)
    whole = QRegion(QRect(0, 0, *VIEW_PX))
    slivers = QRegion(QRect(139, 65, 32, 4)).united(QRegion(QRect(139, 69, 35, 1)))
    three = slivers.united(QRegion(QRect(25, 70, 526, 308)))

    def stroke(region: QRegion) -> float:
        image = QImage(*VIEW_PX, QImage.Format_ARGB32_Premultiplied)
        image.fill(0)
        painter = QPainter(image)
        painter.setClipRegion(region)
        painter.setPen(pen)
        started = time.perf_counter()
        painter.drawPath(path)
        elapsed = time.perf_counter() - started
        painter.end()
        return elapsed * 1000

    one_ms = statistics.median(stroke(whole) for _ in range(3))
    three_ms = statistics.median(stroke(three) for _ in range(3))
    return {"segments": segments, "clip_rectangles": [whole.rectCount(), three.rectCount()],
            "one_rectangle_ms": round(one_ms, 1), "three_rectangles_ms": round(three_ms, 1),
            "three_over_one": round(three_ms / one_ms, 1)}


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
    out["edge_path_stroke"] = clip_cost_ms()
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
    os._exit(0)  # the Qt teardown crash launch.leave() explains
