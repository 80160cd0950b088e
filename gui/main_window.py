"""The main window: session tree, jobs and log docks; panes as tabs; run and export.

It wires three things together and computes nothing itself: the document (what is
open and selected), the engine thread (where jobs run), and the panes (what is shown).
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox, QTabWidget

from engine.analysis import AnalysisRequest
from engine.errors import BadInput
from engine.export import export_record
from engine.session import open_session
from gui.dialogs import SNAPSHOT, ExportDialog, RunDialog
from gui.docks import JobsPanel, LogPanel, SessionTree
from gui.document import Document
from gui.engine_thread import EngineThread
from gui.panes import PANES, pane_for_kind

log = logging.getLogger("deepscope")


class MainWindow(QMainWindow):
    def __init__(self, session_dir: str) -> None:
        super().__init__()
        self.resize(1280, 860)
        self.engine = EngineThread(self)
        self.requests: dict[str, AnalysisRequest] = {}
        self.log_panel = LogPanel()
        logging.getLogger().addHandler(self.log_panel.handler)
        logging.getLogger().setLevel(logging.INFO)
        self.tabs = QTabWidget()
        self.setCentralWidget(self.tabs)
        self._connect_engine()
        self._build_actions()
        self.open(session_dir)

    # session ---------------------------------------------------------------------------
    def open(self, session_dir: str) -> None:
        """Show a session: every pane and dock is rebuilt around its document."""
        self.document = Document(open_session(session_dir))
        self.setWindowTitle(f"DeepScope — {session_dir}")
        self.panes = {name: cls(self.document) for name, cls in PANES.items()}
        self.tabs.clear()
        for pane in self.panes.values():
            self.tabs.addTab(pane, pane.title)
        self._build_docks()
        self.document.subscribe(self._on_document)
        for warning in self.document.session.warnings:
            log.warning(warning)
            self.statusBar().showMessage(warning)
        done = [e for e in self.document.session.results if e.status == "done"]
        if done:
            self.document.select(result=done[-1].id)

    def _build_docks(self) -> None:
        for dock in self.findChildren(QDockWidget):
            self.removeDockWidget(dock)
            dock.deleteLater()
        self.session_tree = SessionTree(self.document)
        self.jobs_panel = JobsPanel(self.document, self.engine.cancel)
        for title, widget, area in (("Session", self.session_tree, Qt.LeftDockWidgetArea),
                                    ("Jobs", self.jobs_panel, Qt.LeftDockWidgetArea),
                                    ("Log", self.log_panel, Qt.BottomDockWidgetArea)):
            dock = QDockWidget(title, self)
            dock.setObjectName(title)
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
        self.resizeDocks([self.findChild(QDockWidget, "Log")], [140], Qt.Vertical)

    def _build_actions(self) -> None:
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        for text, slot, shortcut in (("Run analysis…", self.ask_run, "Ctrl+R"),
                                     ("Export…", self.ask_export, "Ctrl+E"),
                                     ("Open session…", self.ask_open, "Ctrl+O")):
            action = QAction(text, self)
            action.setShortcut(shortcut)
            action.triggered.connect(slot)
            toolbar.addAction(action)

    # jobs ------------------------------------------------------------------------------
    def _connect_engine(self) -> None:
        self.engine.job_progress.connect(self._on_job_progress)
        self.engine.job_finished.connect(self._on_job_finished)
        self.engine.job_failed.connect(self._on_job_failed)
        self.engine.job_cancelled.connect(self._on_job_cancelled)

    def run(self, request: AnalysisRequest) -> str:
        job_id = self.engine.submit(request, self.document.session)
        self.requests[job_id] = request
        key = f"{request.describe()} {request.layers} {sorted(request.settings.items())} {request.seed}"
        self.document.job_submitted(job_id, request.describe(), key)
        log.info("%s: %s", job_id, request.describe())
        return job_id

    @Slot(str, float, str)
    def _on_job_progress(self, job_id: str, fraction: float, message: str) -> None:
        self.document.job_progress(job_id, fraction, message)

    @Slot(str, object, object)
    def _on_job_finished(self, job_id: str, entry, record) -> None:
        if self.document.job_finished(job_id, entry, record):
            log.info("%s done: %s", job_id, entry.id)

    @Slot(str, str, bool)
    def _on_job_failed(self, job_id: str, reason: str, _bad_input: bool) -> None:
        self._end_job(job_id, "failed", reason)
        log.error("%s failed: %s", job_id, reason)
        self.statusBar().showMessage(f"{job_id} failed: {reason}")

    @Slot(str)
    def _on_job_cancelled(self, job_id: str) -> None:
        self._end_job(job_id, "cancelled", "cancelled by the user")
        log.info("%s cancelled", job_id)

    def _end_job(self, job_id: str, status: str, reason: str) -> None:
        r = self.requests[job_id]
        self.document.job_ended(job_id, status, reason, r.method, r.model, r.data)

    # views -----------------------------------------------------------------------------
    def _on_document(self, event: str, payload) -> None:
        if event == "selection" and "result" in payload and payload["result"]:
            self.show_result(payload["result"])

    def show_result(self, result_id: str) -> None:
        try:
            record = self.document.record(result_id)
        except BadInput as exc:
            log.error("cannot open result %s: %s", result_id, exc)
            self.statusBar().showMessage(str(exc))
            return
        pane = self.panes[pane_for_kind(record.kind)]
        pane.show_result(record)
        self.tabs.setCurrentWidget(pane)

    def current_pane(self):
        return self.tabs.currentWidget()

    # actions ---------------------------------------------------------------------------
    def ask_run(self) -> None:
        dialog = RunDialog(self.document.session, self)
        if dialog.exec():
            self.run(dialog.request())

    def ask_export(self) -> None:
        pane = self.current_pane()
        if pane is None or pane.record is None:
            self.statusBar().showMessage("Nothing to export: select a result first.")
            return
        default = str(Path.home() / f"{pane.record.method}.png")
        dialog = ExportDialog(default, self)
        if dialog.exec():
            self.export(*dialog.choice())

    def export(self, fmt: str, path: str, dpi: int) -> bool:
        """Write the current pane's figure, numbers or snapshot; False (and a message) if not."""
        pane = self.current_pane()
        try:
            if fmt == SNAPSHOT:
                if not pane.grab().save(path, "PNG"):
                    raise BadInput(f"cannot write {path}")
            else:
                export_record(pane.record, fmt, path, dpi, **pane.figure_options())
        except BadInput as exc:
            QMessageBox.warning(self, "Export failed", str(exc))
            return False
        self.statusBar().showMessage(f"exported {path}")
        return True

    def ask_open(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a session folder")
        if folder:
            self.open(folder)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.engine.shutdown()
        logging.getLogger().removeHandler(self.log_panel.handler)
        super().closeEvent(event)
