"""Starting the window (gui/launch.py): the start-up heap is frozen before the event loop runs."""
from __future__ import annotations

import gc
from types import SimpleNamespace

from gui import launch


class Cycle:
    def __init__(self) -> None:
        self.me = self


# what these tests freeze stays frozen, as in the window-stall test: unfreezing would hand the
# suite's whole heap back to the GUI thread's collector for every later test


def test_settling_freezes_what_exists_and_still_collects_new_garbage():
    launch.settle_heap()
    assert gc.get_freeze_count() > 0 and len(gc.get_objects()) < gc.get_freeze_count()
    Cycle()  # garbage made after start-up is collected as before
    assert gc.collect() >= 1


def test_the_window_settles_the_heap_before_its_event_loop(monkeypatch, tmp_path):
    frozen_at_exec = []
    shown = SimpleNamespace(show=lambda: None)
    monkeypatch.setattr(launch, "application", lambda: SimpleNamespace(exec=lambda: frozen_at_exec.append(
        gc.get_freeze_count()) or 0))
    monkeypatch.setattr(launch, "make_window", lambda session_dir, create: shown)
    assert launch.run_gui(str(tmp_path / "session")) == 0
    assert frozen_at_exec and frozen_at_exec[0] > 0
