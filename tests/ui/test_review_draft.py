"""The review dialog keeps a draft (issue 19 item 2): what is typed is stored as the user
types, on Esc and on close, restored when the review is opened again, also after a crash,
and gone once the review is signed or the draft is discarded.  Driven through the real
dialog on a real database file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.dialogs.review_dialog import ReviewDialog
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN, Calendar, turn_to

pytestmark = [pytest.mark.ui, pytest.mark.db]

PEOPLE = [
    {"name": "Dr Hepato", "role": "hepatobiliary_surgeon"},
    {"name": "Dr Onco", "role": "medical_oncologist"},
]
DECISION = "Resect segments 6 and 7 after two more cycles."


def open_board(path: Path) -> Board:
    board = Board.open(path, clock=Calendar())
    turn_to(board, "2026-12-01")  # the meeting's day: its review can be signed
    return board


@pytest.fixture
def meeting_id(db_path: Path) -> int:
    with Board.open(db_path, clock=Calendar()) as board:
        board.cases.import_path(GOLDEN)
        meeting = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
        board.meetings.add_to_agenda(meeting, "EX-0001", "Resect now?")
    return meeting


@pytest.fixture
def window(qtbot: QtBot, db_path: Path, meeting_id: int) -> Iterator[MainWindow]:
    board = open_board(db_path)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.show()
    yield shown
    board.close()


def on_review(action: Callable[[ReviewDialog], None]) -> None:
    """Run `action(dialog)` on the review dialog once it is shown (it runs modal)."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ReviewDialog):
            QTimer.singleShot(10, act)
            return
        action(dialog)

    QTimer.singleShot(0, act)


def review(window: MainWindow, meeting_id: int) -> None:
    """Meetings ▸ Review on the agenda's case (Enter on its row)."""
    window.pages.setCurrentWidget(window.meetings.view)
    window.meetings.reload(meeting_id)
    view = window.meetings.view.agenda_view
    view.setCurrentIndex(window.meetings.view.agenda_model.index(0, 0))
    view.setFocus()
    window.meetings.review()


def type_review(qtbot: QtBot, dialog: ReviewDialog) -> None:
    combo = dialog.recommendation_combo
    combo.setFocus()
    combo.setCurrentIndex(combo.findData("upfront_resection"))
    qtbot.keyClicks(dialog.decision_edit, DECISION)
    qtbot.keyClicks(dialog.rationale_edit, "Solitary lesion.")
    qtbot.keyClicks(dialog.next_review_edit, "2027-01-12")


def stored_draft(path: Path, meeting_id: int) -> Any:
    with Board.open(path, clock=Calendar()) as board:
        return board.reviews.draft(meeting_id, "EX-0001")


def test_esc_keeps_the_typed_review_and_opening_it_again_restores_it(
    window: MainWindow, qtbot: QtBot, meeting_id: int
) -> None:
    def first(dialog: ReviewDialog) -> None:
        type_review(qtbot, dialog)
        dialog.attendees_list.item(0).setCheckState(Qt.CheckState.Checked)
        qtbot.keyClick(dialog.decision_edit, Qt.Key.Key_Escape)  # at once: no pause waited

    on_review(first)
    review(window, meeting_id)
    draft = window.door.board.reviews.draft(meeting_id, "EX-0001")
    assert draft is not None and draft.decision == DECISION
    shown: dict[str, Any] = {}

    def again(dialog: ReviewDialog) -> None:
        shown["recommendation"] = dialog.recommendation_combo.currentData()
        shown["decision"] = dialog.decision_edit.toPlainText()
        shown["rationale"] = dialog.rationale_edit.toPlainText()
        shown["next"] = dialog.next_review_edit.text()
        shown["attendees"] = [a.name for a in dialog.attendees()]
        shown["status"] = dialog.draft_status.text()
        dialog.reject()

    on_review(again)
    review(window, meeting_id)
    assert shown.pop("status").startswith("Draft restored")
    assert shown == {
        "recommendation": "upfront_resection",
        "decision": DECISION,
        "rationale": "Solitary lesion.",
        "next": "2027-01-12",
        "attendees": ["Dr Hepato"],
    }


def test_the_draft_is_stored_as_one_types_and_survives_a_crash(
    qtbot: QtBot, db_path: Path, meeting_id: int
) -> None:
    board = open_board(db_path)
    window = MainWindow(board)
    window.show()
    started: list[Any] = []
    window.door.start_review(meeting_id, "EX-0001", started.append)
    dialog = ReviewDialog(window.door, started[0], window)
    dialog.show()
    qtbot.keyClicks(dialog.decision_edit, DECISION)
    # stored after a pause in typing, without closing anything
    qtbot.waitUntil(lambda: board.reviews.draft(meeting_id, "EX-0001") is not None)
    assert board.reviews.draft(meeting_id, "EX-0001").decision == DECISION  # type: ignore[union-attr]
    # the crash: the dialog and the window are destroyed without a close event, and the
    # process's end lets go of the database
    shiboken6.delete(dialog)
    shiboken6.delete(window)
    board.close()

    board = open_board(db_path)
    window = MainWindow(board)
    qtbot.addWidget(window)
    shown: dict[str, str] = {}

    def restored(dialog: ReviewDialog) -> None:
        shown["decision"] = dialog.decision_edit.toPlainText()
        dialog.reject()

    on_review(restored)
    review(window, meeting_id)
    assert shown == {"decision": DECISION}
    board.close()


def answer_question(button: QMessageBox.StandardButton, asked: list[str]) -> None:
    def act() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, act)
            return
        asked.append(box.text())
        found = box.button(button)
        assert found is not None
        found.click()

    QTimer.singleShot(0, act)


def test_discard_draft_asks_and_forgets_it(
    window: MainWindow, qtbot: QtBot, meeting_id: int, db_path: Path
) -> None:
    board = window.door.board
    board.reviews.save_draft(meeting_id, "EX-0001", {"decision": DECISION})
    asked: list[str] = []
    shown: dict[str, Any] = {}

    def discard(dialog: ReviewDialog) -> None:
        assert dialog.decision_edit.toPlainText() == DECISION
        answer_question(QMessageBox.StandardButton.No, asked)
        dialog.discard_button.click()  # No: nothing happens
        shown["kept"] = board.reviews.draft(meeting_id, "EX-0001") is not None
        answer_question(QMessageBox.StandardButton.Yes, asked)
        dialog.discard_button.click()
        shown["decision"] = dialog.decision_edit.toPlainText()
        dialog.reject()

    on_review(discard)
    review(window, meeting_id)
    assert shown == {"kept": True, "decision": ""}
    assert len(asked) == 2 and "EX-0001" in asked[0]
    assert board.reviews.draft(meeting_id, "EX-0001") is None
    history = board.maintenance.case_history("EX-0001")
    assert [e.action for e in history if e.table == "review_draft"] == ["insert", "delete"]


def test_signing_deletes_the_draft(
    window: MainWindow, qtbot: QtBot, meeting_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Yes)

    def sign(dialog: ReviewDialog) -> None:
        type_review(qtbot, dialog)
        dialog.accept()

    on_review(sign)
    review(window, meeting_id)
    board = window.door.board
    reviews = board.cases.get("EX-0001").reviews
    assert reviews and reviews[-1].signed and reviews[-1].decision == DECISION
    assert board.reviews.draft(meeting_id, "EX-0001") is None
    report = board.maintenance.check()
    assert report.ok, report.problems
