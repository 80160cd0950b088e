"""Helpers the GUI tests share: small requests, waiting for jobs, clicking image cells."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from engine.analysis import AnalysisRequest


def small_request(n: int = 12, **kw) -> AnalysisRequest:
    """Activations of the demo model on a few PartWorld images (fast on 2 cores)."""
    args = dict(method="activations", model="demo:partworld-cnn",
                data=f"demo:partworld?n={n}&seed=5", layers=["conv4", "conv5"])
    args.update(kw)
    return AnalysisRequest(**args)


def wait_job(qtbot, win, job_id: str, timeout_ms: int = 60000) -> None:
    qtbot.waitUntil(lambda: win.document.jobs[job_id].status not in ("queued", "running"),
                    timeout=timeout_ms)


def shown_in(qtbot, window, request, pane_name: str, kind: str, timeout_ms: int = 120000):
    """Run `request` in the window until done; the pane `pane_name`, current and showing the result."""
    job_id = window.run(request)
    wait_job(qtbot, window, job_id, timeout_ms=timeout_ms)
    assert window.document.jobs[job_id].status == "done", window.document.jobs[job_id].reason
    pane = window.panes[pane_name]
    assert window.current_pane() is pane and pane.record.kind == kind
    return pane


def click_view_point(qtbot, graphics_view, view_box, point) -> None:
    """A real mouse click on the widget pixel that shows `point` of `view_box`."""
    scene_point = view_box.mapViewToScene(point)
    widget_point = graphics_view.mapFromScene(scene_point)
    qtbot.mouseClick(graphics_view.viewport(), Qt.LeftButton, pos=QPoint(widget_point.x(), widget_point.y()))
