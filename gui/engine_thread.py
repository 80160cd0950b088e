"""The one engine thread: a worker QObject on a QThread that runs every torch job.

Requests are queued to the worker by a signal; results come back by signals carrying
the job id. `cancel()` sets a `threading.Event` from the GUI thread, because a queued
slot would never run while the worker is busy (STYLE.md). Nothing else calls torch.
"""
from __future__ import annotations

import itertools
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.analysis import AnalysisRequest, ModelCache, execute
from engine.jobs import CancelToken, Progress, run_job
from engine.session import Session
from engine.training_job import TrainRequest, execute_training

PROGRESS_INTERVAL_S = 0.05  # at most 20 progress signals a second per job
_GUI_THREAD_GC = []  # the one collector of the process, kept alive here


def collect_garbage_on_gui_thread() -> None:
    """Python's cyclic GC may run in whatever thread allocates; if the engine thread collects
    dead Qt widgets, Qt crashes (seen: a segfault "Garbage-collecting" inside a model load).
    pyqtgraph's collector disables automatic GC and collects on a GUI-thread timer instead."""
    if not _GUI_THREAD_GC:
        from pyqtgraph.util.garbage_collector import GarbageCollector  # noqa: PLC0415

        _GUI_THREAD_GC.append(GarbageCollector(interval=0.5))


class _Worker(QObject):
    started = Signal(str)
    progressed = Signal(str, float, str)
    published = Signal(str, str, object)     # job id, name, a partial result (Progress.publish)
    finished = Signal(str, object, object)   # job id, ResultEntry, ResultRecord
    trained = Signal(str, object)            # job id, TrainedModel (a TrainRequest's job)
    failed = Signal(str, str, bool)          # job id, reason, bad input
    cancelled = Signal(str)

    def __init__(self, tokens: dict) -> None:
        super().__init__()
        self._tokens = tokens
        self._cache = ModelCache()

    @Slot(str, object, object)
    def run(self, job_id: str, request: AnalysisRequest | TrainRequest, session: Session) -> None:
        token = self._tokens[job_id]
        if token.cancelled:  # cancelled while still queued
            self.cancelled.emit(job_id)
            return
        self.started.emit(job_id)
        progress = Progress(self._throttled(job_id), token,
                            on_publish=lambda name, value: self.published.emit(job_id, name, value))
        outcome = run_job(lambda p: self._work(request, session, p), progress)
        if outcome.ok and isinstance(request, TrainRequest):
            self.trained.emit(job_id, outcome.value)
        elif outcome.ok:
            self.finished.emit(job_id, *outcome.value)
        elif outcome.status == "cancelled":
            self.cancelled.emit(job_id)
        else:
            self.failed.emit(job_id, outcome.reason, outcome.bad_input)

    def _work(self, request, session: Session, progress: Progress):
        """A training writes its model folder; an analysis its result into the session."""
        if isinstance(request, TrainRequest):
            return execute_training(request, progress)
        record = execute(request, progress, self._cache)
        return session.write_result(record), record

    def _throttled(self, job_id: str):
        last = [0.0]

        def report(fraction: float, message: str) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_INTERVAL_S or fraction >= 1.0:
                last[0] = now
                self.progressed.emit(job_id, fraction, message)
        return report


class EngineThread(QObject):
    """GUI-side handle: `submit` a request, `cancel` a job, observe the job signals."""

    job_started = Signal(str)
    job_progress = Signal(str, float, str)
    job_published = Signal(str, str, object)
    job_finished = Signal(str, object, object)
    job_trained = Signal(str, object)
    job_failed = Signal(str, str, bool)
    job_cancelled = Signal(str)
    _queue = Signal(str, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        collect_garbage_on_gui_thread()
        self._tokens: dict[str, CancelToken] = {}
        self._ids = itertools.count(1)
        self._thread = QThread()
        self._thread.setObjectName("deepscope-engine")
        self._worker = _Worker(self._tokens)
        self._worker.moveToThread(self._thread)
        self._queue.connect(self._worker.run)
        for source, target in ((self._worker.started, self.job_started),
                               (self._worker.progressed, self.job_progress),
                               (self._worker.published, self.job_published),
                               (self._worker.finished, self.job_finished),
                               (self._worker.trained, self.job_trained),
                               (self._worker.failed, self.job_failed),
                               (self._worker.cancelled, self.job_cancelled)):
            source.connect(target)
        self._thread.start()

    def submit(self, request: AnalysisRequest | TrainRequest, session: Session) -> str:
        job_id = f"job-{next(self._ids)}"
        self._tokens[job_id] = CancelToken()
        self._queue.emit(job_id, request, session)
        return job_id

    def cancel(self, job_id: str) -> None:
        if job_id in self._tokens:
            self._tokens[job_id].cancel()

    def shutdown(self, wait_ms: int = 5000) -> None:
        """Cancel every job and stop the thread (on window close)."""
        for token in self._tokens.values():
            token.cancel()
        self._thread.quit()
        self._thread.wait(wait_ms)
