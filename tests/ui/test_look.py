"""What a person sees, found by driving the app under a real X server with a window manager
(the pictures are listed in the report of branch ui-look): each test fails on the look it
names, with real widgets and real database files."""

from __future__ import annotations

import json
import struct
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui import ops
from crlmboard.ui.dialogs.erase import EraseDialog
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.models.case_list import PAGE_SIZE
from tests.conftest import GOLDEN

pytestmark = [pytest.mark.ui, pytest.mark.db]


def test_the_window_first_start_shows_no_empty_banner(qtbot: QtBot, board: Board) -> None:
    """While the database opened behind the first page, an empty yellow strip stood above
    the list (the read-only banner, not yet told it is not needed), and the list moved down
    under the pointer when the window completed."""
    board.cases.import_path(GOLDEN)
    page = ops.first_page(str(board.location), date.today(), PAGE_SIZE)
    assert page is not None
    window = MainWindow(None, first_page=page, location=str(page.path))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.model.rowCount() == 3 and not window.completed
    assert not window.banner.isVisible()
    window.close()


@pytest.fixture
def saved_geometry() -> Any:
    settings = QSettings()
    before = settings.value("main_window/geometry")
    yield settings
    if before is None:
        settings.remove("main_window/geometry")
    else:
        settings.setValue("main_window/geometry", before)


def _saved_on_a_screen_of_width(geometry: QByteArray, width: int) -> QByteArray:
    """`geometry` as Qt saves it on a screen `width` pixels wide (Qt's format 3: the
    screen's width is the 32-bit big-endian number after the two geometries, the screen
    number and the maximized and full-screen flags)."""
    data = bytearray(geometry.data())
    assert struct.unpack(">IH", data[:6]) == (0x01D9D0CB, 3), "Qt's geometry format changed"
    data[46:50] = struct.pack(">i", width)
    return QByteArray(bytes(data))


def test_a_window_saved_on_a_wider_screen_opens_at_the_first_start_size(
    qtbot: QtBot, board: Board, saved_geometry: QSettings
) -> None:
    """Qt refuses a geometry saved on a screen of another width (a desk monitor, then a
    1280×720 laptop): the window opened at its least size, where the window manager put it
    — at 1280×720 with its right half and its status bar past the screen's edge."""
    saved_geometry.remove("main_window/geometry")
    first = MainWindow(board)
    qtbot.addWidget(first)
    first_size = first.size()  # the first start's: fitted to this screen
    available = first.screen().availableGeometry()
    first.setGeometry(available.left() + 40, available.top() + 40, 400, 300)
    wide = _saved_on_a_screen_of_width(first.saveGeometry(), available.width() * 2)
    assert not first.restoreGeometry(wide)  # as Qt does with it
    first.close()  # (saves its own geometry)
    saved_geometry.setValue("main_window/geometry", wide)

    window = MainWindow(board)
    qtbot.addWidget(window)
    assert window.size() == first_size
    window.close()


def test_the_erase_dialog_shows_its_reason_hint_whole(qtbot: QtBot) -> None:
    """At 1280×720 the reason field cut its example off ("… entered in the li…")."""
    dialog = EraseDialog("DEMO-0001")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    hint = dialog.reason.placeholderText()
    needed = dialog.reason.fontMetrics().horizontalAdvance(hint) + 16  # the field's margins
    assert dialog.reason.width() >= needed, (dialog.reason.width(), needed)
    screen = dialog.screen().availableGeometry()
    assert dialog.width() <= screen.width() and dialog.height() <= screen.height()


