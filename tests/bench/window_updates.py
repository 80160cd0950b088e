"""Benchmark of what one small repaint of the window costs, with and without an OpenGL widget in it.

`python -m tests.bench.window_updates` prints JSON, measured in this run (under a display: run
it with xvfb-run -a): in the window `deepscope` opens, a label's text changes and the event loop
runs until it is on screen, 40 times; the median, for the status bar and for a label of the
graph pane (that pane in front):
- without_gl_widget: the window as it starts;
- canvas_in_native_column: after the point-cloud pane made its vispy canvas and was shown (the
  canvas's column is a native window of its own, gui/panes/point_cloud.py), and, in that column,
  the pane's note label;
- gl_widget_in_window: a second vispy canvas put into the status bar, an ordinary child: what
  every repaint cost before, when the pane's canvas sat in the window as any widget does. A GL
  widget turns on OpenGL compositing of its whole window (Qt's QOpenGLWidget documentation);
  under software OpenGL that composition is the whole window's cost on every repaint.
"""
from __future__ import annotations

import torch  # noqa: F401  (first: ENVIRONMENT.md rule 1)
import torchvision  # noqa: F401

import json
import os
import statistics
import tempfile
import time

from gui.event_gaps import pump
from gui.launch import application
from gui.main_window import MainWindow
from gui.panes._point_canvas import PointCanvas

REPAINTS = 40


def median_repaint_ms(app, show_text) -> float:
    """One new text on screen: `show_text` it, run the event loop until the repaint is done."""
    times = []
    for i in range(REPAINTS):
        app.processEvents()
        started = time.perf_counter()
        show_text(f"repaint {i}")
        app.processEvents()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 3)


def repaints(app, window) -> dict:
    graph_pane = window.panes["graph_browser"]
    window.tabs.setCurrentWidget(graph_pane)
    pump(app, 0.3)
    return {"status_bar_ms": median_repaint_ms(app, window.statusBar().showMessage),
            "graph_pane_label_ms": median_repaint_ms(app, graph_pane.lod.setText)}


def gl_renderer(canvas) -> str:
    """The OpenGL implementation the canvas draws with (llvmpipe: software)."""
    from vispy.gloo import gl  # noqa: PLC0415 (after the canvas made its context)

    canvas.set_current()
    return gl.glGetParameter(gl.GL_RENDERER)


def main() -> dict:
    app = application()
    window = MainWindow(os.path.join(tempfile.mkdtemp(prefix="deepscope-bench-"), "session"))
    window.resize(1280, 860)
    window.show()
    pump(app, 0.5)
    out = {"platform": app.platformName(), "window_px": [window.width(), window.height()]}
    out["without_gl_widget"] = repaints(app, window)
    cloud_pane = window.panes["point_cloud"]
    cloud_pane.make_canvas()
    window.tabs.setCurrentWidget(cloud_pane)
    pump(app, 0.5)
    column_ms = median_repaint_ms(app, cloud_pane.note.setText)
    out["canvas_in_native_column"] = {**repaints(app, window), "canvas_column_label_ms": column_ms}
    ordinary = PointCanvas(lambda index: None)
    window.statusBar().addPermanentWidget(ordinary.widget)
    ordinary.widget.setFixedSize(40, 16)
    pump(app, 0.5)
    out["gl_widget_in_window"] = repaints(app, window)
    out["gl_renderer"] = gl_renderer(cloud_pane.cloud.canvas)
    before = out["gl_widget_in_window"]["graph_pane_label_ms"]
    out["graph_pane_label_ordinary_over_native_column"] = round(
        before / out["canvas_in_native_column"]["graph_pane_label_ms"], 1)
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
    os._exit(0)  # the Qt teardown crash launch.leave() explains
