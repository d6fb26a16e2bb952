"""Case ▸ Erase patient for good (T39): the dialog offers Erase only once the MRN is typed
again and a reason given; the erasure closes the case, the list loses it, and the window
names the older backups that still hold it; a refusal leaves the case open and stored."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QAbstractItemView, QLabel, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.services.changes import CaseNotFound
from crlmboard.ui.dialogs.erase import EraseDialog
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN

pytestmark = [pytest.mark.ui, pytest.mark.db]


def _answer(qtbot: QtBot, reason: str, after: list[tuple[Any, ...]] | None = None) -> Any:
    """The dialog as a person fills it in and clicks Erase, then waits for the answer;
    `after` gets what the dialog shows then (a refused erasure leaves it open: it is
    cancelled after that)."""

    def exec_(dialog: EraseDialog) -> int:
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.keyClicks(dialog.confirm, dialog.mrn[:-1])
        assert not dialog.erase_button.isEnabled()
        qtbot.keyClicks(dialog.confirm, dialog.mrn[-1])
        assert not dialog.erase_button.isEnabled()  # no reason yet
        qtbot.keyClicks(dialog.reason, reason)
        assert dialog.erase_button.isEnabled()
        dialog.erase_button.click()
        qtbot.waitUntil(lambda: not dialog.busy)
        if after is not None:
            after.append(
                (
                    dialog.isVisible(),
                    dialog.confirm.text(),
                    dialog.reason.text(),
                    dialog.erase_button.isEnabled(),
                )
            )
        if dialog.isVisible():
            dialog.reject()
        return int(dialog.result())

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


def visible_text(widget: QWidget) -> str:
    """Every text a person sees in `widget`: labels, fields and the cells of tables."""
    texts = []
    for child in widget.findChildren(QWidget):
        if not child.isVisible():
            continue
        if isinstance(child, QLabel | QLineEdit):
            texts.append(child.text())
        elif isinstance(child, QAbstractItemView) and (model := child.model()) is not None:
            texts += [
                str(model.data(model.index(row, column)))
                for row in range(model.rowCount())
                for column in range(model.columnCount())
            ]
    return "\n".join(texts)


def test_erase_from_the_case_menu(
    qtbot: QtBot, board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, board)
    patient = board.cases.get("EX-0001").patient
    assert patient.family_name.upper() in visible_text(window.workspace).upper()
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
    # nothing of the erased patient stays on screen (the closed tabs showed it greyed)
    shown = visible_text(window.case_area).upper()
    assert "EX-0001" not in shown and patient.family_name.upper() not in shown
    window.select_case("EX-0002")  # the next case opens whole
    qtbot.waitUntil(lambda: window.workspace.case is not None)
    assert "EX-0002" in visible_text(window.workspace)
    for page in (window.workspace.plan, window.workspace.reviews):  # every tab shows again
        window.workspace.setCurrentWidget(page)
        assert page.isVisible()


def test_a_refused_erasure_leaves_the_case_open_and_stored(
    qtbot: QtBot, board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, board)
    warned: list[str] = []

    def warning(parent: Any, _title: str, text: str) -> None:
        assert isinstance(parent, EraseDialog) and parent.isVisible()  # over the dialog
        warned.append(text)

    after: list[tuple[Any, ...]] = []
    monkeypatch.setattr(QMessageBox, "warning", warning)
    reason = "asked by Ada Example herself"
    monkeypatch.setattr(EraseDialog, "exec", _answer(qtbot, reason, after))
    window.erase_case()
    # the dialog stays open with what was typed, to reword the reason (it was closed, and
    # the MRN and reason had to be typed again)
    assert after == [(True, "EX-0001", reason, True)]
    assert warned and "must not name the patient" in warned[0]
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0001"
    assert board.cases.get("EX-0001").patient.mrn == "EX-0001"
    assert window.model.rowCount() == 3


def test_after_a_refusal_the_reason_is_reworded_and_the_erasure_goes_through(
    qtbot: QtBot, board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, board)
    warned: list[str] = []
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: told.append(text))

    def exec_(dialog: EraseDialog) -> int:
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.keyClicks(dialog.confirm, dialog.mrn)
        qtbot.keyClicks(dialog.reason, "asked by Ada Example herself")
        dialog.erase_button.click()
        qtbot.waitUntil(lambda: bool(warned) and not dialog.busy)
        dialog.reason.clear()  # the MRN stays as typed
        qtbot.keyClicks(dialog.reason, "test patient in the live db")
        dialog.erase_button.click()
        qtbot.waitUntil(lambda: not dialog.busy)
        return int(dialog.result())

    monkeypatch.setattr(EraseDialog, "exec", exec_)
    window.erase_case()
    assert len(warned) == 1 and told and "was erased" in told[0]
    with pytest.raises(CaseNotFound):
        board.cases.get("EX-0001")


def test_the_erase_dialog_names_the_patient_it_erases(
    qtbot: QtBot, board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What cannot be undone says whom it is about in the patient's words, not only by an
    MRN to be typed again: the name and birth date in the title and the patient banner."""
    window = _window(qtbot, board)
    patient = board.cases.get("EX-0001").patient
    seen: dict[str, str] = {}

    def look(dialog: EraseDialog) -> int:
        qtbot.addWidget(dialog)
        seen["title"] = dialog.windowTitle()
        seen["text"] = visible_text(dialog) if dialog.show() is None else ""
        dialog.reject()
        return 0

    monkeypatch.setattr(EraseDialog, "exec", look)
    window.erase_case()
    name = f"{patient.family_name.upper()}, {patient.given_name}"
    assert name in seen["title"]
    assert name in seen["text"] and "EX-0001" in seen["text"]
    assert str(patient.birth_date) in seen["text"]
    assert window.workspace.case is not None  # cancelled: nothing erased
