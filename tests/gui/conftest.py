"""GUI fixtures: the real main window on a session in a temporary folder."""
from __future__ import annotations

import gc

import pytest


@pytest.fixture
def window(qtbot, tmp_path):
    from gui.main_window import MainWindow  # noqa: PLC0415

    win = MainWindow(str(tmp_path / "session"))
    qtbot.addWidget(win)
    win.resize(1280, 860)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    gc.collect()  # here, on the GUI thread: never leave dead widgets for another thread to collect
