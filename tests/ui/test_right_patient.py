"""The right patient (issue 19 item 1): the workspace changes patient only on an explicit
action — a click, Enter or F2 on a row, New case, a case opened from a page — never as a side
effect of the list being read again, filtered or sorted; real widgets and key events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.dialogs.record_dialog import RecordDialog
from crlmboard.ui.forms import locale_date
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN
from tests.ui.test_workspace import when_dialog

pytestmark = [pytest.mark.ui, pytest.mark.db]


@pytest.fixture
def window(qtbot: QtBot, threaded: None, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.show()
    shown.activateWindow()
    qtbot.waitUntil(shown.isActiveWindow)
    settle(qtbot, shown)
    yield shown


def settle(qtbot: QtBot, window: MainWindow) -> None:
    """Wait until every call asked of the door (on its real worker) has been answered."""
    qtbot.waitUntil(lambda: window.door.pending == 0, timeout=60_000)


def reactivate(qtbot: QtBot, window: MainWindow) -> None:
    """The window active again with its focus back (offscreen, a closed dialog leaves no
    active window; a window manager gives it back to the main window)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    QApplication.processEvents()


def open_mrn(window: MainWindow) -> str | None:
    return window.workspace.case.mrn if window.workspace.case is not None else None


def selected_mrn(window: MainWindow) -> str | None:
    rows = window.table.selectionModel().selectedRows()
    if not rows:
        return None
    return window.model.data(rows[0], Qt.ItemDataRole.UserRole)


def fill_new_patient(qtbot: QtBot, mrn: str, family: str, given: str) -> Any:
    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, RecordDialog)
        editors = dialog.form.editors
        qtbot.keyClicks(editors["mrn"].line, mrn)
        qtbot.keyClicks(editors["family_name"].line, family)
        qtbot.keyClicks(editors["given_name"].line, given)
        qtbot.keyClick(dialog, Qt.Key.Key_Return)

    return fill


