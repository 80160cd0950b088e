"""How long the GUI thread's event loop goes without turning: the gaps between a 10 ms timer's
ticks. The window-stall test and the graph pane's benchmark read the longest; `pump` turns the
event loop for a while, as a benchmark's script has no loop of its own."""
from __future__ import annotations

import time

from PySide6.QtCore import QElapsedTimer, QObject, QTimer

TICK_MS = 10


class EventLoopGaps(QObject):
    """`start()`, let the event loop run, `clear()` what came before the part to measure, `stop()`;
    `gaps` are the milliseconds between ticks."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.gaps: list[int] = []
        self._clock = QElapsedTimer()
        self._last = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._clock.start()
        self._last = self._clock.elapsed()
        self._timer.start(TICK_MS)

    def clear(self) -> None:
        self.gaps.clear()

    def stop(self) -> None:
        self._timer.stop()

    def longest(self) -> int:
        return max(self.gaps)

    def _tick(self) -> None:
        now = self._clock.elapsed()
        self.gaps.append(now - self._last)
        self._last = now


def pump(app, seconds: float) -> None:
    """Process the application's events for `seconds` (every 5 ms)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)
