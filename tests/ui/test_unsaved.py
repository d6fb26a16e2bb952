"""Unsaved edits are never lost silently (issue 19 item 2): each tab tracks what was typed
and not saved and shows it (a mark in the tab's title, the window's modified flag); quitting,
closing the window, opening another case or another database asks Save / Discard / Cancel;
Esc in a field reverts only that field.  Driven through the real widgets and keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.dialogs.record_dialog import RecordDialog
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN, Calendar

pytestmark = [pytest.mark.ui, pytest.mark.db]

Save = QMessageBox.StandardButton.Save
Discard = QMessageBox.StandardButton.Discard
Cancel = QMessageBox.StandardButton.Cancel


@pytest.fixture
def window(qtbot: QtBot, db_path: Path) -> Iterator[MainWindow]:
    """A window on a file of its own (the tests reopen the file after the window closed)."""
    board = Board.open(db_path, clock=Calendar())
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.show()
    shown.activateWindow()
    qtbot.waitExposed(shown)
    yield shown
    board.close()


def stored_ecog(db_path: Path, mrn: str = "EX-0001") -> Any:
    with Board.open(db_path, clock=Calendar()) as board:
        return board.cases.get(mrn).patient.ecog


def ecog_line(window: MainWindow) -> QLineEdit:
    line = window.workspace.staging.forms["patient"].editors["ecog"].line
    assert line is not None
    return line


def type_into(qtbot: QtBot, line: QLineEdit, text: str) -> None:
    line.setFocus()
    qtbot.keyClick(line, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(line, text)


def tab_title(window: MainWindow, tab: Any) -> str:
    workspace = window.workspace
    return workspace.tabText(workspace.indexOf(tab)).replace("&", "")


def answer(button: QMessageBox.StandardButton, seen: list[str] | None = None) -> None:
    """Press `button` in the next message box; its text goes to `seen`."""

    def act() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, act)
            return
        if seen is not None:
            seen.append(f"{box.windowTitle()}|{box.text()}|{box.informativeText()}")
        found = box.button(button)
        assert found is not None, box.text()
        found.click()

    QTimer.singleShot(0, act)


def edit_ecog(window: MainWindow, qtbot: QtBot, value: str = "3") -> None:
    window.select_case("EX-0001")
    assert window.workspace.case is not None and window.workspace.case.patient.ecog != 3
    window.workspace.setCurrentWidget(window.workspace.staging)
    type_into(qtbot, ecog_line(window), value)


def quit_with_ctrl_q(window: MainWindow, qtbot: QtBot) -> None:
    qtbot.keyClick(ecog_line(window), Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)


def test_the_tab_and_the_window_show_unsaved_changes(window: MainWindow, qtbot: QtBot) -> None:
    staging = window.workspace.staging
    window.select_case("EX-0001")
    window.workspace.setCurrentWidget(staging)
    assert tab_title(window, staging) == "Staging"
    assert "[*]" in window.windowTitle() and not window.isWindowModified()
    type_into(qtbot, ecog_line(window), "3")
    assert tab_title(window, staging) == "Staging •"
    assert tab_title(window, window.workspace.plan) == "Plan"
    assert window.isWindowModified()
    qtbot.keyClick(ecog_line(window), Qt.Key.Key_Return)  # Enter saves
    assert window.door.board.cases.get("EX-0001").patient.ecog == 3
    assert tab_title(window, staging) == "Staging"
    assert not window.isWindowModified()


def test_ctrl_q_asks_and_save_keeps_the_change(
    window: MainWindow, qtbot: QtBot, db_path: Path
) -> None:
    edit_ecog(window, qtbot)
    seen: list[str] = []
    answer(Save, seen)
    quit_with_ctrl_q(window, qtbot)
    assert len(seen) == 1
    title, text, _info = seen[0].split("|")
    assert title == "Unsaved changes"
    assert "EXAMPLE" in text and "EX-0001" in text and "Staging" in text
    assert not window.isVisible()  # quit after the save
    assert stored_ecog(db_path) == 3


def test_ctrl_q_discard_quits_without_saving(
    window: MainWindow, qtbot: QtBot, db_path: Path
) -> None:
    before = window.door.board.cases.get("EX-0001").patient.ecog
    edit_ecog(window, qtbot)
    answer(Discard)
    quit_with_ctrl_q(window, qtbot)
    assert not window.isVisible()
    assert stored_ecog(db_path) == before


def test_closing_the_window_cancel_stays_with_the_change(window: MainWindow, qtbot: QtBot) -> None:
    edit_ecog(window, qtbot)
    answer(Cancel)
    window.close()
    assert window.isVisible()
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0001"
    assert ecog_line(window).text() == "3" and window.isWindowModified()
    # and the window still closes once the change is saved
    answer(Save)
    window.close()
    assert not window.isVisible()


def test_a_refused_save_keeps_the_window_and_the_case(
    window: MainWindow, qtbot: QtBot, db_path: Path
) -> None:
    edit_ecog(window, qtbot, "7")  # ECOG is 0–4
    answer(Save)
    window.close()
    assert window.isVisible()
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0001"
    assert window.workspace.currentWidget() is window.workspace.staging
    editor = window.workspace.staging.forms["patient"].editors["ecog"]
    assert editor.reason.text() == "must be ≤ 4"
    assert ecog_line(window).text() == "7"
    assert stored_ecog(db_path) != 7


def test_a_conflicting_save_keeps_the_window_and_the_typed_value(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit_ecog(window, qtbot)
    board = window.door.board
    # someone else saves the case meanwhile (another window, another user)
    case, version = board.cases.get_with_version("EX-0001")
    theirs = case.model_copy(deep=True)
    theirs.patient.given_name = "Theirs"
    board.cases.save(theirs, version)
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, title, _t, *_a: told.append(title))
    answer(Save)
    window.close()
    assert window.isVisible()
    assert told == ["Someone else changed this case"]
    assert ecog_line(window).text() == "3"  # read again with the typed value kept
    assert window.isWindowModified()
    assert board.cases.get("EX-0001").patient.ecog != 3
    # saved again on top of the other change: both stay
    # (offscreen, the window is not made active again when a message box closes)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    ecog_line(window).setFocus()
    qtbot.keyClick(ecog_line(window), Qt.Key.Key_Return)
    stored = board.cases.get("EX-0001").patient
    assert (stored.ecog, stored.given_name) == (3, "Theirs")


def click_list_row(window: MainWindow, qtbot: QtBot, mrn: str) -> None:
    row = window.model.cached_row_of(mrn)
    assert row is not None
    rect = window.table.visualRect(window.model.index(row, 0))
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_clicking_another_case_asks_and_cancel_stays(window: MainWindow, qtbot: QtBot) -> None:
    edit_ecog(window, qtbot)
    other = window.door.board.cases.get("EX-0002").patient.ecog
    seen: list[str] = []
    answer(Cancel, seen)
    click_list_row(window, qtbot, "EX-0002")
    assert len(seen) == 1 and "EX-0001" in seen[0]
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0001"
    current = window.table.currentIndex()
    assert window.model.data(current, Qt.ItemDataRole.UserRole) == "EX-0001"
    assert ecog_line(window).text() == "3"
    # Discard: the other case opens, with its own values (nothing typed carried over)
    answer(Discard)
    click_list_row(window, qtbot, "EX-0002")
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0002"
    assert ecog_line(window).text() == ("" if other is None else str(other))
    assert not window.isWindowModified()
    assert window.door.board.cases.get("EX-0001").patient.ecog != 3


def test_opening_from_the_follow_up_worklist_asks_and_save_saves(
    window: MainWindow, qtbot: QtBot
) -> None:
    edit_ecog(window, qtbot)
    answer(Save)
    window.show_case_page("EX-0002")  # what the worklist's Open does
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0002"
    assert window.door.board.cases.get("EX-0001").patient.ecog == 3


def test_new_case_asks_first_and_cancel_opens_no_dialog(window: MainWindow, qtbot: QtBot) -> None:
    edit_ecog(window, qtbot)
    opened: list[QDialog] = []

    def record_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, RecordDialog):
            opened.append(dialog)
            dialog.reject()

    answer(Cancel)
    QTimer.singleShot(50, record_dialog)
    qtbot.keyClick(ecog_line(window), Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(100)
    assert not opened
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0001"
    assert ecog_line(window).text() == "3"


def test_esc_reverts_only_the_field_in_focus(window: MainWindow, qtbot: QtBot) -> None:
    window.select_case("EX-0001")
    stored = window.door.board.cases.get("EX-0001").patient
    staging = window.workspace.staging
    window.workspace.setCurrentWidget(staging)
    given = staging.forms["patient"].editors["given_name"].line
    assert given is not None
    type_into(qtbot, given, "Edited")
    type_into(qtbot, ecog_line(window), "3")
    qtbot.keyClick(ecog_line(window), Qt.Key.Key_Escape)
    assert ecog_line(window).text() == ("" if stored.ecog is None else str(stored.ecog))
    assert given.text() == "Edited"  # the other field keeps what was typed
    assert tab_title(window, staging) == "Staging •"
    given.setFocus()
    qtbot.keyClick(given, Qt.Key.Key_Escape)
    assert given.text() == stored.given_name
    assert tab_title(window, staging) == "Staging" and not window.isWindowModified()


def test_a_change_made_elsewhere_keeps_what_was_typed(window: MainWindow, qtbot: QtBot) -> None:
    """The case read again after a save made elsewhere: the fields typed here keep what was
    typed; the others show the new stored values."""
    edit_ecog(window, qtbot)
    board = window.door.board
    case, version = board.cases.get_with_version("EX-0001")
    patient = case.patient.model_copy(update={"given_name": "Renamed"})
    window.door.save_case(
        case.model_copy(update={"patient": patient}),
        version,
        "EX-0001",
        lambda _r: None,
        lambda _e: None,
    )
    assert window.workspace.case is not None
    assert window.workspace.case.patient.given_name == "Renamed"
    given = window.workspace.staging.forms["patient"].editors["given_name"].line
    assert given is not None and given.text() == "Renamed"
    assert ecog_line(window).text() == "3" and window.isWindowModified()
    qtbot.keyClick(ecog_line(window), Qt.Key.Key_Return)
    stored = board.cases.get("EX-0001").patient
    assert (stored.ecog, stored.given_name) == (3, "Renamed")