def test_new_case_from_a_filtered_focused_list_opens_the_new_case(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.table.setFocus()
    qtbot.keyClicks(window.filter_edit, "bruno")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    when_dialog(fill_new_patient(qtbot, "XAV-0001", "Xavier", "Test"))
    qtbot.keyClick(window.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.door.pending == 0 and QApplication.activeModalWidget() is None)
    settle(qtbot, window)
    reactivate(qtbot, window)  # as a window manager does when the dialog closes
    settle(qtbot, window)
    assert open_mrn(window) == "XAV-0001"
    assert selected_mrn(window) == "XAV-0001"
    assert "XAVIER, Test" in window.windowTitle()

    # the next cycle is the new patient's: nothing copied from another patient's cycles
    seen: dict[str, Any] = {}

    def look(dialog: QDialog) -> None:
        assert isinstance(dialog, RecordDialog)
        seen["title"] = dialog.windowTitle()
        seen["banner"] = dialog.banner.text()
        seen["regimen"] = dialog.form.editors["regimen"].combo.currentData()  # type: ignore[union-attr]
        dialog.reject()

    when_dialog(look)
    qtbot.keyClick(
        window.table,
        Qt.Key.Key_C,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier,
    )
    qtbot.waitUntil(lambda: "title" in seen)
    assert seen["title"] == "Add chemotherapy cycle — XAVIER, Test"
    assert "XAVIER, Test" in seen["banner"] and "XAV-0001" in seen["banner"]
    assert seen["regimen"] is None
    assert open_mrn(window) == "XAV-0001"


def open_by_keyboard(qtbot: QtBot, window: MainWindow, mrn: str) -> None:
    """Filter for the MRN and press Enter in the filter (opens the first match)."""
    window.filter_edit.clear()
    qtbot.keyClicks(window.filter_edit, mrn)
    qtbot.keyClick(window.filter_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: open_mrn(window) == mrn)
    settle(qtbot, window)


def row_of(window: MainWindow, mrn: str) -> int:
    rows = [window.model.data(window.model.index(r, 0)) for r in range(window.model.rowCount())]
    return rows.index(mrn)


def test_a_filter_and_the_focus_never_switch_the_patient(window: MainWindow, qtbot: QtBot) -> None:
    window.select_case("EX-0003")
    settle(qtbot, window)
    assert open_mrn(window) == "EX-0003"
    qtbot.keyClicks(window.filter_edit, "ex")  # the list is read again, all three shown
    qtbot.waitUntil(lambda: not window._filter_timer.isActive())
    settle(qtbot, window)
    window.filter_edit.setFocus()
    qtbot.keyClick(window.filter_edit, Qt.Key.Key_Tab)  # into the list
    qtbot.waitUntil(window.table.hasFocus)
    settle(qtbot, window)
    assert open_mrn(window) == "EX-0003"
    assert selected_mrn(window) == "EX-0003"  # the selection follows the open case
    window.filter_edit.clear()  # a filter hiding nothing: the list is read again
    qtbot.keyClicks(window.filter_edit, "bruno")  # hides the open case
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    settle(qtbot, window)
    assert open_mrn(window) == "EX-0003"
    assert selected_mrn(window) is None  # the open case is not shown: nothing selected
    window.filter_edit.clear()
    qtbot.waitUntil(lambda: window.model.rowCount() == 3)
    settle(qtbot, window)
    assert open_mrn(window) == "EX-0003"
    assert selected_mrn(window) == "EX-0003"


def test_another_cases_save_a_sort_and_the_arrow_keys_keep_the_open_case(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.select_case("EX-0002")
    settle(qtbot, window)
    # someone saves another case: the list is read again (its model reset)
    other = window.door.board.cases.get("EX-0001")
    other = other.model_copy(
        update={"patient": other.patient.model_copy(update={"given_name": "Adaline"})}
    )
    _, version = window.door.board.cases.get_with_version("EX-0001")
    window.door.save_case(other, version, "EX-0001", lambda _r: None, lambda e: None)
    settle(qtbot, window)
    shown = window.model.index(row_of(window, "EX-0001"), 1)
    assert window.model.data(shown) == "EXAMPLE, Adaline"
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    settle(qtbot, window)
    assert open_mrn(window) == "EX-0002"
    assert selected_mrn(window) == "EX-0002"
    # a sort: the open case's row moves, the selection with it, the case stays
    window.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    settle(qtbot, window)
    assert open_mrn(window) == "EX-0002"
    assert selected_mrn(window) == "EX-0002"
    # the arrow keys move the selection only; Enter opens; F2 opens
    qtbot.keyClick(window.table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    assert selected_mrn(window) == "EX-0003"
    assert open_mrn(window) == "EX-0002"
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: open_mrn(window) == "EX-0003")
    qtbot.keyClick(window.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    assert open_mrn(window) == "EX-0003"
    qtbot.keyClick(window.table, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: open_mrn(window) == "EX-0001")
    # a click opens the row clicked
    rect = window.table.visualRect(window.model.index(row_of(window, "EX-0002"), 1))
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: open_mrn(window) == "EX-0002")


def test_the_banner_and_the_title_name_the_open_patient(window: MainWindow, qtbot: QtBot) -> None:
    open_by_keyboard(qtbot, window, "EX-0003")
    banner = window.workspace.banner
    expected = (
        "\u200e\u2068EXAMPLE, Clara\u2069  ·  MRN EX-0003  ·  born 30/08/1956 (70 y)  ·  female"
    )
    assert banner.text() == expected.replace("30/08/1956", locale_date(dt.date(1956, 8, 30)))
    assert banner.isVisible()
    for tab in range(window.workspace.count()):  # above every tab of the case
        window.workspace.setCurrentIndex(tab)
        assert banner.isVisible()
    assert window.windowTitle() == f"{banner.text()} — crlmboard[*]"  # [*]: the modified mark


def test_a_click_on_a_row_opens_that_rows_case_with_the_open_case_scrolled_away(
    qtbot: QtBot, board: Board
) -> None:
    """A click in the list from elsewhere (the focus in a field, the list looked down with
    the arrow keys, then scrolled with the wheel so the open case's row is out of sight)
    opens the row clicked.
    The list, taking the focus, scrolled back to the open case's row before the click
    landed, and the click opened whichever patient had moved under the pointer."""
    from PySide6.QtTest import QTest

    from crlmboard.domain import models as m
    from crlmboard.domain.case import Case

    board.cases.import_path(GOLDEN)
    for i in range(30):
        patient = m.Patient(mrn=f"ROW-{i:03d}", family_name=f"Rowtest{i:03d}", given_name="Test")
        board.cases.create(Case(patient=patient))
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.resize(1000, 400)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    table, model = window.table, window.model
    first = model.data(model.index(0, 0))
    window.select_case(first)
    assert open_mrn(window) == first
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    for _ in range(3):  # a look down the list: the current row moves, nothing opens
        qtbot.keyClick(table, Qt.Key.Key_Down)
    assert open_mrn(window) == first and table.currentIndex().row() == 3
    window.filter_edit.setFocus()  # the focus elsewhere: the next click gives it to the list
    qtbot.waitUntil(window.filter_edit.hasFocus)
    table.scrollToBottom()  # the wheel: the open case's row is out of sight
    QApplication.processEvents()
    assert table.rowAt(0) > 0
    row = table.rowAt(table.viewport().height() // 2)
    clicked = model.data(model.index(row, 0))
    assert clicked != first
    QTest.mouseClick(
        table.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        table.visualRect(model.index(row, 1)).center(),
    )
    QApplication.processEvents()
    assert table.hasFocus()
    assert open_mrn(window) == clicked
    assert selected_mrn(window) == clicked


def test_new_case_with_an_mrn_in_use_asks_again_with_what_was_typed(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New case with an MRN another case has: the dialog comes back with everything typed
    and the reason next to the MRN, the focus in it; the open case stays open.  It used to
    close, drop what was typed and say `patient.mrn: …` in a box over the window."""
    from PySide6.QtWidgets import QMessageBox

    boxes: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda *args, **_k: boxes.append(str(args[2])) or None
    )
    window.select_case("EX-0002")
    settle(qtbot, window)
    seen: dict[str, Any] = {}

    def look(dialog: QDialog) -> None:
        assert isinstance(dialog, RecordDialog)
        editors = dialog.form.editors
        seen["title"] = dialog.windowTitle()
        seen["typed"] = [editors[n].line.text() for n in ("mrn", "family_name", "given_name")]  # type: ignore[union-attr]
        seen["reason"] = editors["mrn"].reason.text()
        seen["message"] = dialog.message.text()
        # the dialog's focus (given when its window is active: offscreen, maybe not yet)
        seen["focus"] = dialog.focusWidget() is editors["mrn"].line
        seen["selected"] = editors["mrn"].line.selectedText()  # type: ignore[union-attr]
        dialog.reject()

    def fill(dialog: QDialog) -> None:
        fill_new_patient(qtbot, "EX-0001", "Typedname", "Test")(dialog)
        when_dialog(look)  # the next one: the same dialog again

    when_dialog(fill)
    window.new_case()
    qtbot.waitUntil(lambda: "title" in seen or bool(boxes), timeout=10_000)
    settle(qtbot, window)
    assert boxes == []
    assert seen["title"] == "New case"
    assert seen["typed"] == ["EX-0001", "Typedname", "Test"]
    assert "already exists" in seen["reason"]
    assert "MRN" in seen["message"] and "patient.mrn" not in seen["message"]
    assert seen["focus"] and seen["selected"] == "EX-0001"  # typing replaces it
    assert open_mrn(window) == "EX-0002"
    assert window.model.rowCount() == 3


def test_esc_on_the_new_case_asked_again_asks_before_the_entry_is_lost(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The New case dialog brought back after a refusal holds what was typed, not saved:
    Esc asks before throwing it away, as it does in the first dialog.  Seen under openbox:
    an MRN in use, then Esc, and the patient's entry was gone without a word."""
    from PySide6.QtWidgets import QMessageBox

    asked: list[str] = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *args, **_k: asked.append(str(args[2])) or QMessageBox.StandardButton.Cancel,
    )
    monkeypatch.setattr(QMessageBox, "warning", lambda *_a, **_k: None)
    seen: dict[str, Any] = {}

    def escape(dialog: QDialog) -> None:
        assert isinstance(dialog, RecordDialog)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        seen["open after esc"] = dialog.isVisible()
        dialog.reject()  # the test's own way out

    def fill(dialog: QDialog) -> None:
        fill_new_patient(qtbot, "EX-0001", "Typedname", "Test")(dialog)
        when_dialog(escape)

    when_dialog(fill)
    window.new_case()
    qtbot.waitUntil(lambda: "open after esc" in seen, timeout=10_000)
    assert len(asked) == 1 and "Discard what you typed" in asked[0]
    assert seen["open after esc"]
