"""The run and train forms (built from a declared config dataclass) and the export dialog."""
from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QWidget)

from engine import settings
from engine.analysis import AnalysisRequest
from engine.export import FORMATS
from engine.methods import METHODS
from engine.training_job import TrainRequest, default_data, default_out, trainable_archs

DEFAULT_MODEL = "demo:partworld-cnn"
DEFAULT_DATA = "demo:partworld?n=64&seed=1"
DEFAULT_ARCH = "partworld-icnn"
SNAPSHOT = "pane snapshot (png)"


def _editable_combo(items: list[str]) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)
    box.addItems(items)
    return box


def _path_row(edit: QLineEdit, pick) -> QHBoxLayout:
    """The path field and a Browse… button that puts `pick()`'s answer (unless empty) into it."""
    browse = QPushButton("Browse…")
    browse.clicked.connect(lambda: edit.setText(pick() or edit.text()))
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return row


class SettingRows:
    """One line edit per field of a config dataclass (its doc as the tooltip), as rows of `form`
    above its last row (the buttons); `changed()` gives the edited fields, as strings."""

    def __init__(self, form: QFormLayout) -> None:
        self.form = form
        self.edits: dict[str, QLineEdit] = {}
        self.defaults: dict[str, str] = {}

    def show(self, config_cls) -> None:
        for edit in self.edits.values():
            self.form.removeRow(edit)
        self.edits, self.defaults = {}, {}
        for spec in settings.describe(config_cls):
            self.defaults[spec["name"]] = _as_text(spec["default"])
            edit = QLineEdit(self.defaults[spec["name"]])
            edit.setToolTip(f"{spec['doc']} ({spec['unit']})" if spec["unit"] else spec["doc"])
            self.edits[spec["name"]] = edit
            self.form.insertRow(self.form.rowCount() - 1, spec["name"], edit)

    def changed(self) -> dict[str, str]:
        return {k: e.text() for k, e in self.edits.items() if e.text() != self.defaults[k]}


class RunDialog(QDialog):
    """Method, model, data, layers, seed, and one field per config setting (with its doc)."""

    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run an analysis")
        self.method_box = QComboBox()
        self.method_box.addItems(list(METHODS))
        self.model_box = _editable_combo(list(dict.fromkeys([DEFAULT_MODEL, *session.models])))
        self.model2_box = _editable_combo(list(dict.fromkeys(["", *session.models])))
        self.model2_box.setToolTip("the second model of a method that compares two (consistency, "
                                   "location-instability, pointcloud-utility); empty: none")
        self.data_box = _editable_combo(list(dict.fromkeys([DEFAULT_DATA, *session.data])))
        self.layers_edit = QLineEdit()
        self.layers_edit.setPlaceholderText("default layer; or e.g. conv4,conv5")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.form = QFormLayout(self)
        for label, widget in (("method", self.method_box), ("model", self.model_box),
                              ("second model", self.model2_box), ("data", self.data_box), ("layers", self.layers_edit),
                              ("seed", self.seed_spin)):
            self.form.addRow(label, widget)
        self.buttons = _ok_cancel(self)
        self.form.addRow(self.buttons)
        self.settings_rows = SettingRows(self.form)
        self.method_box.currentTextChanged.connect(self._on_method_chosen)
        self._on_method_chosen(self.method_box.currentText())

    def _on_method_chosen(self, name: str) -> None:
        method = METHODS[name]
        self.settings_rows.show(method.config_cls)
        self.model2_box.setEnabled(method.needs_model2 or method.accepts_model2)

    @property
    def setting_edits(self) -> dict[str, QLineEdit]:
        return self.settings_rows.edits

    def request(self) -> AnalysisRequest:
        """The request the form describes; settings stay strings, checked by the engine."""
        layers = [l.strip() for l in self.layers_edit.text().split(",") if l.strip()]
        return AnalysisRequest(self.method_box.currentText(), self.model_box.currentText(),
                               self.data_box.currentText(), layers, self.settings_rows.changed(),
                               self.seed_spin.value(),
                               model2=self.model2_box.currentText() if self.model2_box.isEnabled() else "")


class TrainDialog(QDialog):
    """Architecture, training data, a new output folder, and one field per TrainConfig setting."""

    def __init__(self, session, parent: QWidget | None = None) -> None:
        from engine.models.training import TrainConfig  # noqa: PLC0415 (imports torch)

        super().__init__(parent)
        self.setWindowTitle("Train a model")
        self.setMinimumWidth(620)  # room for the output folder's path
        self.session = session
        self.arch_box = QComboBox()
        self.arch_box.addItems(trainable_archs())
        self.arch_box.setCurrentText(DEFAULT_ARCH)
        self.data_box = _editable_combo(list(dict.fromkeys([default_data(DEFAULT_ARCH), *session.data])))
        self.out_edit = QLineEdit(str(default_out(session, DEFAULT_ARCH)))
        self.out_edit.setToolTip("a new (or empty) folder: model.json and weights.safetensors go there")
        self.form = QFormLayout(self)
        self.form.addRow("architecture", self.arch_box)
        self.form.addRow("data", self.data_box)
        self.form.addRow("output folder", _path_row(self.out_edit, self._pick_folder))
        self.buttons = _ok_cancel(self)
        self.form.addRow(self.buttons)
        self.settings_rows = SettingRows(self.form)
        self.settings_rows.show(TrainConfig)
        self.arch_box.currentTextChanged.connect(self._on_arch_chosen)

    def _on_arch_chosen(self, arch: str) -> None:
        self.data_box.setEditText(default_data(arch))
        self.out_edit.setText(str(default_out(self.session, arch)))

    def _pick_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, "Train into a new (empty) folder")

    def request(self) -> TrainRequest:
        """The training the form describes; settings stay strings, checked by the engine."""
        return TrainRequest(self.arch_box.currentText(), self.data_box.currentText(),
                            self.out_edit.text().strip(), self.settings_rows.changed())


def _as_text(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def _ok_cancel(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


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
        self.buttons = _ok_cancel(self)
        form = QFormLayout(self)
        form.addRow("format", self.format_box)
        form.addRow("dpi", self.dpi_spin)
        form.addRow("file", _path_row(self.path_edit, self._browse))
        form.addRow(self.buttons)
        self.format_box.currentTextChanged.connect(self._match_suffix)

    def _browse(self) -> str:
        return QFileDialog.getSaveFileName(self, "Export to", self.path_edit.text())[0]

    def _match_suffix(self, fmt: str) -> None:
        suffix = "png" if fmt == SNAPSHOT else fmt
        stem = self.path_edit.text().rsplit(".", 1)[0]
        self.path_edit.setText(f"{stem}.{suffix}")

    def choice(self) -> tuple[str, str, int]:
        return self.format_box.currentText(), self.path_edit.text(), self.dpi_spin.value()
