"""Benchmark of what one small repaint of the window costs, with and without an OpenGL widget in it.

`python -m tests.bench.window_updates` prints JSON, measured in this run (under a display: run
it with xvfb-run -a): in the window `deepscope` opens, the status bar's message changes and the
event loop runs until it is on screen, 40 times; the median, before and after the point-cloud
pane makes its vispy canvas. A GL widget anywhere in a window turns on OpenGL compositing of the
whole window (Qt's QOpenGLWidget documentation), which is why the pane makes its canvas only
when its first result arrives (gui/panes/point_cloud.py). Under software OpenGL the composition
is the whole window's cost on every repaint; a job's progress repaints the window several
times a second.
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

REPAINTS = 40


def median_repaint_ms(app, window) -> float:
    """One status-bar message on screen: set it, run the event loop until the repaint is done."""
    bar, times = window.statusBar(), []
    for i in range(REPAINTS):
        app.processEvents()
        started = time.perf_counter()
        bar.showMessage(f"repaint {i}")
        app.processEvents()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


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
    without = median_repaint_ms(app, window)
    window.panes["point_cloud"].make_canvas()
    pump(app, 0.5)
    with_canvas = median_repaint_ms(app, window)
    renderer = gl_renderer(window.panes["point_cloud"].cloud.canvas)
    return {"platform": app.platformName(), "window_px": [window.width(), window.height()],
            "gl_renderer": renderer, "repaint_without_gl_widget_ms": round(without, 3),
            "repaint_with_gl_widget_ms": round(with_canvas, 3), "with_over_without": round(with_canvas / without, 1)}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
    os._exit(0)  # the Qt teardown crash launch.leave() explains
