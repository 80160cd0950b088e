"""The pointcloud-utility figure (spec pointcloud-utility §5.8): colours per point, Open3D's
offscreen render headless with probe pixels, the figure's colour bar and × marks, CLI export."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg

from engine.figures.point_cloud import pixels, render, render_cloud, view_axes
from engine.figures.point_colours import at_clamp, colour_choices, colouring
from engine.figures.point_rows import cloud_rows, point_values
from engine.results import save_result
from engine.data import load_data
from point_testkit import MODEL, MODEL2, shapeworld_record, three_dot_record, utility_record

REPO = Path(__file__).resolve().parents[2]
DOTS = np.array([[-0.8, 0, 0], [0.8, 0, 0], [0, 0.8, 0], [0, 0, 0.8], [0, 0, 0]], np.float64)
DOT_RGB = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [0, 0, 0]], np.float64)


def test_view_axes_follow_vispys_turntable_with_z_up():
    right, up, toward = view_axes(0.0, 0.0)
    assert np.allclose([right, up, toward], [[1, 0, 0], [0, 0, 1], [0, -1, 0]])   # from −y, x to the right
    right, up, toward = view_axes(90.0, 90.0)
    assert np.allclose(toward, [0, 0, 1]) and np.allclose(right, [0, 1, 0])       # from above
    assert np.allclose(np.cross(right, up), toward)


@pytest.mark.parametrize("azimuth, elevation", [(0.0, 0.0), (30.0, 30.0), (-60.0, 10.0)])
def test_offscreen_render_puts_each_dot_where_pixels_says_in_its_exact_colour(azimuth, elevation):
    image = render_cloud(DOTS, DOT_RGB, azimuth, elevation, point_size=5, size=200)
    assert image.shape == (200, 200, 3) and (image[0, 0] == 255).all()           # white background
    for (col, row), rgb, point in zip(pixels(DOTS, azimuth, elevation, 200), DOT_RGB, DOTS):
        if azimuth == 0.0 and point[1] > 0:
            continue                                                             # hidden behind the centre dot
        assert (image[int(round(row)), int(round(col))] == rgb * 255).all()


def test_colours_limits_and_clamp_of_a_hand_made_record():
    record = shapeworld_record(samples=2)
    assert colour_choices(record) == ["importance", "entropy", "part", "class"]
    importance = colouring(record, 0, "importance")
    values = record.arrays["importance"][0]
    lo, hi = importance.limits
    assert lo == 0.0 and hi == pytest.approx(max(record.arrays["importance"].max(),
                                                 record.arrays["model2/importance"].max()))
    top = int(values.argmax())
    assert np.allclose(importance.rgba[top], colormaps["viridis"]((values[top] - lo) / (hi - lo)))
    clamped = at_clamp(record, 0)
    assert clamped.any() and np.all(values[clamped] <= 3 * np.log(1 / 0.99) + 1e-6)  # 3 log(σ_max/σ): ~nothing kept
    classes = colouring(record, 1, "class")
    assert classes.legend[0][0] == record.meta["class_names"][int(record.arrays["labels"][1])]
    assert len({tuple(c) for c in classes.rgba}) == 1
    header, rows = cloud_rows(record, 1)
    assert header == ["metric", MODEL, MODEL2] and dict((r[0], r[1:]) for r in rows)["neighbourhood inconsistency"] \
        == [1.0, 11.0]
    assert point_values(three_dot_record(), 0, 2)[1] == ("part", "unknown")


def test_a_cloud_with_background_points_shows_its_information_concentration():
    record = utility_record(load_data("demo:shapeworld?n=2&seed=4&points=256&background=64"))
    background = record.arrays["part_labels"][1] == record.meta["part_names"].index("background")
    entropy = record.arrays["entropy"][1]
    rows = dict((r[0], r[1:]) for r in cloud_rows(record, 1)[1])
    assert rows["background − object entropy"][0] == pytest.approx(entropy[background].mean() - entropy[~background].mean())
    assert "background − object entropy" not in dict((r[0], r) for r in cloud_rows(shapeworld_record(1), 0)[1])


def test_without_part_labels_or_model2_only_what_the_record_holds_is_offered():
    record = shapeworld_record(samples=1, model2=False)
    del record.arrays["part_labels"]
    assert colour_choices(record) == ["importance", "entropy", "class"]
    assert cloud_rows(record, 0)[0] == ["metric", MODEL]


def test_figure_has_the_colour_bar_the_marks_and_the_cloud():
    record = three_dot_record(label=3)
    figure = render(record, colour_by="importance", azimuth=0.0, elevation=0.0, point_size=20)
    image_ax, bar_ax = figure.axes
    assert bar_ax.get_ylabel() == "importance (nats kept)"
    assert "three-dots" in image_ax.get_title() and "× at the σ clamp" in image_ax.get_title()
    marks = image_ax.collections[0].get_offsets()
    assert np.allclose(marks, pixels(record.arrays["points"][0], 0.0, 0.0)[[2]])  # the right dot: at the clamp
    cloud = image_ax.images[0].get_array()
    (col, row) = pixels(record.arrays["points"][0], 0.0, 0.0)[0]
    assert np.allclose(cloud[int(round(row)), int(round(col))] / 255, colormaps["viridis"](1.0)[:3], atol=1 / 255)
    legend = render(record, colour_by="part").axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["a/left", "a/mid", "unknown"]
    FigureCanvasAgg(figure).draw()


@pytest.mark.slow
def test_cli_export_writes_a_png_and_keeps_stdout_clean(tmp_path):
    folder = save_result(three_dot_record(), tmp_path / "result")
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "engine.cli", "export", str(folder), "--format", "png",
                           "--out", str(tmp_path / "cloud.png"), "--dpi", "60"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cloud.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "FEngine" not in done.stdout and "CircularBuffer" not in done.stdout   # Filament's lines: stderr
