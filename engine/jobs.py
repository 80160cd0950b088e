"""Jobs: progress reporting, cancellation, and the failed/cancelled/done outcome.

One code path for the CLI (tqdm) and the GUI (Qt signals): long work receives a
`Progress`, and every `step()` both reports and is a cancellation point (STYLE.md).
"""
from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass
from typing import Callable

from engine.errors import BadInput

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised at a `Progress.step` once the job's token is set."""


class CancelToken:
    """Set from any thread (the GUI's Cancel button); read by the working thread."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


ProgressCallback = Callable[[float, str], None]


class Progress:
    """Fraction done in [0, 1] with a message; monotone; `step` raises `Cancelled`.

    `child(start, end)` maps a sub-task's own 0..1 onto [start, end] of this one, so a
    method can call a loader that reports its own progress.
    """

    def __init__(self, callback: ProgressCallback | None = None,
                 token: CancelToken | None = None,
                 span: tuple[float, float] = (0.0, 1.0),
                 _root: "Progress | None" = None,
                 on_publish: Callable[[str, object], None] | None = None) -> None:
        self._callback = callback
        self.token = token or CancelToken()
        self._span = span
        self._root = _root or self
        self._on_publish = on_publish
        self.fraction = 0.0
        self.message = ""

    def step(self, done: float, total: float = 1.0, message: str = "") -> None:
        """Report `done` of `total`; raise `Cancelled` if the token is set."""
        if self.token.cancelled:
            raise Cancelled("cancelled")
        local = min(max(done / total if total else 1.0, 0.0), 1.0)
        start, end = self._span
        self._root._report(start + (end - start) * local, message)

    def check(self) -> None:
        """A cancellation point that reports nothing."""
        if self.token.cancelled:
            raise Cancelled("cancelled")

    def publish(self, name: str, value: object) -> None:
        """Hand a partial result to whoever watches the job (the GUI's live views, e.g. the
        EM monitor while mining); nothing happens without a watcher."""
        if self._root._on_publish is not None:
            self._root._on_publish(name, value)

    def child(self, start: float, end: float) -> "Progress":
        lo, hi = self._span
        span = (lo + (hi - lo) * start, lo + (hi - lo) * end)
        return Progress(self._callback, self.token, span, _root=self._root)

    def _report(self, fraction: float, message: str) -> None:
        if fraction < self.fraction:  # monotone: a later phase never moves the bar back
            fraction = self.fraction
        self.fraction = fraction
        self.message = message or self.message
        if self._callback is not None:
            self._callback(self.fraction, self.message)


@dataclass
class JobOutcome:
    """What became of a job. status: "done", "failed" or "cancelled"."""

    status: str
    value: object = None
    reason: str = ""
    bad_input: bool = False  # failed because of what the user gave (CLI exit 2)

    @property
    def ok(self) -> bool:
        return self.status == "done"


def one_line(exc: BaseException) -> str:
    """A one-line reason: the message's first line, with the type when it says nothing."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(exc, BadInput):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def run_job(work: Callable[[Progress], object], progress: Progress) -> JobOutcome:
    """Run `work(progress)` and turn every way it can end into a `JobOutcome`."""
    try:
        value = work(progress)
        progress.step(1.0, 1.0, "done")  # inside: a Cancel that lands as the work ends still counts
    except Cancelled:
        return JobOutcome("cancelled", reason="cancelled by the user")
    except BadInput as exc:
        return JobOutcome("failed", reason=one_line(exc), bad_input=True)
    except Exception as exc:  # a job that raises must never take the app down
        log.debug("job failed:\n%s", traceback.format_exc())
        return JobOutcome("failed", reason=one_line(exc))
    return JobOutcome("done", value=value)
