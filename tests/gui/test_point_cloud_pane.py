"""The point-cloud pane (issue 6 §4; spec pointcloud-utility §5.8) under Xvfb: probe pixels of the
vispy canvas, real clicks that pick points into the selection, decimation, Open3D, export.

Records are built by hand (tests/point_testkit.py): σ rises with x, so colours are known.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import open3d as o3d
import pytest
from matplotlib import colormaps
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtWidgets import QWidget

from engine.figures.point_cloud import pixels
from engine.figures.point_rows import cloud_rows
from gui import open3d_viewer
from gui.dialogs import SNAPSHOT
from gui.panes._point_canvas import RING_RGBA
from point_testkit import MODEL, MODEL2, shapeworld_record, three_dot_record

pytestmark = pytest.mark.gl
RED = colormaps["tab10"].colors[3]          # class 3 of the palette
LEFT, MIDDLE, RIGHT = 0, 1, 2               # the three dots at x = −0.8, 0, 0.8


def shown(qtbot, window, record, **view):
    """The record saved into the window's session, selected, and shown by the point-cloud pane
    (its GL context made: the canvas has been on screen)."""
    session = window.document.session
    entry = session.write_result(record)
    window.document.add_saved_result(entry, session.load(entry.id))
    window.document.select(result=entry.id)
    pane = window.panes["point_cloud"]
    assert window.current_pane() is pane and pane.record.kind == "pointcloud-utility"
    qtbot.waitExposed(pane.cloud.widget)
    qtbot.wait(20)
    if view:
        pane.cloud.set_view(**view)
    return pane


def pixel(pane, index: int, dx: float = 0.0) -> np.ndarray:
    """RGB in [0, 1] of the canvas pixel at point `index`, `dx` pixels to its right."""
    x, y = pane.cloud.canvas_xy(pane.record.arrays["points"][pane.state.sample][[index]])[0]
    return pane.cloud.image()[int(round(y)), int(round(x + dx)), :3] / 255.0


def near(rgb, expected, tolerance: float = 0.04) -> bool:
    return bool(np.all(np.abs(np.asarray(rgb) - np.asarray(expected)[:3]) <= tolerance))


def ringed(pane, index: int) -> bool:
    """Magenta pixels circle point `index`, none of them on the point itself."""
    x, y = pane.cloud.canvas_xy(pane.record.arrays["points"][pane.state.sample][[index]])[0]
    image = pane.cloud.image()[..., :3] / 255.0
    rows, cols = np.nonzero(np.all(np.abs(image - RING_RGBA[:3]) <= 0.2, axis=-1))
    distance = np.hypot(cols - x, rows - y)
    ring = distance[distance <= 2 * pane.state.point_size + 8]
    return len(ring) >= 20 and ring.min() >= pane.state.point_size / 2


def click(qtbot, pane, index: int) -> None:
    x, y = pane.cloud.canvas_xy(pane.record.arrays["points"][pane.state.sample][[index]])[0]
    qtbot.mouseClick(pane.cloud.widget, Qt.LeftButton, pos=QPoint(int(round(x)), int(round(y))))


def test_the_window_has_no_gl_widget_until_a_cloud_is_shown(qtbot, window):
    """A GL widget makes Qt composite its whole window through OpenGL on every repaint (about 10 ms
    each under software GL, tests/bench/window_updates.py): the canvas waits for the first cloud,
    and its column is a native window of its own, while the panes and the window stay alien."""
    pane = window.panes["point_cloud"]
    window.tabs.setCurrentWidget(pane)
    qtbot.wait(20)
    assert window.findChildren(QOpenGLWidget) == [] and pane.cloud is None
    assert pane.hint.isVisible() and "pointcloud-utility" in pane.hint.text()
    assert not pane.grab().isNull()                                      # the empty pane's snapshot
    pane = shown(qtbot, window, three_dot_record())
    assert window.findChildren(QOpenGLWidget) == [pane.cloud.widget] and not pane.hint.isVisible()
    assert pane.cloud.widget.height() > 300                              # it took the hint's room
    natives = [w for w in window.findChildren(QWidget) if w.testAttribute(Qt.WA_NativeWindow)]
    assert natives == [pane.cloud.widget.parentWidget()]                 # the canvas's column alone


def test_class_colours_are_red_dots_on_white_and_importance_follows_viridis(qtbot, window):
    pane = shown(qtbot, window, three_dot_record(label=3), azimuth=0.0, elevation=0.0)
    pane.size_spin.setValue(20.0)
    pane.colour_box.setCurrentText("class")
    for dot in (LEFT, MIDDLE):
        assert near(pixel(pane, dot), RED)
    assert near(pixel(pane, LEFT, dx=40), (1, 1, 1))                   # between the dots: background
    assert "class3" in pane.colour_bar.title.text() and not pane.colour_bar.ramp.isVisible()
    pane.colour_box.setCurrentText("importance")
    viridis = colormaps["viridis"]
    assert near(pixel(pane, LEFT), viridis(1.0))                       # the smallest σ: the most kept
    assert near(pixel(pane, MIDDLE), viridis(0.5))                     # σ halfway in log
    assert near(pixel(pane, RIGHT), viridis(0.0))                      # σ at the clamp: nothing kept
    assert near(pixel(pane, MIDDLE, dx=7), viridis(0.5))               # a disc is round ...
    assert near(pixel(pane, RIGHT, dx=7), (1, 1, 1))                   # ... a × (at the clamp) has no arm there
    lo, hi = pane.colouring().limits
    assert (pane.colour_bar.low.text(), pane.colour_bar.high.text()) == ("0", f"{hi:.3g}") and lo == 0.0
    assert pane.note.text().startswith("3 points, 1 at the σ clamp")
    qtbot.wait(50)
    pane.grab().save("/tmp/point_cloud_three_dots.png")


def test_model2_toggle_reverses_sigma_and_parts_have_their_palette(qtbot, window):
    pane = shown(qtbot, window, three_dot_record(), azimuth=0.0, elevation=0.0)
    pane.size_spin.setValue(20.0)
    assert [pane.model_box.itemText(i) for i in range(2)] == [MODEL, MODEL2] and pane.model_box.isEnabled()
    pane.model_box.setCurrentIndex(1)
    assert pane.state.model == "model2"
    assert near(pixel(pane, LEFT), colormaps["viridis"](0.0)) and near(pixel(pane, LEFT, dx=7), (1, 1, 1))
    assert near(pixel(pane, RIGHT), colormaps["viridis"](1.0))
    pane.colour_box.setCurrentText("part")
    palette = colormaps["tab10"].colors
    assert near(pixel(pane, LEFT), palette[0]) and near(pixel(pane, MIDDLE), palette[1])
    assert near(pixel(pane, RIGHT, dx=0), (0.6, 0.6, 0.6))             # part −1: unknown, grey
    legend = pane.colour_bar.title.text()
    assert all(name in legend for name in ("a/left", "a/mid", "unknown"))


def test_click_picks_a_point_into_the_selection_and_a_drag_rotates(qtbot, window):
    pane = shown(qtbot, window, three_dot_record(), azimuth=0.0, elevation=0.0)
    pane.size_spin.setValue(12.0)
    click(qtbot, pane, LEFT)
    assert pane.state.picked == (LEFT,)
    assert (window.document.selection.sample, window.document.selection.points) == (0, (LEFT,))
    info = pane.point_info.text()
    assert "0 at (-0.800, 0.000, 0.000)" in info and "a/left" in info
    sigma = pane.record.arrays["sigma"][0, LEFT]
    assert f"σ {sigma:.4g}" in info
    assert ringed(pane, LEFT) and not ringed(pane, RIGHT)
    qtbot.mousePress(pane.cloud.widget, Qt.LeftButton, pos=QPoint(300, 260))
    qtbot.mouseMove(pane.cloud.widget, QPoint(360, 260))
    qtbot.wait(30)
    qtbot.mouseMove(pane.cloud.widget, QPoint(420, 260))
    qtbot.mouseRelease(pane.cloud.widget, Qt.LeftButton, pos=QPoint(420, 260))
    assert pane.cloud.view_angles()[0] != 0.0 and pane.state.picked == (LEFT,)   # rotated, nothing new picked


def test_a_selection_from_elsewhere_switches_sample_and_rings_the_point(qtbot, window):
    pane = shown(qtbot, window, shapeworld_record(samples=3), azimuth=0.0, elevation=90.0)
    window.document.select(sample=2, points=(17,))
    assert pane.state.sample == 2 and pane.sample_box.currentIndex() == 2 and pane.state.picked == (17,)
    assert ringed(pane, 17)
    header, rows = cloud_rows(pane.record, 2)
    table = pane.metric_table
    assert [table.horizontalHeaderItem(c).text() for c in range(3)] == header == ["metric", MODEL, MODEL2]
    shown_rows = {table.item(r, 0).text(): (table.item(r, 1).data(Qt.UserRole), table.item(r, 2).data(Qt.UserRole))
                  for r in range(table.rowCount())}
    assert shown_rows["neighbourhood inconsistency"] == (2.0, 12.0)          # the testkit's sample index (+10)
    assert shown_rows["attack cost ‖ε‖² (fooled)"] == (1.0, 11.0)            # mean of 0.5 and 1.5; one NaN left out
    assert shown_rows["targets fooled"] == pytest.approx((2 / 3, 2 / 3))
    assert [row[0] for row in rows] == list(shown_rows)
    qtbot.wait(50)  # let the layout settle before the screenshot
    pane.grab().save("/tmp/point_cloud_shapeworld.png")
    pane.sample_box.setCurrentIndex(1)
    assert (window.document.selection.sample, window.document.selection.points) == (1, ())
    assert not pane.cloud.rings.visible


def test_a_large_cloud_draws_a_fixed_subset_and_picks_map_to_the_whole_cloud(qtbot, window):
    pane = shown(qtbot, window, shapeworld_record(samples=1, points=4000, model2=False), azimuth=0.0, elevation=0.0)
    assert not pane.model_box.isEnabled() and len(pane.cloud.drawn) == 4000 and "drawn" not in pane.note.text()
    pane.limit_spin.setValue(1000)
    drawn = pane.cloud.drawn.copy()
    assert len(drawn) == len(np.unique(drawn)) == 1000 and "a fixed random 1,000" in pane.note.text()
    pane.colour_box.setCurrentText("entropy")
    assert np.array_equal(pane.cloud.drawn, drawn)                      # recolouring keeps the same points
    points = pane.record.arrays["points"][0]
    nearest = int(drawn[np.argmin(points[drawn, 1])])                   # the drawn point nearest the viewer (−y)
    click(qtbot, pane, nearest)
    assert pane.state.picked == (nearest,) and window.document.selection.points == (nearest,)
    hidden = int(np.setdiff1d(np.arange(4000), drawn)[0])
    window.document.select(points=(hidden,))
    assert pane.state.picked == (hidden,) and ringed(pane, hidden)


def test_open_in_open3d_writes_the_coloured_cloud_and_starts_the_viewer(qtbot, window, monkeypatch):
    pane = shown(qtbot, window, shapeworld_record(samples=2))
    started = []   # (after the canvas is made: vispy asks xdpyinfo for the screen's dpi)
    monkeypatch.setattr(open3d_viewer.subprocess, "Popen", lambda command, **kw: started.append((command, kw)))
    pane.colour_box.setCurrentText("part")
    pane.open3d_button.click()
    command = started[0][0]
    path = command[3]
    assert command == [sys.executable, "-m", "gui.open3d_viewer", path, "--title",
                       f"DeepScope · {pane.record.meta['sample_names'][0]} · part", "--delete"]
    assert started[0][1]["cwd"] == open3d_viewer.REPOSITORY and started[0][1]["start_new_session"]
    cloud = o3d.io.read_point_cloud(path)
    assert np.allclose(np.asarray(cloud.points), pane.record.arrays["points"][0], atol=1e-6)
    assert np.allclose(np.asarray(cloud.colors), pane.colouring().rgba[:, :3], atol=1 / 255)
    shown_windows = []
    monkeypatch.setattr(o3d.visualization, "draw_geometries", lambda clouds, **kw: shown_windows.append(clouds))
    assert open3d_viewer.main(command[3:]) == 0                          # the viewer process, without its window
    assert len(shown_windows[0][0].points) == 512 and not Path(path).exists()


def test_export_figure_shows_the_panes_view_and_the_snapshot_holds_the_canvas(qtbot, window, tmp_path):
    pane = shown(qtbot, window, three_dot_record(label=3), azimuth=-35.0, elevation=20.0)
    pane.colour_box.setCurrentText("class")
    options = pane.figure_options()
    assert options == {"sample": 0, "colour_by": "class", "model": "model", "azimuth": -35.0, "elevation": 20.0,
                       "point_size": 6.0}
    points = pane.record.arrays["points"][0]
    on_canvas, in_figure = pane.cloud.canvas_xy(points), pixels(points, -35.0, 20.0)
    for xy in (on_canvas, in_figure):                                   # the same view: the same directions
        xy -= xy[MIDDLE]
    assert np.allclose(on_canvas[[LEFT, RIGHT]] / np.linalg.norm(on_canvas[LEFT]),
                       in_figure[[LEFT, RIGHT]] / np.linalg.norm(in_figure[LEFT]), atol=0.02)
    assert window.export("png", str(tmp_path / "cloud.png"), 80)
    assert (tmp_path / "cloud.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert window.export(SNAPSHOT, str(tmp_path / "snapshot.png"), 80)
    snapshot = QColor(pane.grab().toImage().pixel(pane.cloud.widget.mapTo(pane, QPoint(
        *map(int, np.round(pane.cloud.canvas_xy(points[[LEFT]])[0]))))))
    assert near((snapshot.redF(), snapshot.greenF(), snapshot.blueF()), RED)

