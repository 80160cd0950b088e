"""Figure of a pointcloud-utility result: one cloud as the point-cloud pane shows it.

spec: pointcloud-utility §5.8: the cloud coloured per point (importance, entropy, part or
class) with its colour bar or legend, points at the σ clamp marked ×. Open3D's
OffscreenRenderer draws the cloud headless (no window, no display: Filament on Mesa's
software Vulkan; ENVIRONMENT.md rule 3 — its legacy Visualizer would break the GUI's vispy
canvas); matplotlib lays out the image with the colour bar, so PNG/SVG/PDF all work.
The view is orthographic from (azimuth, elevation) as vispy's TurntableCamera with +z up
places it, so the pane's view and its export agree.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from engine.figures.point_colours import at_clamp, colouring

IMAGE_PX = 900
CANVAS_PX = 600    # about the pane's canvas: its point sizes scale to the figure's image by IMAGE_PX / CANVAS_PX
BACKGROUND = (1.0, 1.0, 1.0, 1.0)


def view_axes(azimuth: float, elevation: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Screen right, screen up and the direction toward the viewer, in data coordinates
    (vispy's TurntableCamera, up +z: azimuth 0 looks along +y, elevation 90 looks down)."""
    a, e = np.radians([azimuth, elevation])
    right = np.array([np.cos(a), np.sin(a), 0.0])
    up = np.array([-np.sin(a) * np.sin(e), np.cos(a) * np.sin(e), np.cos(e)])
    toward_viewer = np.array([np.sin(a) * np.cos(e), -np.cos(a) * np.cos(e), np.sin(e)])
    return right, up, toward_viewer


def framing(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre and half-width of a view that holds the whole cloud from any direction."""
    centre = (points.min(0) + points.max(0)) / 2
    return centre, 1.05 * max(float(np.linalg.norm(points - centre, axis=1).max()), 1e-6)


def pixels(points: np.ndarray, azimuth: float, elevation: float, size: int = IMAGE_PX) -> np.ndarray:
    """(N, 2) column, row of each point in the image `render_cloud` makes of the whole cloud."""
    right, up, _ = view_axes(azimuth, elevation)
    centre, half = framing(points)
    offset = points - centre
    return np.stack([(offset @ right / half + 1) / 2, (1 - offset @ up / half) / 2], 1) * size - 0.5


@contextmanager
def stdout_to_stderr():
    """Filament prints its start-up lines on stdout (fd 1); the CLI's stdout stays for its output."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def render_cloud(points: np.ndarray, rgb: np.ndarray, azimuth: float = 30.0, elevation: float = 30.0,
                 point_size: float = 4.0, size: int = IMAGE_PX) -> np.ndarray:
    """(size, size, 3) uint8: the cloud in its colours, unlit, exact (no tone mapping)."""
    import torchvision  # noqa: F401, PLC0415 (before Mesa's LLVM: ENVIRONMENT.md rule 1)
    import open3d as o3d  # noqa: PLC0415 (321 MB: only when a figure is drawn)

    rendering = o3d.visualization.rendering
    o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)
    with stdout_to_stderr():
        renderer = rendering.OffscreenRenderer(size, size)
        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points.astype(np.float64)))
        cloud.colors = o3d.utility.Vector3dVector(np.clip(rgb, 0, 1).astype(np.float64))
        material = rendering.MaterialRecord()
        material.shader, material.point_size = "defaultUnlit", float(point_size)
        renderer.scene.add_geometry("cloud", cloud, material)
        renderer.scene.set_background(list(BACKGROUND))
        renderer.scene.view.set_post_processing(False)
        _, up, toward_viewer = view_axes(azimuth, elevation)
        centre, half = framing(points)
        renderer.scene.camera.set_projection(rendering.Camera.Projection.Ortho, -half, half, -half, half,
                                             half, 5 * half)
        renderer.scene.camera.look_at(centre, centre + 3 * half * toward_viewer, up)
        return np.asarray(renderer.render_to_image()).copy()


def render(record, sample: int = 0, colour_by: str = "importance", model: str = "model",
           azimuth: float = 30.0, elevation: float = 30.0, point_size: float = 6.0, **_) -> Figure:
    points = record.arrays["points"][sample]
    colours = colouring(record, sample, colour_by, model)
    figure = Figure(figsize=(6.4, 5.2), layout="constrained")
    ax = figure.add_subplot()
    image = render_cloud(points, colours.rgba[:, :3], azimuth, elevation, point_size * IMAGE_PX / CANVAS_PX)
    ax.imshow(image, interpolation="antialiased")
    ax.set_axis_off()
    clamped = pixels(points, azimuth, elevation)[at_clamp(record, sample, model)]
    ax.scatter(*clamped.T, marker="x", s=12, linewidths=0.7, color="k", label="σ at the clamp")
    _explain(figure, ax, colours)
    names = record.meta.get("sample_names") or []
    name = names[sample] if sample < len(names) else f"cloud {sample}"
    source = record.meta["model2"] if model == "model2" else record.model
    ax.set_title(f"{name} · {colours.label} · {source}" + (" (× at the σ clamp)" if len(clamped) else ""),
                 fontsize=8)
    return figure


def _explain(figure: Figure, ax, colours) -> None:
    """A colour bar for a quantity, a legend for parts or classes."""
    if colours.cmap:
        mappable = ScalarMappable(Normalize(*colours.limits), colours.cmap)
        figure.colorbar(mappable, ax=ax, shrink=0.8, label=colours.label)
    else:
        ax.legend(handles=[Patch(color=rgba, label=name) for name, rgba in colours.legend],
                  loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, title=colours.label)
