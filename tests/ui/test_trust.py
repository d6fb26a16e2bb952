"""Trust, as found by driving the app: no edit is lost while another case is on its way
(the door's worker answers later than the keyboard), and the history names records and
meetings as people know them, never by a database key."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN
from tests.ui.test_right_patient import reactivate, settle
from tests.ui.test_unsaved import answer, ecog_line, type_into

pytestmark = [pytest.mark.ui, pytest.mark.db]

Save = QMessageBox.StandardButton.Save
Cancel = QMessageBox.StandardButton.Cancel


@pytest.fixture
def threaded_window(qtbot: QtBot, threaded: None, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.show()
    shown.activateWindow()
    qtbot.waitExposed(shown)
    settle(qtbot, shown)
    yield shown


def hold_reads_of(board: Board, mrn: str) -> tuple[threading.Event, threading.Event]:
    """The worker stops at the read of case `mrn` until `go` is set (a busy worker: a long
    recompute, a loaded machine); `reading` says it got there."""
    reading, go = threading.Event(), threading.Event()
    get = board.cases.get_stamped

    def held(wanted: str, *args: Any, **kwargs: Any) -> Any:
        if wanted == mrn and threading.current_thread() is not threading.main_thread():
            reading.set()
            go.wait(60)
        return get(wanted, *args, **kwargs)

    board.cases.get_stamped = held  # type: ignore[method-assign]
    return reading, go


def start_on_ex0001_staging(window: MainWindow, qtbot: QtBot) -> None:
    window.open_case("EX-0001")
    settle(qtbot, window)
    window.workspace.setCurrentWidget(window.workspace.staging)
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0001"


def test_an_edit_typed_while_the_next_case_opens_is_asked_about(
    threaded_window: MainWindow, qtbot: QtBot
) -> None:
    """EX-0001 open, EX-0002 chosen in the list: until the worker answers, EX-0001 stays on
    screen and editable.  ECOG typed then was dropped without a word when EX-0002 arrived
    (the question about unsaved changes had been asked before anything was typed)."""
    window = threaded_window
    board = window.door.board
    start_on_ex0001_staging(window, qtbot)
    reading, go = hold_reads_of(board, "EX-0002")
    try:
        assert window.open_case("EX-0002")  # nothing typed yet: no question
        qtbot.waitUntil(reading.is_set, timeout=60_000)
        type_into(qtbot, ecog_line(window), "3")  # EX-0001's form, still on screen
        seen: list[str] = []
        answer(Save, seen)
    finally:
        go.set()
    settle(qtbot, window)
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    settle(qtbot, window)
    assert "EX-0001" in seen[0]
    assert board.cases.get("EX-0001").patient.ecog == 3
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0002"


def test_cancel_keeps_the_case_with_its_edit(threaded_window: MainWindow, qtbot: QtBot) -> None:
    window = threaded_window
    board = window.door.board
    start_on_ex0001_staging(window, qtbot)
    reading, go = hold_reads_of(board, "EX-0002")
    try:
        window.open_case("EX-0002")
        qtbot.waitUntil(reading.is_set, timeout=60_000)
        type_into(qtbot, ecog_line(window), "3")
        answer(Cancel)
    finally:
        go.set()
    settle(qtbot, window)
    qtbot.waitUntil(lambda: window.workspace.case is not None, timeout=10_000)
    case = window.workspace.case
    assert case is not None and case.mrn == "EX-0001"
    assert ecog_line(window).text() == "3" and window.workspace.staging.modified()
    assert "EX-0001" in window.windowTitle()
    reactivate(qtbot, window)  # offscreen, the closed question leaves no active window
    ecog_line(window).setFocus()
    qtbot.keyClick(ecog_line(window), Qt.Key.Key_Return)  # and it can still be saved
    settle(qtbot, window)
    assert board.cases.get("EX-0001").patient.ecog == 3
