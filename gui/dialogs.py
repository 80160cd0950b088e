"""The run form (built from a method's declared config) and the export dialog."""
from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QWidget)

from engine import settings
from engine.analysis import AnalysisRequest
from engine.export import FORMATS
from engine.methods import METHODS

DEFAULT_MODEL = "demo:partworld-cnn"
DEFAULT_DATA = "demo:partworld?n=64&seed=1"
SNAPSHOT = "pane snapshot (png)"


def _editable_combo(items: list[str]) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)
    box.addItems(items)
    return box


class RunDialog(QDialog):
    """Method, model, data, layers, seed, and one field per config setting (with its doc)."""

    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run an analysis")
        self.method_box = QComboBox()
        self.method_box.addItems(list(METHODS))
        self.model_box = _editable_combo(list(dict.fromkeys([DEFAULT_MODEL, *session.models])))
        self.data_box = _editable_combo(list(dict.fromkeys([DEFAULT_DATA, *session.data])))
        self.layers_edit = QLineEdit()
        self.layers_edit.setPlaceholderText("default layer; or e.g. conv4,conv5")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.form = QFormLayout(self)
        for label, widget in (("method", self.method_box), ("model", self.model_box),
                              ("data", self.data_box), ("layers", self.layers_edit),
                              ("seed", self.seed_spin)):
            self.form.addRow(label, widget)
        self.setting_edits: dict[str, QLineEdit] = {}
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.form.addRow(self.buttons)
        self.method_box.currentTextChanged.connect(self._show_settings)
        self._show_settings(self.method_box.currentText())

    def _show_settings(self, method: str) -> None:
        for edit in self.setting_edits.values():
            self.form.removeRow(edit)
        self.setting_edits = {}
        for spec in settings.describe(METHODS[method].config_cls):
            default = spec["default"]
            text = ",".join(map(str, default)) if isinstance(default, (tuple, list)) else str(default)
            edit = QLineEdit(text)
            edit.setToolTip(f"{spec['doc']} ({spec['unit']})" if spec["unit"] else spec["doc"])
            self.setting_edits[spec["name"]] = edit
            self.form.insertRow(self.form.rowCount() - 1, spec["name"], edit)

    def request(self) -> AnalysisRequest:
        """The request the form describes; settings stay strings, checked by the engine."""
        method = self.method_box.currentText()
        defaults = {s["name"]: s["default"] for s in settings.describe(METHODS[method].config_cls)}
        changed = {k: e.text() for k, e in self.setting_edits.items()
                   if e.text() != _as_text(defaults[k])}
        layers = [l.strip() for l in self.layers_edit.text().split(",") if l.strip()]
        return AnalysisRequest(method, self.model_box.currentText(), self.data_box.currentText(),
                               layers, changed, self.seed_spin.value())


def _as_text(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


class ExportDialog(QDialog):
    """Figure (PNG/SVG/PDF, at a DPI), numbers (CSV/JSON), or a snapshot of the pane."""

    def __init__(self, default_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.format_box = QComboBox()
        self.format_box.addItems([*FORMATS, SNAPSHOT])
        self.dpi_spin = QSpinBox()
        self.dpi_spin.setRange(50, 1200)
        self.dpi_spin.setValue(300)
        self.path_edit = QLineEdit(default_path)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("format", self.format_box)
        form.addRow("dpi", self.dpi_spin)
        form.addRow("file", path_row)
        form.addRow(self.buttons)
        self.format_box.currentTextChanged.connect(self._match_suffix)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path_edit.text())
        if path:
            self.path_edit.setText(path)

    def _match_suffix(self, fmt: str) -> None:
        suffix = "png" if fmt == SNAPSHOT else fmt
        stem = self.path_edit.text().rsplit(".", 1)[0]
        self.path_edit.setText(f"{stem}.{suffix}")

    def choice(self) -> tuple[str, str, int]:
        return self.format_box.currentText(), self.path_edit.text(), self.dpi_spin.value()
