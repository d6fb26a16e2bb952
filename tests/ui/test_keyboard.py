"""Keyboard flow (issue 19 item 6) with real key events: F6 / Shift+F6 between the case
list and the open case; Down from the filter into the results and Enter there opening the
first match; Ctrl+S saving the form in focus; Ctrl+Z in a form after a save undoing that
save; undo steps naming the patient, and never switching patient silently; every mnemonic
of the main window unique at each moment (menus, tabs, buttons)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QLabel,
    QMessageBox,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN
from tests.ui.test_workspace import when_dialog

pytestmark = [pytest.mark.ui, pytest.mark.db]

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def window(qtbot: QtBot, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.show()
    shown.activateWindow()
    qtbot.waitUntil(shown.isActiveWindow)
    yield shown


def focus(qtbot: QtBot, widget: QWidget) -> None:
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def open_mrn(window: MainWindow) -> str | None:
    return window.workspace.case.mrn if window.workspace.case is not None else None


def test_enter_in_the_filter_opens_the_first_match_and_down_moves_into_the_results(
    window: MainWindow, qtbot: QtBot
) -> None:
    focus(qtbot, window.filter_edit)
    qtbot.keyClicks(window.filter_edit, "clara")
    qtbot.keyClick(window.filter_edit, Qt.Key.Key_Return)  # before the filter's pause ends
    assert open_mrn(window) == "EX-0003"
    window.filter_edit.clear()
    qtbot.keyClicks(window.filter_edit, "bruno")
    qtbot.keyClick(window.filter_edit, Qt.Key.Key_Down)
    assert window.table.hasFocus()
    rows = window.table.selectionModel().selectedRows()
    assert [window.model.data(r, Qt.ItemDataRole.UserRole) for r in rows] == ["EX-0002"]
    assert open_mrn(window) == "EX-0003"  # moving into the results opens nothing
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    assert open_mrn(window) == "EX-0002"


def test_f6_moves_between_the_case_list_and_the_open_case(window: MainWindow, qtbot: QtBot) -> None:
    window.select_case("EX-0001")
    assert open_mrn(window) == "EX-0001"
    focus(qtbot, window.table)
    qtbot.keyClick(focused(), Qt.Key.Key_F6)
    assert window.workspace.isAncestorOf(focused())
    qtbot.keyClick(focused(), Qt.Key.Key_F6)
    assert focused() is window.table
    qtbot.keyClick(focused(), Qt.Key.Key_F6, SHIFT)
    assert window.workspace.isAncestorOf(focused())
    qtbot.keyClick(focused(), Qt.Key.Key_F6, SHIFT)
    assert focused() is window.table
    # on the Staging tab, F6 lands in its first field
    window.workspace.setCurrentWidget(window.workspace.staging)
    qtbot.keyClick(focused(), Qt.Key.Key_F6)
    assert window.workspace.staging.isAncestorOf(focused())


def ecog_line(window: MainWindow) -> QWidget:
    line = window.workspace.staging.forms["patient"].editors["ecog"].line
    assert line is not None
    return line


def test_ctrl_s_saves_the_form_in_focus(window: MainWindow, qtbot: QtBot) -> None:
    board = window.door.board
    window.select_case("EX-0001")
    window.workspace.setCurrentWidget(window.workspace.plan)
    surgeon = window.workspace.plan.forms["plan"].editors["surgeon"].line
    assert surgeon is not None
    focus(qtbot, surgeon)
    surgeon.selectAll()
    qtbot.keyClicks(surgeon, "Dr Keyboard")
    qtbot.keyClick(surgeon, Qt.Key.Key_S, CTRL)
    plan = board.cases.get("EX-0001").plan
    assert plan is not None and plan.surgeon == "Dr Keyboard"


def test_ctrl_z_in_a_form_after_a_save_undoes_the_save(window: MainWindow, qtbot: QtBot) -> None:
    board = window.door.board
    window.select_case("EX-0001")
    window.workspace.setCurrentWidget(window.workspace.staging)
    line = ecog_line(window)
    focus(qtbot, line)
    line.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClicks(line, "3")
    qtbot.keyClick(line, Qt.Key.Key_Return)  # Enter saves
    assert board.cases.get("EX-0001").patient.ecog == 3
    assert line.hasFocus()
    qtbot.keyClick(line, Qt.Key.Key_Z, CTRL)  # the field has nothing of its own to undo
    assert board.cases.get("EX-0001").patient.ecog == 0
    assert line.text() == "0"  # type: ignore[attr-defined]
    # the Edit menu names the step and the patient
    assert window.redo_action.text() == "&Redo: edit staging && molecular — EXAMPLE, Ada"
    qtbot.keyClick(line, Qt.Key.Key_Z, CTRL | SHIFT)
    assert board.cases.get("EX-0001").patient.ecog == 3
    assert window.undo_action.text() == "&Undo: edit staging && molecular — EXAMPLE, Ada"


def test_undo_of_another_patients_change_asks_and_opens_that_patient(
    window: MainWindow, qtbot: QtBot
) -> None:
    board = window.door.board
    window.select_case("EX-0001")
    window.workspace.setCurrentWidget(window.workspace.staging)
    line = ecog_line(window)
    focus(qtbot, line)
    line.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClicks(line, "2")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert board.cases.get("EX-0001").patient.ecog == 2
    window.select_case("EX-0003")
    assert open_mrn(window) == "EX-0003"

    asked: list[str] = []

    def cancel(box: QDialog) -> None:
        assert isinstance(box, QMessageBox)
        asked.append(box.text() + "\n" + box.informativeText())
        box.button(QMessageBox.StandardButton.Cancel).click()  # the default: Cancel

    when_dialog(cancel)
    qtbot.keyClick(window.table, Qt.Key.Key_Z, CTRL)
    assert "EXAMPLE, Ada (EX-0001)" in asked[0]
    assert "EXAMPLE, Clara" in asked[0]  # the case on screen, named
    assert open_mrn(window) == "EX-0003"  # nothing switched, nothing undone
    assert board.cases.get("EX-0001").patient.ecog == 2

    def accept(box: QDialog) -> None:
        assert isinstance(box, QMessageBox)
        (go,) = [b for b in box.buttons() if b.text() == "Open EXAMPLE, Ada and undo"]
        go.click()

    window.activateWindow()  # as a window manager does when the question closes
    qtbot.waitUntil(window.isActiveWindow)
    when_dialog(accept)
    qtbot.keyClick(window.table, Qt.Key.Key_Z, CTRL)
    assert open_mrn(window) == "EX-0001"
    assert board.cases.get("EX-0001").patient.ecog == 0
    assert "Opened EXAMPLE, Ada (EX-0001) to undo" in window.statusBar().currentMessage()


def mnemonic(text: str) -> str | None:
    """The letter after a single '&' (None if there is none)."""
    index = 0
    while (index := text.find("&", index)) != -1:
        if text[index + 1 : index + 2] == "&":
            index += 2
            continue
        return text[index + 1 : index + 2].upper() or None
    return None


def window_mnemonics(window: MainWindow) -> list[tuple[str, str]]:
    """(letter, what) of every Alt+letter the window answers to now: the menu bar, the tab
    bars and the buttons and labels shown."""
    found: list[tuple[str, str]] = []
    for action in window.menuBar().actions():
        if (letter := mnemonic(action.text())) is not None:
            found.append((letter, f"menu {action.text()}"))
    for bar in window.findChildren(QTabBar):
        if bar.isVisible():
            for tab in range(bar.count()):
                if (letter := mnemonic(bar.tabText(tab))) is not None:
                    found.append((letter, f"tab {bar.tabText(tab)}"))
    for button in window.findChildren(QAbstractButton):
        if button.isVisible() and (letter := mnemonic(button.text())) is not None:
            found.append((letter, f"button {button.text()}"))
    for label in window.findChildren(QLabel):
        letter = mnemonic(label.text())
        if label.isVisible() and label.buddy() is not None and letter is not None:
            found.append((letter, f"label {label.text()}"))
    return found


def test_every_mnemonic_of_the_main_window_is_unique(window: MainWindow, qtbot: QtBot) -> None:
    window.select_case("EX-0003")  # the workspace enabled, every tab filled
    moments = 0
    for page in range(window.pages.count()):
        window.pages.setCurrentIndex(page)
        tabs = window.workspace.count() if window.pages.currentWidget() is window.splitter else 1
        for tab in range(tabs):
            window.workspace.setCurrentIndex(tab)
            QApplication.processEvents()
            found = window_mnemonics(window)
            counts = Counter(letter for letter, _ in found)
            clashes = sorted(
                f"Alt+{k}: {[w for x, w in found if x == k]}" for k, n in counts.items() if n > 1
            )
            assert clashes == [], f"page {page}, tab {window.workspace.tabText(tab)}"
            moments += 1
    assert moments >= 10
    # and inside each menu, one item per letter
    for action in window.menuBar().actions():
        menu = action.menu()
        letters = [mnemonic(a.text()) for a in menu.actions() if not a.isSeparator()]  # type: ignore[union-attr]
        letters = [x for x in letters if x is not None]
        assert len(letters) == len(set(letters)), action.text()
