"""The README's keyboard section, performed: a new patient with two chemotherapy cycles and
two scans, entered with key events only — no mouse click, no method called on a widget.
Every key goes to the widget that has the focus, as a keyboard would send it; the test
counts the keys (a chord such as Ctrl+N is one key) and the README states that count."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN

pytestmark = [pytest.mark.ui, pytest.mark.db]

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
TAB, ENTER = Qt.Key.Key_Tab, Qt.Key.Key_Return

# The README's sequence, step by step: a key (with its modifiers) or a text typed.
FLOW: list[Any] = [
    # New case: MRN, family name, given name; Enter saves and opens the new case
    (Qt.Key.Key_N, CTRL),
    "KB-0001",
    TAB,
    "Keyboard",
    TAB,
    "Kim",
    ENTER,
    # scan 1 (baseline): Ctrl+Alt+I, the date (never assumed to be today), CT, Enter
    (Qt.Key.Key_I, CTRL | ALT),
    "2026-09-01",
    TAB,
    "c",
    ENTER,
    # cycle 1: Ctrl+Alt+C, the date, FOLFOX, neoadjuvant, Enter
    (Qt.Key.Key_C, CTRL | ALT),
    "2026-09-14",
    TAB,
    "f",
    TAB,
    TAB,
    TAB,
    TAB,
    "n",
    ENTER,
    # cycle 2: Ctrl+Alt+C copies cycle 1 a cycle length later; Ctrl+Enter confirms the
    # copied values, Enter saves
    (Qt.Key.Key_C, CTRL | ALT),
    (Qt.Key.Key_Return, CTRL),
    ENTER,
    # scan 2 (restaging): Ctrl+Alt+I, the date, Tab to the modality copied from scan 1,
    # Ctrl+Enter confirms it, Enter saves
    (Qt.Key.Key_I, CTRL | ALT),
    "2026-10-20",
    TAB,
    (Qt.Key.Key_Return, CTRL),
    ENTER,
]


def key_count(flow: list[Any]) -> int:
    return sum(len(step) if isinstance(step, str) else 1 for step in flow)


@pytest.fixture
def window(qtbot: QtBot, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.show()
    shown.activateWindow()
    qtbot.waitUntil(shown.isActiveWindow)
    yield shown


def test_new_patient_with_two_cycles_and_two_scans_by_keyboard(
    window: MainWindow, qtbot: QtBot
) -> None:
    steps = list(FLOW)
    sent: list[str] = []

    def press_next() -> None:
        if not steps:
            sent.append("done")
            return
        if QApplication.activeWindow() is None:
            # offscreen, a closed dialog leaves no window active; a window manager gives
            # the activation back to the main window (this is not a user action)
            window.activateWindow()
            QTimer.singleShot(10, press_next)
            return
        target = QApplication.focusWidget() or QApplication.activeWindow()
        modal = QApplication.activeModalWidget()
        if modal is not None and not (target is modal or modal.isAncestorOf(target)):
            QTimer.singleShot(10, press_next)  # the dialog is opening: its focus next
            return
        step = steps.pop(0)
        QTimer.singleShot(0, press_next)  # runs inside a dialog this key opens, too
        if isinstance(step, str):
            sent.append(step)
            qtbot.keyClicks(target, step)
        else:
            key, modifiers = step if isinstance(step, tuple) else (step, Qt.KeyboardModifier(0))
            sent.append(f"{key.name}+{modifiers}")
            qtbot.keyClick(target, key, modifiers)

    QTimer.singleShot(0, press_next)
    qtbot.waitUntil(lambda: sent[-1:] == ["done"], timeout=20_000)
    for dialog in window.findChildren(QDialog):  # closed dialogs go while Qt is up
        dialog.deleteLater()
    qtbot.wait(10)
    case = window.door.board.cases.get("KB-0001")
    assert (case.patient.family_name, case.patient.given_name) == ("Keyboard", "Kim")
    assert [(c.date.isoformat(), c.regimen, c.cycle, c.setting) for c in case.chemotherapy] == [
        ("2026-09-14", "folfox", 1, "neoadjuvant"),
        ("2026-09-28", "folfox", 2, "neoadjuvant"),
    ]
    assert [(tp.date.isoformat(), tp.modality) for tp in case.imaging] == [
        ("2026-09-01", "ct"),
        ("2026-10-20", "ct"),
    ]
    assert window.workspace.case is not None and window.workspace.case.mrn == "KB-0001"
    assert key_count(FLOW) == 72  # the count the README states
