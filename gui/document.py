"""The open session as the views see it: results, jobs, and one shared selection. Qt-free.

Panes never call each other; they observe this document (STYLE.md, glue/napari). All
changes happen on the GUI thread; listeners are plain callables `(event, payload)`.
Events: "results" (list changed), "models" (a trained model joined the session's models),
"selection" (dict of changed fields), "jobs" (job id),
"run" (an AnalysisRequest a pane asks for: the main window submits it to the engine thread,
the one path every job takes, so no pane holds the window or the engine).
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Callable

from engine.results import ResultRecord
from engine.session import ResultEntry, Session

if TYPE_CHECKING:  # a type name only: the document never runs anything
    from engine.analysis import AnalysisRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Selection:
    """What the user points at; every pane reads the fields it understands."""

    result: str | None = None  # result id
    layer: str | None = None
    filter: int | None = None
    sample: int | None = None
    points: tuple = ()


@dataclass
class JobInfo:
    id: str
    description: str
    key: str                    # requests with equal keys supersede each other
    status: str = "queued"      # queued, running, done, failed, cancelled, superseded
    fraction: float = 0.0
    message: str = ""
    reason: str = ""


@dataclass
class Document:
    session: Session
    selection: Selection = field(default_factory=Selection)
    jobs: dict = field(default_factory=dict)
    _records: dict = field(default_factory=dict)
    _listeners: list = field(default_factory=list)

    def subscribe(self, listener: Callable[[str, object], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, event: str, payload=None) -> None:
        for listener in list(self._listeners):
            listener(event, payload)

    # selection -----------------------------------------------------------------------
    def select(self, **changes) -> None:
        valid = {f.name for f in fields(Selection)}
        unknown = set(changes) - valid
        if unknown:
            raise KeyError(f"unknown selection fields: {', '.join(sorted(unknown))}")
        changed = {k: v for k, v in changes.items() if getattr(self.selection, k) != v}
        if changed:
            self.selection = replace(self.selection, **changed)
            self.remember_layout(selection=asdict(self.selection))
            self._emit("selection", changed)

    def remember_layout(self, **values) -> None:
        """Store view choices (current pane, selection) in the session, saved at once."""
        if any(self.session.layout.get(k) != v for k, v in values.items()):
            self.session.layout.update(values)
            self.session.save()

    # results -------------------------------------------------------------------------
    def record(self, result_id: str) -> ResultRecord:
        """The record of a result, read from the session folder once."""
        if result_id not in self._records:
            self._records[result_id] = self.session.load(result_id)
        return self._records[result_id]

    def result_id(self, record: ResultRecord) -> str | None:
        """The id of a record this document holds (None for one it never loaded or added)."""
        return next((i for i, r in self._records.items() if r is record), None)

    def add_saved_result(self, entry: ResultEntry, record: ResultRecord) -> None:
        """A finished job's result, already saved in the session folder by the engine thread."""
        self._records[entry.id] = record
        self.session.results.append(entry)
        self.session.remember(models=[record.model], data=[record.data])
        self.session.save()
        self._emit("results")

    # jobs ----------------------------------------------------------------------------
    def request_run(self, request: AnalysisRequest) -> None:
        """A pane asks for a job; whoever runs jobs (the main window) listens for "run"."""
        self._emit("run", request)

    def job_submitted(self, job_id: str, description: str, key: str) -> None:
        self.jobs[job_id] = JobInfo(job_id, description, key)
        self._emit("jobs", job_id)

    def job_progress(self, job_id: str, fraction: float, message: str) -> None:
        job = self.jobs[job_id]
        job.status, job.fraction, job.message = "running", fraction, message
        self._emit("jobs", job_id)

    def job_published(self, job_id: str, name: str, value) -> None:
        """A running job's partial result (Progress.publish), announced to the panes."""
        self._emit("job_partial", (job_id, name, value))

    def is_superseded(self, job_id: str) -> bool:
        """A newer job with the same request key was submitted after this one."""
        ids = list(self.jobs)
        key = self.jobs[job_id].key
        return any(self.jobs[j].key == key for j in ids[ids.index(job_id) + 1:])

    def job_finished(self, job_id: str, entry: ResultEntry, record: ResultRecord) -> bool:
        """Adds and selects the result unless a newer request superseded it; True if added."""
        job = self.jobs[job_id]
        if self.is_superseded(job_id):
            job.status, job.message = "superseded", "a newer run of the same request replaced it"
            log.info("dropped the result of superseded job %s", job_id)
            self._emit("jobs", job_id)
            return False
        self._job_done(job_id)
        self.add_saved_result(entry, record)
        self.select(result=entry.id)
        return True

    def job_trained(self, job_id: str, model_spec: str) -> None:
        """A finished training: its model joins the session's models (the run form offers it)."""
        self._job_done(job_id)
        self.session.remember(models=[model_spec])
        self._emit("models")

    def _job_done(self, job_id: str) -> None:
        job = self.jobs[job_id]
        job.status, job.fraction, job.message = "done", 1.0, "done"
        self._emit("jobs", job_id)

    def job_ended(self, job_id: str, status: str, reason: str, method: str, model: str, data: str) -> None:
        """A failed or cancelled job: kept in the session with its reason."""
        job = self.jobs[job_id]
        job.status, job.reason, job.message = status, reason, reason
        self.session.add_unfinished(method, model, data, status, reason)
        self._emit("jobs", job_id)
        self._emit("results")
