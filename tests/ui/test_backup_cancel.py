"""File ▸ Backup now runs off the GUI thread with a progress dialog that counts the pages
copied and can be cancelled (product.md: long work); cancelled, it writes nothing and says
so in the status bar."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QPushButton
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.store import backup
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN

pytestmark = [pytest.mark.ui, pytest.mark.db]


def _backups(database: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(backup.backup_dir(database).iterdir())}


def _window(qtbot: QtBot, board: Board) -> MainWindow:
    board.cases.import_path(GOLDEN)
    board.maintenance.backup()  # an earlier backup, to be left as it is
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.door.pending == 0, timeout=60_000)
    return window


@pytest.mark.usefixtures("threaded")
def test_a_backup_can_be_cancelled_and_writes_nothing(
    qtbot: QtBot, board: Board, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, board)
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *_a: warned.append(text))
    before = _backups(db_path)
    # the worker holds after the first step of the copy (its progress shown) until Cancel
    # has been pressed
    copying, go = threading.Event(), threading.Event()
    made = board.maintenance.backup

    def held(destination: Any = None, progress: Any = None) -> Any:
        def first(done: int, total: int) -> Any:
            answer = progress(done, total)
            if not copying.is_set():
                copying.set()
                go.wait(60)
            return answer

        return made(destination, progress=None if progress is None else first)

    monkeypatch.setattr(board.maintenance, "backup", held)
    window.backup_now()
    try:
        qtbot.waitUntil(copying.is_set, timeout=60_000)
        dialog = window.door.progress_dialog
        assert isinstance(dialog, QProgressDialog) and dialog.isVisible()
        qtbot.waitUntil(lambda: dialog.maximum() > 1, timeout=60_000)  # pages, not a spinner
        assert 0 < dialog.value() <= dialog.maximum()
        cancel = dialog.findChild(QPushButton)
        assert cancel is not None and cancel.isVisible(), "the backup offers no Cancel"
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    finally:
        go.set()
    qtbot.waitUntil(
        lambda: window.door.pending == 0 and window.door.progress_dialog is None, timeout=60_000
    )
    assert window.statusBar().currentMessage() == "Backup cancelled: nothing written."
    assert warned == []
    assert _backups(db_path) == before
    assert all(b.verified for b in backup.list_backups(db_path))


@pytest.mark.usefixtures("threaded")
def test_a_backup_not_cancelled_is_made_and_verified(
    qtbot: QtBot, board: Board, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, board)
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *_a: warned.append(text))
    before = set(_backups(db_path))
    window.backup_now()
    qtbot.waitUntil(
        lambda: window.door.pending == 0 and window.door.progress_dialog is None, timeout=60_000
    )
    assert warned == []
    made = [b for b in backup.list_backups(db_path) if b.path.name not in before]
    assert len(made) == 1 and made[0].verified
    assert window.statusBar().currentMessage() == f"Backup made (verified): {made[0].path}"
