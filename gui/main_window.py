"""The main window: session tree, jobs and log docks; panes as tabs; run and export.

It wires three things together and computes nothing itself: the document (what is
open and selected), the engine thread (where jobs run), and the panes (what is shown).
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QTabWidget

from engine.analysis import AnalysisRequest
from engine.errors import BadInput
from engine.export import export_record
from engine.session import open_session
from engine.training_job import TrainRequest
from gui.dialogs import SNAPSHOT, ExportDialog, RunDialog, TrainDialog
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
        self.requests: dict[str, AnalysisRequest | TrainRequest] = {}
        self.asked_by: dict = {}  # job id → the pane that asked for it, kept in front when it is done
        self.log_panel = LogPanel()
        logging.getLogger().addHandler(self.log_panel.handler)
        logging.getLogger().setLevel(logging.INFO)
        self.tabs = QTabWidget()
        self.setCentralWidget(self.tabs)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self._connect_engine()
        self._build_actions()
        self.open(session_dir)

    # session ---------------------------------------------------------------------------
    def open(self, session_dir: str) -> None:
        """Show a session: every pane and dock is rebuilt around its document."""
        self.document = Document(open_session(session_dir))
        self.setWindowTitle(f"DeepScope — {session_dir}")
        self.panes = {name: cls(self.document) for name, cls in PANES.items()}
        self.tabs.blockSignals(True)  # rebuilding the tabs is not the user choosing one
        self.tabs.clear()
        for pane in self.panes.values():
            self.tabs.addTab(pane, pane.title)
        self.tabs.blockSignals(False)
        self._build_docks()
        self.document.subscribe(self._on_document)
        for warning in self.document.session.warnings:
            log.warning(warning)
            self.statusBar().showMessage(warning)
        self._restore_layout()

    def _restore_layout(self) -> None:
        """Reselect what was selected when the session was last saved (else the newest result)."""
        session = self.document.session
        saved = dict(session.layout.get("selection") or {})
        done = {e.id for e in session.results if e.status == "done"}
        if saved.get("result") not in done:
            saved = {"result": max(done, key=lambda i: session.entry(i).created)} if done else {}
        saved["points"] = tuple(saved.get("points", ()))
        if saved.get("result"):
            self.document.select(result=saved.pop("result"))
            self.document.select(**saved)
        pane = self.panes.get(session.layout.get("pane", ""))
        if pane is not None:
            self.tabs.setCurrentWidget(pane)

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
                                     ("Train…", self.ask_train, "Ctrl+T"),
                                     ("Export…", self.ask_export, "Ctrl+E"),
                                     ("Open session…", self.ask_open, "Ctrl+O")):
            action = QAction(text, self)
            action.setShortcut(shortcut)
            action.triggered.connect(slot)
            toolbar.addAction(action)

    # jobs ------------------------------------------------------------------------------
    def _connect_engine(self) -> None:
        self.engine.job_progress.connect(self._on_job_progress)
        self.engine.job_published.connect(self._on_job_published)
        self.engine.job_finished.connect(self._on_job_finished)
        self.engine.job_trained.connect(self._on_job_trained)
        self.engine.job_failed.connect(self._on_job_failed)
        self.engine.job_cancelled.connect(self._on_job_cancelled)

    def run(self, request: AnalysisRequest) -> str:
        key = f"{request.describe()} {request.layers} {sorted(request.settings.items())} {request.seed}"
        return self._submit(request, key)

    def train(self, request: TrainRequest) -> str:
        """A training job; once done its model is offered in the run form (the session's models)."""
        return self._submit(request, request.describe())

    def _submit(self, request, key: str) -> str:
        job_id = self.engine.submit(request, self.document.session)
        self.requests[job_id] = request
        self.document.job_submitted(job_id, request.describe(), key)
        log.info("%s: %s", job_id, request.describe())
        return job_id

    @Slot(str, float, str)
    def _on_job_progress(self, job_id: str, fraction: float, message: str) -> None:
        self.document.job_progress(job_id, fraction, message)

    @Slot(str, str, object)
    def _on_job_published(self, job_id: str, name: str, value) -> None:
        self.document.job_published(job_id, name, value)

    @Slot(str, object, object)
    def _on_job_finished(self, job_id: str, entry, record) -> None:
        asker = self.asked_by.pop(job_id, None)
        if self.document.job_finished(job_id, entry, record):
            log.info("%s done: %s", job_id, entry.id)
            if asker is not None:  # the pane draws the result itself (the graph its localisation)
                self.tabs.setCurrentWidget(asker)
                self.statusBar().showMessage(f"{entry.id} done; its own view is in the "
                                             f"{self.panes[pane_for_kind(record.kind)].title} tab")

    @Slot(str, object)
    def _on_job_trained(self, job_id: str, trained) -> None:
        self.document.job_trained(job_id, trained.spec)
        log.info("%s done: %s", job_id, trained.summary())
        self.statusBar().showMessage(f"trained {trained.summary()}")

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
        self.asked_by.pop(job_id, None)
        r = self.requests[job_id]
        method, model = ("train", r.arch) if isinstance(r, TrainRequest) else (r.method, r.model)
        self.document.job_ended(job_id, status, reason, method, model, r.data)

    # views -----------------------------------------------------------------------------
    def _on_document(self, event: str, payload) -> None:
        if event == "run":  # a pane's request (Document.request_run): the same path as the Run dialog's
            self.asked_by[self.run(payload)] = self.current_pane()
        elif event == "selection" and "result" in payload and payload["result"]:
            self.show_result(payload["result"])

    def show_result(self, result_id: str) -> None:
        record = self._record_or_none(result_id)
        if record is None:
            return
        pane = self.panes[pane_for_kind(record.kind)]
        pane.show_result(record)
        self.tabs.setCurrentWidget(pane)

    def _on_tab_changed(self, index: int) -> None:
        """Remember the pane, and let it show the selected result if it can."""
        names = list(self.panes)
        if not 0 <= index < len(names):
            return
        self.document.remember_layout(pane=names[index])
        pane, selected = self.panes[names[index]], self.document.selection.result
        record = self._record_or_none(selected) if selected else None
        if record is not None and record.kind in pane.kinds and pane.record is not record:
            pane.show_result(record)

    def _record_or_none(self, result_id: str):
        """The record, or None with a one-line message when its folder is damaged."""
        try:
            return self.document.record(result_id)
        except BadInput as exc:
            log.error("cannot open result %s: %s", result_id, exc)
            self.statusBar().showMessage(str(exc))
            return None

    def current_pane(self):
        return self.tabs.currentWidget()

    # actions ---------------------------------------------------------------------------
    def ask_run(self) -> None:
        dialog = RunDialog(self.document.session, self)
        if dialog.exec():
            self.run(dialog.request())

    def ask_train(self) -> None:
        dialog = TrainDialog(self.document.session, self)
        if dialog.exec():
            self.train(dialog.request())

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
            log.error("export failed: %s", exc)
            self.statusBar().showMessage(f"export failed: {exc}")
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
