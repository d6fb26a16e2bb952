"""T16 in the app: before a database on a network share is opened the app says why that is
unsafe and names PostgreSQL; Cancel opens nothing, Open anyway opens it and is remembered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.store import location
from crlmboard.ui.main_window import ACCEPTED_LOCATIONS, MainWindow
from tests.conftest import GOLDEN, TODAY

pytestmark = [pytest.mark.ui, pytest.mark.db]


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    QSettings().remove(ACCEPTED_LOCATIONS)
    board = Board.open(tmp_path / "here.sqlite3", clock=lambda: TODAY)
    opened = MainWindow(board)
    qtbot.addWidget(opened)
    yield opened
    opened.door.board.close()
    QSettings().remove(ACCEPTED_LOCATIONS)


def test_a_database_on_a_share_is_opened_only_when_the_user_says_so(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "share" / "board.sqlite3"
    shared.parent.mkdir()
    with Board.open(shared, clock=lambda: TODAY) as other:
        other.cases.import_path(GOLDEN)
    monkeypatch.setattr(
        location, "filesystem_type", lambda path: "nfs" if "/share/" in str(path) else "ext4"
    )
    asked: list[str] = []
    answers = iter([QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Open])

    def warning(_parent: Any, _title: str, text: str, *_args: Any) -> Any:
        asked.append(text)
        return next(answers)

    monkeypatch.setattr(QMessageBox, "warning", warning)
    window._switch_database(str(shared))  # Cancel: nothing opened
    assert "an NFS share" in asked[0] and "PostgreSQL" in asked[0]
    assert window.door.location != str(shared)
    assert window.door.board.cases.count() == 0
    window._switch_database(str(shared))  # Open anyway
    assert window.door.location == str(shared)
    assert window.door.board.cases.count() == 3
    assert str(shared) in (QSettings().value(ACCEPTED_LOCATIONS) or [])
    window._switch_database(str(tmp_path / "here.sqlite3"))
    window._switch_database(str(shared))  # remembered: not asked again
    assert len(asked) == 2
    assert window.door.location == str(shared)
