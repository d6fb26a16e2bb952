"""The main window's case list: real widgets on a real database, driven by qtbot."""

from __future__ import annotations

import getpass

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.services.demo import create_demo_database
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.models.case_list import CaseListModel
from crlmboard.ui.ops import Door
from tests.conftest import GOLDEN

pytestmark = [pytest.mark.ui, pytest.mark.db]


def test_case_list_model_is_a_proper_model(board: Board, qtmodeltester: object) -> None:
    board.cases.import_path(GOLDEN)
    model = CaseListModel(Door(board))
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.rowCount() == 3
    assert model.data(model.index(0, 1)) == "EXAMPLE, Ada"
    assert model.data(model.index(0, 4)) == "resectable"


def test_filter_as_you_type_and_sort(qtbot: QtBot, board: Board) -> None:
    board.cases.import_path(GOLDEN)
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    assert f"User: {getpass.getuser()}" in window.statusBar().currentMessage()
    assert window.model.rowCount() == 3
    qtbot.keyClicks(window.filter_edit, "bruno")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    assert window.model.data(window.model.index(0, 0)) == "EX-0002"
    assert window.count_label.text() == "1 case"
    window.filter_edit.clear()
    qtbot.waitUntil(lambda: window.model.rowCount() == 3)
    window.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert [window.model.data(window.model.index(r, 0)) for r in range(3)] == [
        "EX-0003",
        "EX-0002",
        "EX-0001",
    ]


def test_demo_database_lists_its_cases(qtbot: QtBot, tmp_path: object) -> None:
    demo, summary = create_demo_database(str(tmp_path) + "/demo.sqlite3")  # type: ignore[operator]
    assert summary.refused == []
    window = MainWindow(demo)
    qtbot.addWidget(window)
    assert window.model.rowCount() >= 12
    demo.close()


def test_the_database_and_the_user_come_back_after_a_passing_message(
    qtbot: QtBot, board: Board
) -> None:
    """The status bar names the database and who is logged in all day: after a passing
    message ("Case … added to the agenda.", a menu's status tip) it says them again.  It was
    itself a message, and the first one that passed left the bar blank until a restart."""
    board.cases.import_path(GOLDEN)
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    bar = window.statusBar()
    location = bar.currentMessage()
    assert f"User: {getpass.getuser()}" in location and "Database:" in location
    bar.showMessage("Case EX-0001 added to the agenda.", 50)
    assert bar.currentMessage() == "Case EX-0001 added to the agenda."
    qtbot.waitUntil(lambda: "agenda" not in bar.currentMessage())
    assert bar.currentMessage() == location
    bar.showMessage("")  # what a menu item without a status tip sends when hovered
    assert bar.currentMessage() == location


def test_about_names_the_engine_version_and_the_profile(
    qtbot: QtBot, board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Help ▸ About gives the guideline engine's version beside its profile (what every
    evaluation names); it said "Engine default profile", without the version."""
    from PySide6.QtWidgets import QMessageBox

    from crlmboard.domain.engine.catalogue import ENGINE_VERSION

    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda _p, _t, text: told.append(text))
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show_about()
    assert f"engine {ENGINE_VERSION}" in told[0]
    assert f"profile {window.door.profile.name}" in told[0]
