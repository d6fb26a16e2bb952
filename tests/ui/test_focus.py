"""Focus and activation as a person meets them (checked by hand under Xvfb + openbox with
xdotool; these are the parts a test can hold): the case list has the keyboard at start, a
dialog is modal to the window and gives the focus back where it was, Tab leaves a list
instead of walking its cells.  (That a first window fits a 1280×720 screen with its frame is
checked under Xvfb only: the offscreen platform clamps windows to its screen.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN


@pytest.fixture
def window(qtbot: QtBot, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.show()
    shown.activateWindow()
    qtbot.waitActive(shown)
    yield shown


def test_the_case_list_has_the_keyboard_at_start(window: MainWindow, qtbot: QtBot) -> None:
    """Under a window manager the page tabs had it: Down did nothing, Right switched to
    Meetings."""
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    assert QApplication.focusWidget() is window.table
    # the focus alone opens no one's case (Qt makes the first row current, unselected)
    qtbot.wait(50)
    assert window.workspace.case is None


def test_a_dialog_is_modal_to_the_window_and_gives_the_focus_back(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.table)
    seen: list[tuple[bool, QWidget | None]] = []

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QDialog):
            QTimer.singleShot(10, look)
            return
        seen.append((dialog.isModal() and dialog.parentWidget() is not None, dialog))
        dialog.reject()

    QTimer.singleShot(0, look)
    window.new_case()  # Ctrl+N
    assert seen and seen[0][0]
    assert seen[0][1] is not None and seen[0][1].window().parentWidget() is not None
    # the window keeps where the focus was; the window manager activates it again when the
    # dialog closes (the offscreen platform does not, so the test does)
    assert window.focusWidget() is window.table
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.table)


def test_tab_leaves_a_list_instead_of_walking_its_cells(window: MainWindow, qtbot: QtBot) -> None:
    """Tab in the case list (and the meetings list) moved the current cell from column to
    column; a keyboard user could not reach the rest of the window without Ctrl+Tab."""
    window.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.table)
    qtbot.keyClick(window.table, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not window.table

    window.pages.setCurrentWidget(window.meetings.view)
    meetings = window.meetings.view.list_view
    meetings.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is meetings)
    qtbot.keyClick(meetings, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not meetings
