"""The main window's docks: the session tree, the jobs list (progress, Cancel), the log."""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

RESULT_ROLE = Qt.UserRole


class SessionTree(QTreeWidget):
    """Models, data and results of the session; clicking a result selects it."""

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setHeaderHidden(True)
        self.itemClicked.connect(self._on_clicked)
        document.subscribe(self._on_document)
        self.refresh()

    def refresh(self) -> None:
        self.clear()
        session = self.document.session
        for title, specs in (("Models", session.models), ("Data", session.data)):
            branch = QTreeWidgetItem(self, [title])
            for spec in specs:
                QTreeWidgetItem(branch, [spec])
        results = QTreeWidgetItem(self, ["Results"])
        for entry in session.results:
            item = QTreeWidgetItem(results, [self._label(entry)])
            item.setData(0, RESULT_ROLE, entry.id if entry.status == "done" else None)
            item.setToolTip(0, entry.reason or f"{entry.model} · {entry.data}")
        self.expandAll()

    @staticmethod
    def _label(entry) -> str:
        state = "" if entry.status == "done" else f" [{entry.status}: {entry.reason}]"
        return f"{entry.method} · {entry.data}{state}"

    def result_items(self) -> list[QTreeWidgetItem]:
        results = self.topLevelItem(2)
        return [results.child(i) for i in range(results.childCount())]

    def _on_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        result_id = item.data(0, RESULT_ROLE)
        if result_id:
            self.document.select(result=result_id)

    def _on_document(self, event: str, _payload) -> None:
        if event in ("results", "models"):
            self.refresh()


class JobRow(QWidget):
    def __init__(self, job, on_cancel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_id = job.id
        self.label = QLabel(job.description)
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: on_cancel(self.job_id))
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.label)
        layout.addLayout(row)

    def update_from(self, job) -> None:
        self.bar.setValue(int(job.fraction * 1000))
        detail = job.message if job.message and job.message != job.status else ""
        self.bar.setFormat(f"{job.status} · {detail}" if detail else job.status)
        active = job.status in ("queued", "running")
        self.cancel_button.setEnabled(active)
        if not active:
            self.label.setToolTip(job.reason)


class JobsPanel(QWidget):
    """One row a job, newest at the bottom; Cancel asks the engine thread to stop it."""

    def __init__(self, document, on_cancel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.on_cancel = on_cancel
        self.rows: dict[str, JobRow] = {}
        self.layout_ = QVBoxLayout(self)
        self.layout_.addStretch(1)
        document.subscribe(self._on_document)

    def _on_document(self, event: str, job_id) -> None:
        if event != "jobs":
            return
        job = self.document.jobs[job_id]
        if job_id not in self.rows:
            self.rows[job_id] = JobRow(job, self.on_cancel)
            self.layout_.insertWidget(self.layout_.count() - 1, self.rows[job_id])
        self.rows[job_id].update_from(job)


class _LogBridge(QObject):
    """Carries log lines from any thread to the GUI thread (a queued signal)."""

    line = Signal(str)


class LogPanel(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(5000)
        self.bridge = _LogBridge()
        self.bridge.line.connect(self.append_line)
        self.handler = _SignalHandler(self.bridge)
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))

    @Slot(str)
    def append_line(self, text: str) -> None:
        self.appendPlainText(text)


class _SignalHandler(logging.Handler):
    def __init__(self, bridge: _LogBridge) -> None:
        super().__init__(logging.INFO)
        self.bridge = bridge

    def emit(self, record: logging.LogRecord) -> None:
        self.bridge.line.emit(self.format(record))
