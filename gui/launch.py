"""Starting the window: on a session, with the demo analysis when the session is empty."""
from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from engine.analysis import AnalysisRequest
from engine.errors import BadInput
from engine.models import RESOURCES
from gui.main_window import MainWindow
from gui.panes import PANES

ICON = RESOURCES / "icons" / "deepscope.png"  # drawn by packaging/make_icon.py

DEMO_REQUEST = AnalysisRequest("activations", "demo:partworld-cnn", "demo:partworld?n=64&seed=1",
                               ["conv4", "conv5"])
# what `screenshot --pane NAME` runs first when the session has no result that pane shows
PANE_DEMOS = {"graph_browser": AnalysisRequest("explanatory-graph", "demo:partworld-cnn", "demo:partworld?n=40&seed=1",
                                               ["conv4", "conv5"], {"iterations": "3"}),
              "training_dashboard": AnalysisRequest("interpretable-training", "demo:partworld-icnn",
                                                    "demo:partworld?n=40&seed=1"),
              "part_metrics": AnalysisRequest("location-instability", "demo:partworld-icnn", "demo:partworld?n=40&seed=2",
                                              model2="demo:partworld-cnn6")}


def leave(code: int) -> None:
    """Exit with `code`, skipping interpreter teardown: PySide6 with pyqtgraph on Linux can
    segfault while destroying Qt objects at exit (pyqtgraph #2520, PYSIDE-2254), which would
    turn a clean close into a crash. The session is already on disk (saved after every change)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DeepScope")
    app.setWindowIcon(QIcon(str(ICON)))
    return app


def make_window(session_dir: str, create: bool = True) -> MainWindow:
    """The window on a session; an empty session starts the demo analysis (a job)."""
    if not create and not (Path(session_dir) / "session.json").exists():
        raise BadInput(f"{session_dir} is not a session folder (no session.json)")
    window = MainWindow(session_dir)
    if not window.document.session.results:
        window.run(DEMO_REQUEST)
    return window


def settle_heap() -> None:
    """Move what start-up made (torch, Qt, the panes: about half a million objects) out of the
    collector's reach. Automatic collection is off (the GUI thread collects, see
    engine_thread.collect_garbage_on_gui_thread), and a full collection walked all of it: about
    0.28 s on the GUI thread each time (tests/bench/gui_heap.py). What is frozen lives as long as
    the program anyway."""
    gc.collect()
    gc.freeze()


def has_screen() -> bool:
    """A display to open a window on (or a platform plugin chosen on purpose)."""
    return any(os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def run_gui(session_dir: str, create: bool = True) -> int:
    if not create and not (Path(session_dir) / "session.json").exists():
        print(f"deepscope: {session_dir} is not a session folder (no session.json)", file=sys.stderr)
        return 2
    if not has_screen():
        print("deepscope: no display here; `deepscope screenshot --out FILE.png` renders the window "
              "without one (or run under xvfb-run)", file=sys.stderr)
        return 2
    app = application()
    try:
        window = make_window(session_dir, create)
    except BadInput as exc:
        print(f"deepscope: {exc}", file=sys.stderr)
        return 2
    window.show()
    settle_heap()
    return app.exec()


def wait_for_jobs(window: MainWindow, timeout_s: float = 600) -> None:
    """Run the event loop until no job is queued or running (or the timeout)."""
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: None if _busy(window) else loop.quit())
    timer.start(100)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    timer.stop()


def _busy(window: MainWindow) -> bool:
    return any(j.status in ("queued", "running") for j in window.document.jobs.values())


def show_pane(window: MainWindow, pane: str) -> None:
    """The pane in front, on the newest result it can show (its demo run first if there is none)."""
    kinds = PANES[pane].kinds
    if not _newest_of(window, kinds) and pane in PANE_DEMOS:
        window.run(PANE_DEMOS[pane])
        wait_for_jobs(window)
    newest = _newest_of(window, kinds)
    if newest:
        window.document.select(result=newest)
    window.tabs.setCurrentWidget(window.panes[pane])


def _newest_of(window: MainWindow, kinds: tuple) -> str | None:
    done = [e for e in window.document.session.results if e.status == "done" and e.kind in kinds]
    return max(done, key=lambda e: e.created).id if done else None


def screenshot(session_dir: str, out: str, pane: str = "") -> int:
    """Render the window (after its jobs finish) to a PNG; exit code as the CLI's."""
    if not has_screen():  # the 2D panes render offscreen; no display is needed for a picture
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = application()
    if pane and pane not in PANES:
        print(f"deepscope screenshot: unknown pane {pane!r}; valid: {', '.join(PANES)}", file=sys.stderr)
        return 2
    try:
        window = make_window(session_dir)
    except BadInput as exc:
        print(f"deepscope screenshot: {exc}", file=sys.stderr)
        return 2
    window.show()
    wait_for_jobs(window)
    if pane:
        show_pane(window, pane)
    for _ in range(5):
        app.processEvents()
    ok = window.grab().save(out, "PNG")
    window.close()
    if not ok:
        print(f"deepscope screenshot: cannot write {out}", file=sys.stderr)
        return 2
    return 0
