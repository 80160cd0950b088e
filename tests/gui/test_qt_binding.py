"""The Qt binding itself: a PySide6 that loses references to None kills the app (issue found in 6.12.0)."""
from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel, QTableWidgetItem


def test_void_qt_calls_keep_the_reference_count_of_none(qtbot):
    """PySide6 6.12.0 on Python 3.11 decrements None's count on every call that returns
    nothing; after some 75 000 of them the interpreter aborts ("deallocating None")."""
    label, item = QLabel(), QTableWidgetItem("x")
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("a")
        item.setText("b")
        item.data(33)  # an unset role: returns None
    assert sys.getrefcount(None) - before > -10
