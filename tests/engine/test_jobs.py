"""Progress (monotone, child spans, cancellation point) and run_job's three outcomes."""
from __future__ import annotations

import pytest

from engine.errors import BadInput
from engine.jobs import CancelToken, Cancelled, JobOutcome, Progress, one_line, run_job


def recording_progress(token: CancelToken | None = None):
    reports: list[tuple[float, str]] = []
    return Progress(lambda f, m: reports.append((f, m)), token), reports


def test_step_reports_fraction_of_total_with_message():
    progress, reports = recording_progress()
    progress.step(1, 4, "a quarter")
    progress.step(3, 4)
    assert reports == [(0.25, "a quarter"), (0.75, "a quarter")]  # an empty message keeps the last
    assert progress.fraction == 0.75


def test_child_spans_map_onto_the_parent_and_nest():
    progress, reports = recording_progress()
    child = progress.child(0.5, 1.0)
    child.step(0.5, 1.0, "child")                 # 0.5 + 0.5 * 0.5
    grandchild = child.child(0.0, 0.5)            # span (0.5, 0.75)
    grandchild.step(1, 1, "grandchild")
    child.child(0.5, 1.0).step(1, 2)              # span (0.75, 1.0), half of it
    assert [f for f, _ in reports] == [0.75, 0.75, 0.875]
    assert progress.fraction == 0.875 and child.fraction == 0.0  # the root holds the state


def test_a_partial_result_published_anywhere_reaches_the_watcher_of_the_job():
    published = []
    progress = Progress(on_publish=lambda name, value: published.append((name, value)))
    progress.child(0.2, 0.4).child(0.0, 0.5).publish("rows", [1, 2])
    progress.publish("rows", [1, 2, 3])
    assert published == [("rows", [1, 2]), ("rows", [1, 2, 3])]
    assert progress.fraction == 0.0   # publishing is not progress
    Progress().child(0.0, 1.0).publish("rows", [1])   # nobody watching: nothing happens


def test_a_later_smaller_report_never_moves_progress_back():
    progress, reports = recording_progress()
    progress.child(0.0, 1.0).step(0.8, 1.0, "late phase")
    progress.step(0.2, 1.0, "early phase")
    progress.child(0.0, 0.5).step(1, 1)
    fractions = [f for f, _ in reports]
    assert fractions == [0.8, 0.8, 0.8]
    assert reports[1][1] == "early phase"  # the message still updates


def test_out_of_range_and_zero_totals_are_clamped():
    progress, reports = recording_progress()
    progress.step(-3, 10)
    progress.step(0, 0)      # nothing to do is all done
    progress.step(50, 10)
    assert [f for f, _ in reports] == [0.0, 1.0, 1.0]


def test_step_and_check_raise_cancelled_once_the_token_is_set():
    token = CancelToken()
    progress, reports = recording_progress(token)
    child = progress.child(0.2, 0.4)
    progress.step(1, 10)
    progress.check()
    token.cancel()
    assert token.cancelled
    with pytest.raises(Cancelled):
        progress.step(2, 10)
    with pytest.raises(Cancelled):
        child.step(0.5)      # children share the token
    with pytest.raises(Cancelled):
        progress.check()
    assert reports == [(0.1, "")]  # nothing is reported after the cancel


def test_run_job_done_returns_the_value_and_ends_at_one():
    progress, reports = recording_progress()
    outcome = run_job(lambda p: (p.step(1, 2, "half"), 42)[1], progress)
    assert outcome == JobOutcome("done", value=42)
    assert outcome.ok and not outcome.bad_input
    assert reports == [(0.5, "half"), (1.0, "done")]


def test_run_job_failed_has_a_one_line_reason_with_the_type():
    def work(_):
        raise RuntimeError("out of memory\nsecond line of a long story")

    outcome = run_job(work, Progress())
    assert (outcome.status, outcome.reason, outcome.bad_input) == \
        ("failed", "RuntimeError: out of memory", False)
    assert not outcome.ok


def test_run_job_bad_input_sets_bad_input_and_keeps_only_the_message():
    def work(_):
        raise BadInput("unknown layer conv9; valid layers: conv1, conv2\n(details)")

    outcome = run_job(work, Progress())
    assert (outcome.status, outcome.reason, outcome.bad_input) == \
        ("failed", "unknown layer conv9; valid layers: conv1, conv2", True)


def test_run_job_cancelled_midway():
    token = CancelToken()
    progress, reports = recording_progress(token)
    steps = []

    def work(p):
        for i in range(10):
            p.step(i, 10)
            steps.append(i)
            if i == 2:
                token.cancel()
        return "never"

    outcome = run_job(work, progress)
    assert (outcome.status, outcome.reason, outcome.value) == ("cancelled", "cancelled by the user", None)
    assert steps == [0, 1, 2]
    assert reports[-1][0] == 0.2  # the bar is not moved to 1 for a cancelled job


def test_cancel_arriving_as_the_work_ends_is_an_outcome_not_an_exception():
    token = CancelToken()

    def work(_):
        token.cancel()  # the user pressed Cancel just after the last step
        return "finished"

    outcome = run_job(work, Progress(token=token))
    assert outcome.status == "cancelled"


def test_one_line_of_exceptions_without_message():
    assert one_line(KeyError()) == "KeyError"
    assert one_line(BadInput("")) == "BadInput"
    assert one_line(ValueError("\n  x\ny")) == "ValueError: x"  # first non-blank line
    assert one_line(ZeroDivisionError("division by zero")) == "ZeroDivisionError: division by zero"
