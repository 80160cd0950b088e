"""The vispy scene of the point-cloud pane: one cloud as markers, rings around the picked
points, a turntable camera (drag: rotate; shift-drag: pan; wheel or right-drag: zoom), and
picking by click.

Above a limit only a fixed random subset of the cloud is drawn (software OpenGL redraws 1M
points at about 2 fps: ENVIRONMENT.md rule 2); picking reaches the drawn points and answers
with their index in the whole cloud.
"""
from __future__ import annotations

import numpy as np
import vispy

vispy.use(app="pyside6")
from vispy import scene  # noqa: E402 (after choosing the Qt binding)

from engine.figures.point_cloud import framing, view_axes  # noqa: E402

BACKGROUND = "white"
RING_RGBA = (1.0, 0.0, 0.85, 1.0)   # magenta: no colormap or palette here uses it
CLICK_SLOP_PX = 3                   # press and release this close together: a click, not a drag
SUBSET_SEED = 0


def drawn_subset(count: int, limit: int) -> np.ndarray:
    """Indices of the points drawn, ascending: all of them, or `limit` drawn at random with a
    fixed seed, so a redraw or a recolouring shows the same points."""
    if count <= limit:
        return np.arange(count)
    return np.sort(np.random.default_rng(SUBSET_SEED).choice(count, limit, replace=False))


class PointCanvas:
    def __init__(self, on_pick) -> None:
        self.on_pick = on_pick   # called with the picked point's index in the cloud
        self.canvas = scene.SceneCanvas(keys=None, bgcolor=BACKGROUND, size=(640, 520))
        self.view = self.canvas.central_widget.add_view()
        self.view.camera = scene.TurntableCamera(fov=0, up="+z", azimuth=30.0, elevation=30.0)
        # hard edges: an antialiased rim is translucent yet writes depth, so it cuts white halos
        # into the points behind it wherever a cloud is dense
        self.markers = scene.visuals.Markers(parent=self.view.scene, antialias=0)
        self.rings = scene.visuals.Markers(parent=self.view.scene)
        self.rings.set_gl_state(depth_test=False, blend=True, blend_func=("src_alpha", "one_minus_src_alpha"))
        self.rings.order = 1      # after the cloud, over it: a picked point behind others still shows
        self.rings.visible = False
        self.points = np.zeros((0, 3), np.float32)
        self.drawn = np.zeros(0, np.int64)
        self.size = 6.0
        self.canvas.events.mouse_release.connect(self._on_release)

    @property
    def widget(self):
        return self.canvas.native

    def show_cloud(self, points: np.ndarray, rgba: np.ndarray, crossed: np.ndarray, drawn: np.ndarray,
                   size: float, refit: bool) -> None:
        """The points at `drawn` in their colours, discs, or crosses where `crossed`."""
        self.points, self.drawn, self.size = points, drawn, size
        crossed = crossed[drawn]
        symbol = np.where(crossed, "x", "disc") if crossed.any() else "disc"  # one name: no per-point lookup
        self.markers.set_data(points[drawn], face_color=rgba[drawn], symbol=symbol, size=size, edge_width=0)
        if refit:
            self.fit(points)

    def fit(self, points: np.ndarray) -> None:
        """Centre the cloud and zoom so it fits the canvas's shorter side from any direction, as
        the exported figure frames it (an orthographic scale_factor spans the shorter side)."""
        centre, half = framing(points)
        self.view.camera.center = tuple(float(c) for c in centre)
        self.view.camera.scale_factor = 2 * half

    def show_rings(self, indices: tuple) -> None:
        self.rings.visible = bool(indices)
        if indices:
            self.rings.set_data(self.points[list(indices)], face_color=(0, 0, 0, 0), edge_color=RING_RGBA,
                                edge_width=2.0, size=2 * self.size + 8)

    def view_angles(self) -> tuple[float, float]:
        return float(self.view.camera.azimuth), float(self.view.camera.elevation)

    def set_view(self, azimuth: float, elevation: float) -> None:
        self.view.camera.azimuth, self.view.camera.elevation = azimuth, elevation

    def canvas_xy(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) logical pixels of `points` on the canvas."""
        mapped = self.markers.get_transform("visual", "canvas").map(points)
        return mapped[:, :2] / mapped[:, 3:4]

    def pick(self, x: float, y: float) -> int | None:
        """The cloud index of the drawn point under canvas pixel (x, y), the nearest to the viewer."""
        if not len(self.drawn):
            return None
        distance = np.hypot(*(self.canvas_xy(self.points[self.drawn]) - (x, y)).T)
        under = np.flatnonzero(distance <= max(self.size / 2, 2.0) + 1.0)
        if not under.size:
            return None
        depth = self.points[self.drawn[under]] @ view_axes(*self.view_angles())[2]
        return int(self.drawn[under[np.argmax(depth)]])

    def _on_release(self, event) -> None:
        press = event.press_event
        if event.button != 1 or press is None or np.hypot(*(event.pos - press.pos)) > CLICK_SLOP_PX:
            return
        index = self.pick(*event.pos[:2])
        if index is not None:
            self.on_pick(index)

    def image(self) -> np.ndarray:
        """(H, W, 4) uint8 of the scene as drawn now (an offscreen render: works without a window)."""
        return self.canvas.render()
