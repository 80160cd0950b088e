"""Part metrics pane: location instability or part interpretability, both models side by side.

spec: interpretable-cnn §2.8 (the metrics) and §2.12 (metric views): on top, every measured
layer of the model and of --model2's with its mean, accuracy and the ratio (instability) or
gain (interpretability) between them; below, for the chosen layer, a sortable table of its
units (value, category or part, D per landmark or hit rate per part) beside the unit ×
landmark (filter × part) heat map. Clicking a table row or a heat-map row selects that
filter in the document. Renders only from `(record, state)`; `figure()` is the CLI's export
figure, and Export's CSV holds the per-unit rows of both models (engine/tables.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QLabel, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from engine import figures
from engine.figures.part_rows import METRICS, layer_rows, summary
from gui.panes._part_heatmap import PartHeatMap

SORT_ROLE, INDEX_ROLE = Qt.UserRole, Qt.UserRole + 1


@dataclass(frozen=True)
class PartMetricsPaneState:
    """What the user chose in this pane."""

    row: str | None = None    # the shown layer: "LAYER", or "model2 LAYER" for --model2's
    unit: int | None = None   # the selected unit: an index into that layer's units


class Cell(QTableWidgetItem):
    """A table cell that sorts by its value (numbers as numbers, NaN and blanks last)."""

    def __init__(self, value, index: int | None = None) -> None:
        number = isinstance(value, float)
        super().__init__(("" if math.isnan(value) else f"{value:.4g}") if number else str(value))
        self.setData(SORT_ROLE, value)
        self.setData(INDEX_ROLE, index)  # the unit's index in its layer (rows move when sorted)
        self.setFlags(Qt.ItemIsSelectable | Qt.ItemIsEnabled)

    def __lt__(self, other) -> bool:
        return sort_key(self.data(SORT_ROLE)) < sort_key(other.data(SORT_ROLE))


def sort_key(value) -> tuple:
    if isinstance(value, (int, float)):
        return (0, math.inf if math.isnan(value) else value, "")
    return (0 if value else 1, 0.0, str(value))


def fill(table: QTableWidget, header: list, rows: list) -> None:
    """Replace the table's cells (values, or cells made already); a sorted table re-sorts by its
    current column."""
    sorting = table.isSortingEnabled()
    table.setSortingEnabled(False)
    table.clear()
    table.setColumnCount(len(header))
    table.setHorizontalHeaderLabels(header)
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.setItem(r, c, value if isinstance(value, Cell) else Cell(value))
    table.setSortingEnabled(sorting)


def fit_height(table: QTableWidget) -> None:
    """As tall as its rows: the summary has a few, and the unit table below wants the room."""
    table.resizeColumnsToContents()
    table.resizeRowsToContents()
    rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
    table.setFixedHeight(table.horizontalHeader().height() + rows + 2 * table.frameWidth())


EMPTY_HINT = ("Run location-instability or part-interpretability (Run analysis; with a second model, "
              "e.g. demo:partworld-icnn against demo:partworld-cnn6, side by side) to see them here.")


def caption(record) -> str:
    """What the shown result measured: the method, its model(s) and data."""
    second = record.meta.get("model2") or ""
    models = f"{record.model} against {second}" if second else record.model
    return f"{record.kind} of {models} on {record.data}"


class PartMetricsPane(QWidget):
    kinds = ("location-instability", "part-interpretability")
    title = "Part metrics"

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.record = None
        self.rows: dict = {}   # label → LayerRow of the shown record
        self.state = PartMetricsPaneState()
        self._build()
        document.subscribe(self._on_document)

    # building ------------------------------------------------------------------------
    def _build(self) -> None:
        self.layer_box = QComboBox()
        controls = QHBoxLayout()
        controls.addWidget(QLabel("layer"))
        controls.addWidget(self.layer_box)
        controls.addStretch(1)
        self.caption = QLabel(EMPTY_HINT)
        self.caption.setWordWrap(True)
        self.summary_table = QTableWidget()
        self.unit_table = QTableWidget()
        self.unit_table.setSortingEnabled(True)
        for table in (self.summary_table, self.unit_table):
            table.setSelectionBehavior(QAbstractItemView.SelectRows)
            table.verticalHeader().setVisible(False)
        self.heat = PartHeatMap()
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self.unit_table)
        splitter.addWidget(self.heat)
        splitter.setSizes([520, 480])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.caption)
        layout.addWidget(self.summary_table)
        layout.addWidget(splitter, 1)
        self.layer_box.currentTextChanged.connect(self._on_layer_chosen)
        self.unit_table.cellClicked.connect(self._on_table_clicked)
        self.heat.scene().sigMouseClicked.connect(self._on_heat_clicked)

    # input ---------------------------------------------------------------------------
    def show_result(self, record) -> None:
        self.record = record
        self.rows = {row.label: row for row in layer_rows(record)}
        label = self.state.row if self.state.row in self.rows else next(iter(self.rows))
        self.state = replace(self.state, row=label, unit=None)
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(list(self.rows))
        self.layer_box.setCurrentText(label)
        self.layer_box.blockSignals(False)
        self.caption.setText(caption(record))
        fill(self.summary_table, *summary(record))
        fit_height(self.summary_table)
        self.render()

    def set_state(self, **changes) -> None:
        layer_changed = changes.get("row", self.state.row) != self.state.row
        self.state = replace(self.state, **changes)
        if layer_changed:
            self.render()
        else:
            self._render_selection()

    def shown_row(self):
        return self.rows[self.state.row]

    def select_unit(self, index: int) -> None:
        """The unit becomes the selected one, and its filter the document's selection."""
        self.set_state(unit=index)
        row = self.shown_row()
        self.document.select(layer=row.layer, filter=int(row.units[index]))

    def _on_layer_chosen(self, label: str) -> None:
        if label and self.record is not None:
            self.set_state(row=label, unit=None)

    def _on_table_clicked(self, table_row: int, _column: int) -> None:
        self.select_unit(int(self.unit_table.item(table_row, 0).data(INDEX_ROLE)))

    def _on_heat_clicked(self, event) -> None:
        if self.record is None or event.button() != Qt.LeftButton:
            return
        index = self.heat.row_at(event.scenePos())
        if index is not None:
            self.select_unit(index)

    def _on_document(self, event: str, payload) -> None:
        """Another pane picked a filter of the shown layer: select its row."""
        if event != "selection" or self.record is None or not {"layer", "filter"} & set(payload):
            return
        selection, row = self.document.selection, self.shown_row()
        matches = [i for i, unit in enumerate(row.units) if int(unit) == selection.filter]
        if selection.layer == row.layer and matches and matches[0] != self.state.unit:
            self.set_state(unit=matches[0])

    # rendering -----------------------------------------------------------------------
    def render(self) -> None:
        if self.record is None:
            return
        row, metric = self.shown_row(), METRICS[self.record.kind]
        header = ["unit", metric.group, metric.value_label, *row.columns]
        cells = [[Cell(int(unit), i), row.groups[i], float(row.values[i]), *map(float, row.matrix[i])]
                 for i, unit in enumerate(row.units)]
        fill(self.unit_table, header, cells)
        self.unit_table.resizeColumnsToContents()
        self.heat.show(row.matrix, row.columns, row.units, metric.cmap, f"{row.label}: {metric.matrix_label}")
        self._render_selection()

    def _render_selection(self) -> None:
        self.heat.select_row(self.state.unit)
        table_row = self.table_row(self.state.unit)
        if table_row is None:
            self.unit_table.clearSelection()
        else:
            self.unit_table.selectRow(table_row)

    def table_row(self, index: int | None) -> int | None:
        """The table row showing unit `index` (after sorting), if any."""
        for table_row in range(self.unit_table.rowCount()):
            if index is not None and self.unit_table.item(table_row, 0).data(INDEX_ROLE) == index:
                return table_row
        return None

    # export --------------------------------------------------------------------------
    def figure_options(self) -> dict:
        return {}

    def figure(self):
        return figures.render(self.record, **self.figure_options())
