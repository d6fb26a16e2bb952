"""The Qt binding itself, where a fault of it would end a working session."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

pytestmark = pytest.mark.ui


def test_qt_calls_keep_none_alive(qtbot: QtBot) -> None:
    """PySide6 6.12.0 on Python 3.11 took one reference of `None` away at every call of a
    Qt method that returns nothing; a day of use ends in "Fatal Python error:
    none_dealloc". (Python 3.12 and later make None immortal, which hides it.)"""
    label = QLabel()
    qtbot.addWidget(label)
    timer = QTimer()
    calls = 300  # few: with the fault, thousands end the process itself
    before = sys.getrefcount(None)
    for number in range(calls):
        timer.setInterval(number % 7)
        label.setText("x")
    lost = before - sys.getrefcount(None)
    assert lost < calls // 10, f"{lost} references of None lost in {2 * calls} calls"
