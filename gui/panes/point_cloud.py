"""Point-cloud pane: one cloud of a pointcloud-utility result in a vispy canvas, its metrics beside it.

spec: pointcloud-utility §5.8: the cloud coloured by per-point importance or entropy (or part,
or class) with a colour bar, points at the σ clamp drawn as ×; the model / --model2 toggle;
rotate, pan, zoom; click a point → it becomes the document's selection (sample, points) and
its values show; a selection made elsewhere rings its points. Large clouds are decimated
(_point_canvas). "Open in Open3D" starts a separate viewer process (gui.open3d_viewer).
A GL widget turns on OpenGL compositing of its whole window, and under software OpenGL every
repaint of any pane then cost about 10 ms more (tests/bench/window_updates.py). So the canvas
is made when the first result arrives, and its column is a native window of its own: then only
that column is composited (measured by the same benchmark; Qt's own way, a QOpenGLWindow in a
window container, has no vispy canvas).
Renders only from `(record, state)`; `figure()` is the CLI's export figure (Open3D offscreen).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (QApplication, QComboBox, QDoubleSpinBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSpinBox, QSplitter, QTableWidget, QVBoxLayout, QWidget)

from engine import figures
from engine.figures.point_colours import at_clamp, colour_choices, colouring, model_names
from engine.figures.point_rows import cloud_rows, model_labels, point_values
from gui import open3d_viewer
from gui.panes._colour_bar import ColourBar
from gui.panes._point_canvas import PointCanvas, drawn_subset
from gui.panes.part_metrics import fill, fit_height


@dataclass(frozen=True)
class PointCloudPaneState:
    """What the user chose in this pane."""

    sample: int = 0
    colour_by: str = "importance"   # one of point_colours.colour_choices(record)
    model: str = "model"            # "model", or "model2" for --model2's σ
    point_size: float = 6.0         # screen pixels
    max_drawn: int = 200_000        # above this many points a fixed random subset is drawn
    picked: tuple = ()              # indices of picked points in the cloud


EMPTY_HINT = ("Run pointcloud-utility on a point-cloud network (Run analysis; e.g. demo:pointnet2-msg on "
              "demo:shapeworld?n=64) to see its clouds here, coloured by what each point contributes.")


class PointCloudPane(QWidget):
    kinds = ("pointcloud-utility",)
    title = "Point cloud"

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.record = None
        self.state = PointCloudPaneState()
        self.cloud: PointCanvas | None = None   # made by the first result (module docstring)
        self._build()
        document.subscribe(self._on_document)

    # building ------------------------------------------------------------------------
    def _build(self) -> None:
        self.sample_box, self.colour_box, self.model_box = QComboBox(), QComboBox(), QComboBox()
        self.size_spin = QDoubleSpinBox()
        self.size_spin.setRange(1.0, 40.0)
        self.size_spin.setValue(self.state.point_size)
        self.limit_spin = QSpinBox()
        self.limit_spin.setRange(1_000, 50_000_000)
        self.limit_spin.setSingleStep(50_000)
        self.limit_spin.setValue(self.state.max_drawn)
        self.open3d_button = QPushButton("Open in Open3D")
        controls = QHBoxLayout()
        for label, widget in (("sample", self.sample_box), ("colour by", self.colour_box),
                              ("σ of", self.model_box), ("point size", self.size_spin),
                              ("draw at most", self.limit_spin)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addWidget(self.open3d_button)
        controls.addStretch(1)
        self.colour_bar = ColourBar()
        self.note = QLabel()
        self.hint = QLabel(EMPTY_HINT)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignCenter)
        left = QWidget()
        self.left_layout = left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.hint, 1)
        left_layout.addWidget(self.colour_bar)
        left_layout.addWidget(self.note)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self._build_side())
        splitter.setSizes([600, 480])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)
        self._connect()

    def _build_side(self) -> QWidget:
        self.metric_table = QTableWidget()
        self.metric_table.verticalHeader().setVisible(False)
        self.metric_table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # long model names elide
        self.point_info = QLabel("Click a point: its values appear here.")
        self.point_info.setWordWrap(True)
        self.point_info.setTextInteractionFlags(Qt.TextSelectableByMouse)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.metric_table)
        side_layout.addWidget(self.point_info)
        side_layout.addStretch(1)
        return side

    def _connect(self) -> None:
        self.sample_box.currentIndexChanged.connect(self._on_sample_chosen)
        self.colour_box.currentTextChanged.connect(self._on_colour_chosen)
        self.model_box.currentIndexChanged.connect(self._on_model_chosen)
        self.size_spin.valueChanged.connect(lambda size: self.set_state(point_size=size))
        self.limit_spin.valueChanged.connect(lambda limit: self.set_state(max_drawn=limit))
        self.open3d_button.clicked.connect(self.open_in_open3d)

    # input ---------------------------------------------------------------------------
    def show_result(self, record) -> None:
        self.make_canvas()
        self.record = record
        samples, choices, models = len(record.arrays["points"]), colour_choices(record), model_names(record)
        self.state = replace(self.state, sample=self.state.sample if self.state.sample < samples else 0,
                             colour_by=self.state.colour_by if self.state.colour_by in choices else choices[0],
                             model=self.state.model if self.state.model in models else "model", picked=())
        names = record.meta.get("sample_names") or [f"cloud {i}" for i in range(samples)]
        self._refill(self.sample_box, names, self.state.sample)
        self._refill(self.colour_box, choices, choices.index(self.state.colour_by))
        self._refill(self.model_box, model_labels(record), models.index(self.state.model))
        self.model_box.setEnabled(len(models) > 1)
        self.render(refit=True)

    def make_canvas(self) -> None:
        """The vispy canvas in the hint's place, once, in a column that is a native window (module
        docstring); neither its ancestors nor their siblings are made native with it."""
        if self.cloud is not None:
            return
        column = self.hint.parentWidget()
        QApplication.setAttribute(Qt.AA_DontCreateNativeWidgetSiblings)
        column.setAttribute(Qt.WA_DontCreateNativeAncestors)
        column.setAttribute(Qt.WA_NativeWindow)
        self.cloud = PointCanvas(self.pick)
        self.left_layout.replaceWidget(self.hint, self.cloud.widget)
        self.hint.hide()

    @staticmethod
    def _refill(box: QComboBox, items: list, current: int) -> None:
        box.blockSignals(True)
        box.clear()
        box.addItems([str(item) for item in items])
        box.setCurrentIndex(current)
        box.blockSignals(False)

    def set_state(self, **changes) -> None:
        before = self.state
        self.state = replace(self.state, **changes)
        if self.record is None:
            return
        if replace(before, picked=self.state.picked) == self.state:
            self._render_picked()
        else:
            self.render(refit=self.state.sample != before.sample)

    def pick(self, index: int) -> None:
        """A clicked point: picked here, and the document's selection (this sample, this point)."""
        self.set_state(picked=(index,))
        self.document.select(sample=self.state.sample, points=(index,))

    def _on_sample_chosen(self, sample: int) -> None:
        if self.record is not None and sample >= 0:
            self.set_state(sample=sample, picked=())
            self.document.select(sample=sample, points=())

    def _on_colour_chosen(self, colour_by: str) -> None:
        if self.record is not None and colour_by:
            self.set_state(colour_by=colour_by)

    def _on_model_chosen(self, index: int) -> None:
        if self.record is not None and index >= 0:
            self.set_state(model=model_names(self.record)[index])

    def _on_document(self, event: str, payload) -> None:
        """The selection of this result moved to another sample or points: show them."""
        if (event != "selection" or self.record is None or not {"sample", "points"} & set(payload)
                or self.document.selection.result != self.document.result_id(self.record)):
            return
        selection, count = self.document.selection, self.record.arrays["points"].shape[1]
        sample = selection.sample if selection.sample in range(len(self.record.arrays["points"])) else self.state.sample
        picked = tuple(int(i) for i in selection.points if 0 <= int(i) < count)
        if (sample, picked) != (self.state.sample, self.state.picked):
            self.sample_box.blockSignals(True)
            self.sample_box.setCurrentIndex(sample)
            self.sample_box.blockSignals(False)
            self.set_state(sample=sample, picked=picked)

    # rendering -----------------------------------------------------------------------
    def colouring(self):
        return colouring(self.record, self.state.sample, self.state.colour_by, self.state.model)

    def render(self, refit: bool = False) -> None:
        s = self.state
        points = self.record.arrays["points"][s.sample]
        colours = self.colouring()
        clamped = at_clamp(self.record, s.sample, s.model)
        drawn = drawn_subset(len(points), s.max_drawn)
        self.cloud.show_cloud(points, colours.rgba, clamped, drawn, s.point_size, refit)
        self.colour_bar.show_colouring(colours)
        self.note.setText(f"{len(points):,} points, {int(clamped.sum()):,} at the σ clamp (×)"
                          + (f"; drawn: a fixed random {len(drawn):,} (raise “draw at most” for all)"
                             if len(drawn) < len(points) else ""))
        fill(self.metric_table, *cloud_rows(self.record, s.sample))
        fit_height(self.metric_table)
        header = self.metric_table.horizontalHeader()
        for column in range(1, self.metric_table.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.Stretch)
        self._render_picked()

    def _render_picked(self) -> None:
        self.cloud.show_rings(self.state.picked)
        if self.state.picked:
            values = point_values(self.record, self.state.sample, self.state.picked[0])
            self.point_info.setText("<br>".join(f"<b>{name}</b>: {text}" for name, text in values))
        else:
            self.point_info.setText("Click a point: its values appear here.")
        self.cloud.canvas.update()

    # export --------------------------------------------------------------------------
    def figure_options(self) -> dict:
        azimuth, elevation = self.cloud.view_angles()
        s = self.state
        return {"sample": s.sample, "colour_by": s.colour_by, "model": s.model, "azimuth": azimuth,
                "elevation": elevation, "point_size": s.point_size}

    def figure(self):
        return figures.render(self.record, **self.figure_options())

    def grab(self):
        """The whole pane as shown, the canvas drawn in from its own render: a GL widget grabs
        black on platforms without a framebuffer for it (Qt's offscreen platform)."""
        pixmap = super().grab()
        if self.cloud is None:
            return pixmap
        pixels = np.ascontiguousarray(self.cloud.image()[..., :3])
        h, w = pixels.shape[:2]
        painter = QPainter(pixmap)
        painter.drawImage(self.cloud.widget.mapTo(self, QPoint(0, 0)), QImage(pixels.data, w, h, 3 * w,
                                                                              QImage.Format_RGB888))
        painter.end()
        return pixmap

    def open_in_open3d(self) -> list[str] | None:
        """The whole cloud (not the drawn subset) in its colours, in Open3D's own window."""
        if self.record is None:
            return None
        s = self.state
        title = f"DeepScope · {self.sample_box.currentText()} · {s.colour_by}"
        command = open3d_viewer.launch(self.record.arrays["points"][s.sample], self.colouring().rgba[:, :3], title)
        self.note.setText("Open3D shows the cloud in its own window.")
        return command
