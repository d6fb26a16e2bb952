"""Case ▸ Erase patient for good (T39): the dialog offers Erase only once the MRN is typed
again and a reason given; the erasure closes the case, the list loses it, and the window
names the older backups that still hold it; a refusal leaves the case open and stored."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.services.changes import CaseNotFound
from crlmboard.ui.dialogs.erase import EraseDialog
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN

pytestmark = [pytest.mark.ui, pytest.mark.db]


def _answer(qtbot: QtBot, reason: str) -> Any:
    def exec_(dialog: EraseDialog) -> int:
        qtbot.addWidget(dialog)
        qtbot.keyClicks(dialog.confirm, dialog.mrn[:-1])
        assert not dialog.erase_button.isEnabled()
        qtbot.keyClicks(dialog.confirm, dialog.mrn[-1])
        assert not dialog.erase_button.isEnabled()  # no reason yet
        qtbot.keyClicks(dialog.reason, reason)
        assert dialog.erase_button.isEnabled()
        return 1

    return exec_


def _window(qtbot: QtBot, board: Board) -> MainWindow:
    board.cases.import_path(GOLDEN)
    board.maintenance.backup()
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    window.select_case("EX-0001")
    qtbot.waitUntil(lambda: window.workspace.case is not None)
    return window


def test_erase_from_the_case_menu(
    qtbot: QtBot, board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, board)
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: told.append(text))
    monkeypatch.setattr(EraseDialog, "exec", _answer(qtbot, "test patient in the live db"))
    action = next(a for a in window.menuBar().actions() if a.text() == "&Case").menu()
    erase = next(a for a in action.actions() if a.text() == "&Erase patient for good…")
    erase.trigger()
    qtbot.waitUntil(lambda: bool(told))
    assert window.workspace.case is None
    assert "was erased" in told[0] and "Older backups that still hold this patient" in told[0]
    with pytest.raises(CaseNotFound):
        board.cases.get("EX-0001")
    qtbot.waitUntil(lambda: window.model.rowCount() == 2)
    assert window.undo_stack.count() == 0


def test_a_refused_erasure_leaves_the_case_open_and_stored(
    qtbot: QtBot, board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, board)
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))
    monkeypatch.setattr(EraseDialog, "exec", _answer(qtbot, "asked by Ada Example herself"))
    window.erase_case()
    qtbot.waitUntil(lambda: bool(warned))
    assert "must not name the patient" in warned[0]
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0001"
    assert board.cases.get("EX-0001").patient.mrn == "EX-0001"
    assert window.model.rowCount() == 3
