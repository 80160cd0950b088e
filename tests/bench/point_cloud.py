"""Benchmark of the point-cloud pane and the point-cloud metrics (issue 6 §6).

`xvfb-run -a python -m tests.bench.point_cloud` prints JSON, every ratio measured in this run:
- redraw_over_bare: the pane's canvas redrawing a 100k-point cloud, against a bare vispy
  SceneCanvas of the same size and view holding one Markers visual of the same points and
  colours drawn as the pane draws them (no antialiasing) (goal ≤ 1.2); a redraw is
  `canvas.render()`, the scene drawn and read back; redraw_over_default_markers: the same
  against vispy's default (antialiased) Markers;
- recolour_over_bare: a new colour-by (colours uploaded, then a redraw) against `set_data`
  and a redraw of the bare markers;
- million_*: a 1M-point cloud redrawn whole and decimated to the pane's default 200k;
- clouds_per_s: `neighbourhood_inconsistency` and `rotation_divergence` (σ on 6 rotations)
  on 64 clouds of 1024 points, one batch and one cloud at a time respectively, as api.py calls them.
"""
from __future__ import annotations

import torch  # noqa: F401  (first: ENVIRONMENT.md rule 1)
import torchvision  # noqa: F401

import json
import statistics
import sys
import tempfile
import time

import numpy as np
from PySide6.QtWidgets import QApplication

from engine.data import load_data
from engine.data.types import PointDataset
from engine.methods.pointcloud_utility._metrics import neighbourhood_inconsistency, rotation_divergence
from engine.session import open_session
from gui.document import Document
from gui.panes.point_cloud import PointCloudPane
from tests.point_testkit import utility_record

POINTS, REPEATS = 100_000, 15
METRIC_CLOUDS, METRIC_POINTS, ROTATIONS = 64, 1024, 6


def median_time(fn, repeats: int = REPEATS) -> float:
    fn()  # warm-up: shaders compiled, buffers uploaded
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def paired_medians(*fns, repeats: int = REPEATS) -> list[float]:
    """Median time of each function, their runs interleaved so load on a shared machine hits all alike."""
    for fn in fns:
        fn()  # warm-up
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, spent in zip(fns, times):
            started = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - started)
    return [statistics.median(spent) for spent in times]


def shown_pane(app, record, max_drawn: int = 200_000) -> PointCloudPane:
    pane = PointCloudPane(Document(open_session(tempfile.mkdtemp(prefix="deepscope-bench-"))))
    pane.set_state(max_drawn=max_drawn)
    pane.resize(1100, 720)
    pane.show()
    pane.show_result(record)
    for _ in range(5):
        app.processEvents()
    return pane


def bare_canvas(pane: PointCloudPane, record, antialias: float = 0.0):
    """One Markers visual of the pane's points and colours, same canvas size and camera."""
    import vispy.scene as scene  # noqa: PLC0415 (the pane's module has chosen the Qt binding)

    camera = pane.cloud.view.camera
    canvas = scene.SceneCanvas(size=pane.cloud.canvas.size, bgcolor="white", show=True)
    view = canvas.central_widget.add_view()
    view.camera = scene.TurntableCamera(fov=0, up="+z", azimuth=camera.azimuth, elevation=camera.elevation,
                                        center=camera.center, scale_factor=camera.scale_factor)
    markers = scene.visuals.Markers(parent=view.scene, antialias=antialias)
    markers.set_data(record.arrays["points"][0], face_color=pane.colouring().rgba, size=pane.state.point_size,
                     edge_width=0)
    return canvas, markers


def redraws(app, record) -> dict:
    pane = shown_pane(app, record)
    canvas, markers = bare_canvas(pane, record)
    default_canvas, _ = bare_canvas(pane, record, antialias=1.0)
    app.processEvents()
    pane_s, bare_s, default_s = paired_medians(pane.cloud.canvas.render, canvas.render, default_canvas.render)
    colours = {"importance": pane.colouring().rgba}
    pane.set_state(colour_by="entropy")
    colours["entropy"] = pane.colouring().rgba
    chosen, bare_chosen = (iter(["importance", "entropy"] * (REPEATS + 1)) for _ in range(2))
    points, size = record.arrays["points"][0], pane.state.point_size
    recolour_s, bare_recolour_s = paired_medians(
        lambda: (pane.set_state(colour_by=next(chosen)), pane.cloud.canvas.render()),
        lambda: (markers.set_data(points, face_color=colours[next(bare_chosen)], size=size, edge_width=0),
                 canvas.render()))
    return {"canvas_px": list(pane.cloud.canvas.physical_size), "pane_redraw_s": round(pane_s, 4),
            "bare_redraw_s": round(bare_s, 4), "redraw_over_bare": round(pane_s / bare_s, 3),
            "default_markers_redraw_s": round(default_s, 4), "redraw_over_default_markers": round(pane_s / default_s, 3),
            "pane_recolour_s": round(recolour_s, 4), "bare_recolour_s": round(bare_recolour_s, 4),
            "recolour_over_bare": round(recolour_s / bare_recolour_s, 3)}


def million_cloud():
    """Ten 100k-point ShapeWorld clouds side by side along x: one cloud of 1M points."""
    data = load_data("demo:shapeworld?n=10&seed=1&points=100000")
    points = (data.points + np.arange(10)[:, None, None] * np.array([2.2, 0, 0], np.float32)).reshape(1, -1, 3)
    return utility_record(PointDataset(points, data.labels[:1], list(data.class_names), spec="bench:1M",
                                       names=["ten-shapes"]), model2=False)


def million_redraws(app) -> dict:
    record = million_cloud()
    decimated = shown_pane(app, record)
    whole = shown_pane(app, record, max_drawn=2_000_000)
    return {"million_drawn": len(decimated.cloud.drawn),
            "million_decimated_redraw_s": round(median_time(decimated.cloud.canvas.render, 5), 4),
            "million_whole_redraw_s": round(median_time(whole.cloud.canvas.render, 3), 4)}


def metric_throughput() -> dict:
    clouds = torch.as_tensor(load_data(f"demo:shapeworld?n={METRIC_CLOUDS}&seed=2&points={METRIC_POINTS}").points)
    generator = torch.Generator().manual_seed(0)
    sigma = 0.005 + 0.07 * torch.rand(METRIC_CLOUDS, METRIC_POINTS, generator=generator)
    rotated_sigma = 0.005 + 0.07 * torch.rand(METRIC_CLOUDS, ROTATIONS, METRIC_POINTS, generator=generator)
    neighbourhood_s = median_time(lambda: neighbourhood_inconsistency(clouds, sigma, 16), 5)
    rotation_s = median_time(lambda: [rotation_divergence(s) for s in rotated_sigma], 5)
    return {"metric_clouds": METRIC_CLOUDS, "metric_points": METRIC_POINTS, "metric_rotations": ROTATIONS,
            "neighbourhood_clouds_per_s": round(METRIC_CLOUDS / neighbourhood_s, 1),
            "rotation_clouds_per_s": round(METRIC_CLOUDS / rotation_s, 1),
            "clouds_per_s": round(METRIC_CLOUDS / (neighbourhood_s + rotation_s), 1)}


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    record = utility_record(load_data(f"demo:shapeworld?n=1&seed=0&points={POINTS}"))
    report = {"bench": "point_cloud", "platform": app.platformName(), "points": POINTS,
              "threads": torch.get_num_threads()}
    report.update(redraws(app, record))
    report.update(million_redraws(app))
    report.update(metric_throughput())
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
