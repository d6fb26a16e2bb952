"""Issue 23 item 2 in the app: the app never creates a database by opening one.  On a
first start (no database, no backups) it asks: create the database, open the demo, or
quit; a database that is gone but has backups is not recreated; File ▸ New database is the
app's way to make one, File ▸ Open never makes one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

import crlmboard.app as app
from crlmboard.services import Board
from crlmboard.services.board import default_database
from crlmboard.services.demo import default_demo_database
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN, TODAY

pytestmark = [pytest.mark.ui, pytest.mark.db]


@pytest.fixture(autouse=True)
def _no_remembered_database() -> None:
    settings = QSettings()
    for key in ("default_database", "last_database", "recent"):
        settings.remove(key)


def _answer(monkeypatch: pytest.MonkeyPatch, choice: str) -> list[tuple[str, bool]]:
    asked: list[tuple[str, bool]] = []

    def choose(text: str, can_create: bool) -> str:
        asked.append((text, can_create))
        return choice

    monkeypatch.setattr(app, "first_start_choice", choose)
    return asked


def _close(opened: Any) -> None:
    window, board = opened
    window.close()
    board.close()


def test_first_start_can_quit_without_creating_anything(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _answer(monkeypatch, app.QUIT)
    assert app.open_window(None) is None
    assert asked and str(default_database()) in asked[0][0] and asked[0][1]
    assert not default_database().exists() and not default_database().parent.exists()


def test_first_start_creates_the_database_when_asked(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answer(monkeypatch, app.CREATE)
    opened = app.open_window(None)
    assert opened is not None
    window, board = opened
    qtbot.addWidget(window)
    assert Path(board.location) == default_database() and default_database().exists()
    assert board.cases.count() == 0 and not board.read_only
    _close(opened)


def test_first_start_can_open_the_demo(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    _answer(monkeypatch, app.DEMO)
    opened = app.open_window(None)
    assert opened is not None
    window, board = opened
    qtbot.addWidget(window)
    assert Path(board.location) == default_demo_database()
    assert board.cases.count() >= 12
    assert not default_database().exists()
    _close(opened)


def test_a_database_that_is_gone_but_has_backups_is_not_recreated(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "board.sqlite3"
    with Board.open(db, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
        board.maintenance.backup()
    db.unlink()
    asked = _answer(monkeypatch, app.QUIT)
    assert app.open_window(str(db)) is None
    text, can_create = asked[0]
    assert not can_create and "newest verified backup" in text and "3 patients" in text
    assert not db.exists()


def test_open_database_never_creates_and_new_database_does(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tmp_path / "first.sqlite3"
    board = Board.open(first, clock=lambda: TODAY)
    window = MainWindow(board)
    qtbot.addWidget(window)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: shown.append(text))
    typo = tmp_path / "sub" / "frist.sqlite3"
    window._switch_database(str(typo))
    assert shown and "There is no database at" in shown[0]
    assert not typo.parent.exists() and window.door.board is board
    made = tmp_path / "second.sqlite3"
    window._switch_database(str(made), create=True)
    assert made.exists() and Path(window.door.board.location) == made
    window.door.board.close()