def test_a_refusal_for_signed_reviews_names_the_dialogs_box_not_a_command_option(
    qtbot: QtBot, board: Board, upfront: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window said "Erase it anyway … with --including-signed-reviews", an option of
    the command line; in the window it is the dialog's "Also erase signed reviews" box."""
    document = json.loads(json.dumps(upfront))
    document["patient"].update(mrn="DEMO-SIGNED-1", family_name="TESTSIGNED")
    document["reviews"] = [
        {
            "meeting_date": "2025-02-04",
            "question": "Resectable?",
            "decision": "Resect.",
            "signed_by": "Dr Example",
            "signed_at": "2025-02-04T13:00:00Z",
        }
    ]
    board.cases.import_many([json.dumps(document)])
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    window.select_case("DEMO-SIGNED-1")
    qtbot.waitUntil(lambda: window.workspace.case is not None)
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))

    def exec_(dialog: EraseDialog) -> int:
        qtbot.addWidget(dialog)
        qtbot.keyClicks(dialog.confirm, dialog.mrn)
        qtbot.keyClicks(dialog.reason, "synthetic test patient entered by mistake")
        dialog.erase_button.click()
        qtbot.waitUntil(lambda: not dialog.busy)
        dialog.reject()
        return int(dialog.result())

    monkeypatch.setattr(EraseDialog, "exec", exec_)
    window.erase_case()
    assert warned
    assert "signed review" in warned[0]
    assert "--including" not in warned[0]
    assert "“Also erase signed reviews” in the erase dialog" in warned[0]
    assert ".." not in warned[0].replace("…", "")
    assert board.cases.get("DEMO-SIGNED-1").patient.mrn == "DEMO-SIGNED-1"


def test_ctrl_f_reaches_the_filter_while_the_database_opens(qtbot: QtBot, board: Board) -> None:
    """The window-first start shows the list and its filter at once, but Ctrl+F (the
    filter's own hint) did nothing until the database was open: Edit ▸ Find case did not
    exist yet."""
    board.cases.import_path(GOLDEN)
    page = ops.first_page(str(board.location), date.today(), PAGE_SIZE)
    assert page is not None
    window = MainWindow(None, first_page=page, location=str(page.path))
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.filter_edit.hasFocus()
    window.close()


def test_ctrl_f_selects_the_filters_text_once_the_window_is_complete(
    qtbot: QtBot, board: Board
) -> None:
    """After the open, Edit ▸ Find case takes Ctrl+F over (one shortcut, not two that
    would be ambiguous), and typing after it replaces the old filter."""
    board.cases.import_path(GOLDEN)
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    window.filter_edit.setText("EX-0001")
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.filter_edit.hasFocus()
    assert window.filter_edit.selectedText() == "EX-0001"
    window.close()


def test_a_filter_typed_while_the_database_opens_is_applied_once_it_is_open(
    qtbot: QtBot, threaded: None, db_path: Path
) -> None:
    """Typed into the filter of the window-first start's list, the filter stayed in its
    field but the list showed every case (10,000 cases under "ander") until another key."""
    from crlmboard.ui.first_paint import show_window

    with Board.open(db_path) as board:
        board.cases.import_path(GOLDEN)
    window = show_window(str(db_path), None)
    assert window is not None
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    assert window.model.total == 3
    qtbot.keyClicks(window.filter_edit, "EX-0002")
    qtbot.waitUntil(lambda: window.completed, timeout=60_000)
    qtbot.wait(300)  # the filter's typing pause (120 ms)
    qtbot.waitUntil(lambda: not window.model.reloading, timeout=60_000)
    model = window.model
    assert [model.data(model.index(r, 0)) for r in range(model.rowCount())] == ["EX-0002"]
    window.close()


def test_enter_in_the_erase_dialog_never_erases(qtbot: QtBot) -> None:
    """Erasing for good is a click on Erase (or Alt+E), never the Return key that ends the
    reason's typing: Erase was the dialog's default button once both fields were valid."""
    dialog = EraseDialog("DEMO-0001")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.confirm, "DEMO-0001")
    qtbot.keyClicks(dialog.reason, "test patient entered in the live database")
    assert dialog.erase_button.isEnabled()
    for field in (dialog.reason, dialog.confirm):
        qtbot.keyClick(field, Qt.Key.Key_Return)
        qtbot.keyClick(field, Qt.Key.Key_Enter)
    assert dialog.isVisible() and dialog.result() == 0  # neither erased nor cancelled
    qtbot.mouseClick(dialog.erase_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted
