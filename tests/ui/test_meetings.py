"""The Meetings and Follow-up pages driven like a coordinator would: a meeting created in its
dialog, cases put on the agenda with their questions, reordered, checked for readiness, held
back, reviewed and signed, amended, followed up; the board figures exported as CSV."""

from __future__ import annotations

import csv
import getpass
import json
import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from crlmboard.domain.models import Role
from crlmboard.domain.validation import InvalidInput
from crlmboard.services import Board
from crlmboard.services.changes import ChangeSet
from crlmboard.ui.dialogs.figures_dialog import FiguresDialog
from crlmboard.ui.dialogs.meeting_dialog import (
    AgendaDialog,
    MeetingDialog,
    NoteDialog,
    ReadinessDialog,
)
from crlmboard.ui.dialogs.review_dialog import FollowUpDialog, ReviewDialog
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.models.meetings import AgendaModel, MeetingListModel, WorklistModel
from crlmboard.ui.views.meetings import FollowUpLayout, MeetingsLayout
from tests.conftest import GOLDEN, TODAY, turn_to

pytestmark = [pytest.mark.ui, pytest.mark.db]

PEOPLE = [
    {"name": "Dr Hepato", "role": "hepatobiliary_surgeon"},
    {"name": "Dr Onco", "role": "medical_oncologist"},
    {"name": "Dr Radio", "role": "radiologist"},
    {"name": "Coordinator", "role": "coordinator"},
]


@pytest.fixture
def window(qtbot: QtBot, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.show()
    yield shown


@pytest.fixture
def meeting(window: MainWindow) -> tuple[int, int]:
    """A meeting on 2026-12-01 with three cases, and the one after it (empty)."""
    board = window.door.board
    first = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    second = board.meetings.create("2026-12-08", "16:00", "Room 3", PEOPLE).meeting_id
    for mrn, question in (
        ("EX-0001", "Resect now?"),
        ("EX-0002", "Which regimen?"),
        ("EX-0003", "Ready for hepatectomy?"),
    ):
        board.meetings.add_to_agenda(first, mrn, question)
    turn_to(board, "2026-12-01")  # the first meeting's day: its reviews can be signed
    window.meetings.reload(first)
    window.pages.setCurrentWidget(window.meetings.view)
    return first, second


def when_dialog(action: Callable[[Any], None], kind: type[QDialog] = QDialog) -> None:
    """Run `action(dialog)` on the next modal dialog of `kind` that opens."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, kind):
            QTimer.singleShot(20, act)
            return
        action(dialog)

    QTimer.singleShot(0, act)


def answer_yes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []

    def question(_parent: Any, _title: str, text: str, *_a: Any) -> Any:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def agenda_column(window: MainWindow, column: int) -> list[str]:
    model = window.meetings.view.agenda_model
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def select_agenda_row(window: MainWindow, mrn: str) -> None:
    row = agenda_column(window, 1).index(mrn)
    window.meetings.view.agenda_view.setCurrentIndex(
        window.meetings.view.agenda_model.index(row, 0)
    )


def test_create_a_meeting_through_the_dialog(window: MainWindow, qtbot: QtBot) -> None:
    refused: list[str] = []

    def fill(dialog: MeetingDialog) -> None:
        dialog.date_edit.clear()
        qtbot.keyClicks(dialog.date_edit, "2026-12-32")
        dialog.accept()  # refused: the reason is shown, the dialog stays open
        refused.append(dialog.problems.text())
        dialog.date_edit.clear()
        qtbot.keyClicks(dialog.date_edit, "2026-12-15")
        dialog.time_edit.setText("16:30")
        dialog.location_edit.setText("Seminar room 1")
        dialog.add_attendee("Dr Hepato", Role.HEPATOBILIARY_SURGEON)
        dialog.add_attendee("Dr Onco", Role.MEDICAL_ONCOLOGIST)
        refused.append(dialog.quorum_line.text.text())
        dialog.accept()

    when_dialog(fill, MeetingDialog)
    window.meetings.menu_actions["new"].trigger()
    assert refused[0].startswith("Date: ")  # the field as the form names it
    assert refused[1] == (
        "Quorum incomplete: 2/5 core roles — missing radiologist, pathologist, coordinator"
    )
    [meeting] = window.door.board.meetings.list()
    assert (meeting.date.isoformat(), meeting.fields.time, meeting.fields.location) == (
        "2026-12-15",
        "16:30",
        "Seminar room 1",
    )
    assert [(a.name, a.role) for a in meeting.attendees] == [
        ("Dr Hepato", Role.HEPATOBILIARY_SURGEON),
        ("Dr Onco", Role.MEDICAL_ONCOLOGIST),
    ]
    model = window.meetings.view.list_model
    assert model.data(model.index(0, 3)) == "2/5 core roles"
    assert "missing radiologist" in window.meetings.view.quorum_line.text.text()
    assert window.meetings.selected_meeting_id() == meeting.id

    def add_pathologist(dialog: MeetingDialog) -> None:
        dialog.add_attendee("Dr Patho", Role.PATHOLOGIST)
        dialog.accept()

    when_dialog(add_pathologist, MeetingDialog)
    window.meetings.edit_meeting()
    assert model.data(model.index(0, 3)) == "3/5 core roles"


def test_a_new_meeting_from_the_last_one_opens_without_a_false_problem(
    window: MainWindow, meeting: tuple[int, int], qtbot: QtBot
) -> None:
    """New meeting copies the attendees of the last meeting; adding each row used to check
    the row before its role box existed and showed "Attendee row 4, Role: must be one of:
    hepatobiliary_surgeon, …" under a correct list (seen in the screenshots)."""
    seen: list[tuple[bool, str, int]] = []

    def look(dialog: MeetingDialog) -> None:
        seen.append((dialog.problems.isVisible(), dialog.problems.text(), dialog.table.rowCount()))
        dialog.reject()

    when_dialog(look, MeetingDialog)
    window.meetings.new_meeting()
    qtbot.waitUntil(lambda: bool(seen))
    assert seen == [(False, "", 4)]


def test_add_the_open_case_to_the_agenda_with_its_question(
    window: MainWindow, qtbot: QtBot
) -> None:
    board = window.door.board
    first = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    window.meetings.reload(first)
    window.select_case("EX-0002")
    shown: list[str] = []

    def fill(dialog: AgendaDialog) -> None:
        assert dialog.mrn_edit.text() == "EX-0002"
        dialog.accept()  # no question: refused
        shown.append(dialog.problems.text())
        qtbot.keyClicks(dialog.question_edit, "Start conversion chemotherapy?")
        qtbot.keyClick(dialog.question_edit, Qt.Key.Key_Return)  # Enter saves

    when_dialog(fill, AgendaDialog)
    window.meetings.menu_actions["add"].trigger()
    assert window.meetings.menu_actions["add"].shortcut().toString() == "Ctrl+Shift+A"
    assert "question: is required" in shown[0]
    [entry] = board.meetings.get(first).agenda
    assert (entry.mrn, entry.question) == ("EX-0002", "Start conversion chemotherapy?")
    assert agenda_column(window, 3) == ["Start conversion chemotherapy?"]
    # the case list's next-meeting column follows
    found: list[int | None] = []
    window.model.locate("EX-0002", found.append)
    row = found[0]
    assert row is not None
    assert window.model.data(window.model.index(row, 3)) == "2026-12-01"


def test_the_case_just_added_to_the_agenda_is_the_selected_row(
    qtbot: QtBot, threaded: None, board: Board
) -> None:
    """After Add open case to agenda, the row selected (what Question…, Review… and Hold
    back… act on) is the case just added, with the door's real worker as in the app.  The
    new row was selected before the meeting had been read again, so the first row stayed
    selected: Question… then edited another patient's question."""
    board.cases.import_path(GOLDEN)
    first = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    board.meetings.add_to_agenda(first, "EX-0001", "Resect now?")
    board.meetings.add_to_agenda(first, "EX-0002", "Which regimen?")
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()

    def settle() -> None:
        qtbot.waitUntil(lambda: window.door.pending == 0, timeout=60_000)

    settle()
    window.select_case("EX-0003")
    settle()
    window.pages.setCurrentWidget(window.meetings.view)
    window.meetings.reload(first)
    settle()
    qtbot.waitUntil(lambda: len(agenda_column(window, 1)) == 2)
    assert window.meetings.selected_entry().mrn == "EX-0001"  # type: ignore[union-attr]

    def fill(dialog: AgendaDialog) -> None:
        qtbot.keyClicks(dialog.question_edit, "Ready for hepatectomy?")
        qtbot.keyClick(dialog.question_edit, Qt.Key.Key_Return)

    when_dialog(fill, AgendaDialog)
    window.meetings.menu_actions["add"].trigger()
    qtbot.waitUntil(lambda: len(agenda_column(window, 1)) == 3, timeout=60_000)
    settle()
    QApplication.processEvents()
    settle()
    entry = window.meetings.selected_entry()
    assert entry is not None and entry.mrn == "EX-0003"


def test_reorder_the_agenda(window: MainWindow, meeting: tuple[int, int]) -> None:
    first, _ = meeting
    select_agenda_row(window, "EX-0001")
    window.meetings.view.down_button.click()
    assert [e.mrn for e in window.door.board.meetings.get(first).agenda] == [
        "EX-0002",
        "EX-0001",
        "EX-0003",
    ]
    assert agenda_column(window, 1) == ["EX-0002", "EX-0001", "EX-0003"]
    assert window.meetings.selected_entry().mrn == "EX-0001"  # type: ignore[union-attr]
    window.meetings.menu_actions["up"].trigger()
    window.meetings.menu_actions["up"].trigger()  # already first: nothing happens
    assert [e.mrn for e in window.door.board.meetings.get(first).agenda] == [
        "EX-0001",
        "EX-0002",
        "EX-0003",
    ]
    # a drag of the last row onto the first moves it before the first
    model = window.meetings.view.agenda_model
    data = model.mimeData([model.index(2, 0)])
    model.dropMimeData(data, Qt.DropAction.MoveAction, -1, -1, model.index(0, 0))
    QApplication.processEvents()
    assert [e.mrn for e in window.door.board.meetings.get(first).agenda] == [
        "EX-0003",
        "EX-0001",
        "EX-0002",
    ]


def test_prepare_lists_what_a_case_lacks(window: MainWindow, meeting: tuple[int, int]) -> None:
    board = window.door.board
    document = json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8"))
    document["patient"]["mrn"] = "EX-0009"
    del document["molecular"]
    board.cases.import_text(json.dumps(document))
    first, _ = meeting
    board.meetings.add_to_agenda(first, "EX-0009", "Work-up complete?")
    window.meetings.reload(first)
    seen: dict[str, list[str]] = {}

    def look(dialog: ReadinessDialog) -> None:
        for row in range(dialog.tree.topLevelItemCount()):
            top = dialog.tree.topLevelItem(row)
            assert top is not None
            seen[top.text(0).split()[1]] = [
                top.child(i).text(1)  # type: ignore[union-attr]
                for i in range(top.childCount())
            ]
        dialog.reject()

    when_dialog(look, ReadinessDialog)
    window.meetings.menu_actions["prepare"].trigger()
    assert "DATA.MOLECULAR_INCOMPLETE" in seen["EX-0009"]
    assert "DATA.MOLECULAR_INCOMPLETE" not in seen["EX-0001"]
    readiness = dict(zip(agenda_column(window, 1), agenda_column(window, 5), strict=True))
    assert "molecular profile incomplete" in readiness["EX-0009"]


def test_hold_back_from_the_readiness_check(
    window: MainWindow, meeting: tuple[int, int], qtbot: QtBot
) -> None:
    first, second = meeting
    notes: list[str] = []

    def note(dialog: NoteDialog) -> None:
        dialog.accept()  # no note: refused
        notes.append(dialog.problems.text())
        qtbot.keyClicks(dialog.edit, "awaiting MRI")
        dialog.accept()

    def readiness(dialog: ReadinessDialog) -> None:
        dialog.select_case("EX-0002")
        when_dialog(note, NoteDialog)
        dialog.hold_button.click()
        notes.append(dialog.summary.text())
        dialog.reject()

    when_dialog(readiness, ReadinessDialog)
    window.meetings.prepare()
    assert notes[0].startswith("Say why the case is held back")
    assert "2 case(s) on the agenda" in notes[1]  # the held case left the check
    statuses = {e.mrn: (e.status, e.note) for e in window.door.board.meetings.get(first).agenda}
    assert statuses["EX-0002"] == ("held", "awaiting MRI")
    assert [e.mrn for e in window.door.board.meetings.get(second).agenda] == ["EX-0002"]
    assert "held back: awaiting MRI" in agenda_column(window, 5)


def test_hold_back_from_the_agenda(window: MainWindow, meeting: tuple[int, int]) -> None:
    _first, second = meeting
    select_agenda_row(window, "EX-0003")

    def note(dialog: NoteDialog) -> None:
        dialog.edit.setText("patient unwell")
        dialog.accept()

    when_dialog(note, NoteDialog)
    window.meetings.menu_actions["hold"].trigger()
    assert [e.mrn for e in window.door.board.meetings.get(second).agenda] == ["EX-0003"]
    assert agenda_column(window, 4)[2] == "held back"
    window.meetings.select_meeting(second)
    assert agenda_column(window, 1) == ["EX-0003"]
    assert agenda_column(window, 3) == ["Ready for hepatectomy?"]


def test_hold_back_and_question_name_the_patient(
    window: MainWindow, meeting: tuple[int, int]
) -> None:
    """Hold back… and Question… say whose case they change by name as well as MRN (they
    said "case EX-0003" only, while the agenda row reads by name)."""
    select_agenda_row(window, "EX-0003")
    patient = window.door.board.cases.get("EX-0003").patient
    name = f"{(patient.family_name or '').upper()}, {patient.given_name}"
    prompts: list[str] = []

    def look(dialog: NoteDialog) -> None:
        prompts.append("\n".join(label.text() for label in dialog.findChildren(QLabel)))
        dialog.reject()

    for action in ("hold", "question"):
        when_dialog(look, NoteDialog)
        window.meetings.menu_actions[action].trigger()
    assert len(prompts) == 2
    for prompt in prompts:
        assert name in prompt and "EX-0003" in prompt, prompt


def test_review_dialog_signs_the_review(
    window: MainWindow, meeting: tuple[int, int], qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = meeting
    asked = answer_yes(monkeypatch)
    window.select_case("EX-0001")
    window.pages.setCurrentWidget(window.meetings.view)
    select_agenda_row(window, "EX-0001")
    shown: dict[str, Any] = {}

    def review(dialog: ReviewDialog) -> None:
        shown["findings"] = dialog.overview.findings.topLevelItemCount()
        shown["signer"] = dialog.signer_label.text()
        shown["password shown"] = dialog.password_edit.isVisibleTo(dialog)
        shown["attendees"] = len(dialog.attendees())
        dialog.accept()  # no decision: refused before asking to sign
        shown["refused"] = dialog.problems.text()
        combo = dialog.recommendation_combo
        combo.setCurrentIndex(combo.findData("upfront_resection"))
        qtbot.keyClicks(dialog.decision_edit, "Resect segment 6.")
        dialog.rationale_edit.setPlainText("Solitary lesion.")
        dialog.add_action()
        dialog.actions_table.item(0, 0).setText("Book theatre")  # type: ignore[union-attr]
        dialog.actions_table.item(0, 1).setText("Coordinator")  # type: ignore[union-attr]
        dialog.actions_table.item(0, 2).setText("2026-12-05")  # type: ignore[union-attr]
        dialog.next_review_edit.setText("2027-01-12")
        dialog.accept()

    when_dialog(review, ReviewDialog)
    qtbot.keyClick(window.meetings.view.agenda_view, Qt.Key.Key_Return)  # Enter reviews the case
    assert shown["findings"] >= 1
    # the signer is the OS account (no name typed in), with the meaning of the signature;
    # a plain SQLite file has no password to re-enter
    me = getpass.getuser()
    assert me in shown["signer"] and "approved as the board's decision" in shown["signer"]
    assert not shown["password shown"]
    assert shown["attendees"] == 0  # nobody pre-ticked present
    assert "Decision: record the board's decision" in shown["refused"]
    assert "never changed" in asked[0]
    review = window.door.board.cases.get("EX-0001").reviews[-1]
    assert review.signed and review.signed_by == me
    assert review.recommendation == "upfront_resection"
    assert [(a.text, a.owner) for a in review.actions] == [("Book theatre", "Coordinator")]
    assert review.evaluation is not None and review.evaluation["as_of"] == "2026-12-01"
    assert agenda_column(window, 4)[0] == "discussed, signed"
    # the open case's Reviews tab shows it, signed and pending its follow-up
    window.workspace.setCurrentWidget(window.workspace.reviews)
    tab = window.workspace.reviews.model
    assert tab.rowCount() == 1
    columns = {
        tab.headerData(c, Qt.Orientation.Horizontal): tab.data(tab.index(0, c))
        for c in range(tab.columnCount())
    }
    assert columns["Signed"].startswith(f"{getpass.getuser()}, ")
    assert columns["Follow-up"] == "pending"
    assert not window.undo_stack.canUndo()

    # Review… on a discussed row offers an amendment, which names the review it corrects
    def amend(dialog: ReviewDialog) -> None:
        assert dialog.decision_edit.toPlainText() == "Resect segment 6."
        dialog.decision_edit.setPlainText("Resect segments 6 and 7.")
        dialog.accept()

    when_dialog(amend, ReviewDialog)
    window.meetings.view.review_button.click()
    reviews = window.door.board.cases.get("EX-0001").reviews
    assert [r.decision for r in reviews] == ["Resect segment 6.", "Resect segments 6 and 7."]
    assert reviews[1].amends == 0
    assert first == window.meetings.selected_meeting_id()


def test_the_question_before_signing_names_the_patient_and_the_recommendation(
    window: MainWindow, meeting: tuple[int, int], qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last question before a signature that is never changed says whose review it is
    (name and MRN) and which recommendation it freezes: the focus opens in the
    Recommendation list, where a letter typed for the decision picks a strategy unseen.
    It named only the MRN."""
    asked: list[str] = []

    def question(_parent: Any, _title: str, text: str, *_a: Any) -> Any:
        asked.append(text)
        return QMessageBox.StandardButton.No  # not signed

    monkeypatch.setattr(QMessageBox, "question", question)
    window.select_case("EX-0001")
    window.pages.setCurrentWidget(window.meetings.view)
    select_agenda_row(window, "EX-0001")
    patient = window.door.board.cases.get("EX-0001").patient

    def review(dialog: ReviewDialog) -> None:
        combo = dialog.recommendation_combo
        combo.setCurrentIndex(combo.findData("upfront_resection"))
        qtbot.keyClicks(dialog.decision_edit, "Resect segment 6.")
        dialog.accept()
        dialog.reject()

    when_dialog(review, ReviewDialog)
    qtbot.keyClick(window.meetings.view.agenda_view, Qt.Key.Key_Return)
    assert len(asked) == 1
    assert f"{patient.family_name.upper()}, {patient.given_name}" in asked[0]
    assert "EX-0001" in asked[0]
    assert "Recommendation: Upfront resection" in asked[0]
    assert not window.door.board.cases.get("EX-0001").reviews


def test_review_actions_have_room_for_an_owner_and_name_no_other_date_format(
    window: MainWindow, meeting: tuple[int, int], qtbot: QtBot
) -> None:
    """Seen in the screenshots: the Owner column was as narrow as its heading, and the due
    column said "YYYY-MM-DD" where the dialog takes and shows the locale's dates."""
    window.select_case("EX-0001")
    window.pages.setCurrentWidget(window.meetings.view)
    select_agenda_row(window, "EX-0001")
    seen: dict[str, Any] = {}

    def look(dialog: ReviewDialog) -> None:
        table = dialog.actions_table
        dialog.add_action()
        metrics = table.fontMetrics()
        seen["owner"] = table.columnWidth(1) >= metrics.horizontalAdvance("Medical oncology")
        seen["headers"] = [table.horizontalHeaderItem(c).text() for c in range(3)]  # type: ignore[union-attr]
        dialog.reject()

    when_dialog(look, ReviewDialog)
    window.meetings.review()
    qtbot.waitUntil(lambda: bool(seen))
    assert seen == {"owner": True, "headers": ["Action", "Owner", "Due"]}


def test_attendance_boxes_are_visible_on_a_dark_palette(
    window: MainWindow, meeting: tuple[int, int], qtbot: QtBot, dark_palette: None
) -> None:
    """Fusion outlines a check box a shade darker than the window colour: on a dark palette
    the review's attendance boxes were near-invisible (seen in the dark screenshots)."""
    from PySide6.QtGui import QPalette

    from tests.ui.test_forms import _contrast

    window.select_case("EX-0001")
    window.pages.setCurrentWidget(window.meetings.view)
    select_agenda_row(window, "EX-0001")
    seen: list[float] = []

    def look(dialog: ReviewDialog) -> None:
        palette = dialog.attendees_list.palette()
        outline = palette.color(QPalette.ColorRole.Window).darker(140)
        seen.append(_contrast(outline, palette.color(QPalette.ColorRole.Base)))
        dialog.reject()

    when_dialog(look, ReviewDialog)
    window.meetings.review()
    qtbot.waitUntil(lambda: bool(seen))
    assert seen[0] >= 3


def test_amend_from_the_reviews_tab(
    window: MainWindow, meeting: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = meeting
    board = window.door.board
    board.reviews.sign(
        board.reviews.start(first, "EX-0002"),
        recommendation="conversion_chemotherapy",
        decision="FOLFOX.",
    )
    answer_yes(monkeypatch)
    window.select_case("EX-0002")
    window.workspace.setCurrentWidget(window.workspace.reviews)
    window.workspace.reviews.select_row(0)

    def amend(dialog: ReviewDialog) -> None:
        assert dialog.amends == 0
        dialog.decision_edit.setPlainText("FOLFOXIRI.")
        dialog.accept()

    when_dialog(amend, ReviewDialog)
    window.workspace.reviews.edit_button.click()  # "Amend…"
    reviews = board.cases.get("EX-0002").reviews
    assert [(r.decision, r.amends) for r in reviews] == [("FOLFOX.", None), ("FOLFOXIRI.", 0)]
    tab = window.workspace.reviews.model
    assert tab.rowCount() == 2
    assert tab.data(tab.index(1, 4)) == "#1"


def test_follow_up_records_not_done_with_a_reason(
    window: MainWindow, meeting: tuple[int, int]
) -> None:
    first, _ = meeting
    board = window.door.board
    board.reviews.sign(
        board.reviews.start(first, "EX-0001"),
        recommendation="upfront_resection",
        decision="Resect.",
    )
    window.select_case("EX-0001")
    window.workspace.setCurrentWidget(window.workspace.reviews)
    window.workspace.reviews.select_row(0)
    shown: list[str] = []

    def follow_up(dialog: FollowUpDialog) -> None:
        dialog.status_combo.setCurrentIndex(dialog.status_combo.findData("not_done"))
        dialog.accept()  # no reason: refused
        shown.append(dialog.problems.text())
        dialog.reason_combo.setCurrentIndex(dialog.reason_combo.findData("patient_choice"))
        dialog.note_edit.setText("declined surgery")
        dialog.accept()

    when_dialog(follow_up, FollowUpDialog)
    window.workspace.reviews.add_button.click()  # "Follow-up…"
    assert "reason: required" in shown[0]
    recorded = board.cases.get("EX-0001").reviews[0].follow_up
    assert recorded is not None
    assert (recorded.status, recorded.reason, recorded.note) == (
        "not_done",
        "patient_choice",
        "declined surgery",
    )
    tab = window.workspace.reviews.model
    assert tab.data(tab.index(0, 3)).startswith("not done — patient choice")


def test_follow_up_worklist_opens_the_case(
    window: MainWindow, meeting: tuple[int, int], qtbot: QtBot
) -> None:
    board = window.door.board
    turn_to(board, TODAY)  # a week before the fixture's meeting; the overdue days count from it
    past = board.meetings.create("2026-11-10", "16:00", "Room 3", PEOPLE).meeting_id
    board.meetings.add_to_agenda(past, "EX-0003", "Hepatectomy?")
    board.reviews.sign(
        board.reviews.start(past, "EX-0003"),
        recommendation="upfront_resection",
        decision="Resect.",
        actions=[{"text": "Book theatre", "due": "2026-11-20"}],
    )
    page = window.follow_up.view
    window.pages.setCurrentWidget(page)
    assert page.model.rowCount() == 1
    assert page.model.data(page.model.index(0, 0)) == "EX-0003"
    assert page.model.data(page.model.index(0, 5)) == "4 days"
    page.worklist.setCurrentIndex(page.proxy.index(0, 0))
    qtbot.keyClick(page.worklist, Qt.Key.Key_Return)
    assert window.pages.currentWidget() is window.splitter
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0003"

    def done(dialog: FollowUpDialog) -> None:
        dialog.status_combo.setCurrentIndex(dialog.status_combo.findData("done"))
        dialog.accept()

    window.pages.setCurrentWidget(page)
    page.worklist.setCurrentIndex(page.proxy.index(0, 0))
    when_dialog(done, FollowUpDialog)
    page.follow_button.click()
    assert page.model.rowCount() == 0


def test_figures_dialog_exports_csv(
    window: MainWindow, meeting: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = meeting
    board = window.door.board
    board.reviews.sign(
        board.reviews.start(first, "EX-0001"),
        recommendation="upfront_resection",
        decision="Resect.",
    )
    target = tmp_path / "figures.csv"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), "CSV (*.csv)")
    )
    figures: dict[str, str] = {}

    def export(dialog: FiguresDialog) -> None:
        dialog.start_edit.setText("2026-12-31")
        dialog.end_edit.setText("2026-01-01")
        dialog.load()
        figures["refused"] = dialog.problems.text()
        dialog.start_edit.setText("2026-01-01")
        dialog.end_edit.setText("2026-12-31")
        dialog.load()
        model = dialog.model
        figures.update(
            {
                model.data(model.index(r, 0), Qt.ItemDataRole.UserRole): model.data(
                    model.index(r, 1)
                )
                for r in range(model.rowCount())
            }
        )
        dialog.export_button.click()
        dialog.reject()

    when_dialog(export, FiguresDialog)
    window.meetings.menu_actions["figures"].trigger()
    assert "To: must not be before the start of the period" in figures["refused"]
    assert figures["cases_discussed"] == "1"
    assert figures["core_roles_present_2026-12-01"] == "4/5"
    rows = list(csv.reader(target.read_text("utf-8").splitlines()))
    assert rows[0] == ["figure", "value"]
    assert ["cases_discussed", "1"] in rows
    assert target.read_text("utf-8") == board.meetings.figures_csv(
        date(2026, 1, 1), date(2026, 12, 31)
    )


def test_close_meeting_moves_undiscussed_cases(
    window: MainWindow, meeting: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = meeting
    board = window.door.board
    board.reviews.sign(
        board.reviews.start(first, "EX-0001"),
        recommendation="upfront_resection",
        decision="Resect.",
    )
    asked = answer_yes(monkeypatch)
    window.meetings.reload(first)
    window.meetings.menu_actions["close"].trigger()
    assert "EX-0002, EX-0003" in asked[0]
    assert [e.mrn for e in board.meetings.get(second).agenda] == ["EX-0002", "EX-0003"]
    assert agenda_column(window, 4) == ["discussed, signed", "moved on", "moved on"]


def test_meeting_pack_is_written_off_the_gui_thread(
    window: MainWindow,
    meeting: tuple[int, int],
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "pack.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), "PDF (*.pdf)")
    )
    window.meetings.menu_actions["pack"].trigger()
    qtbot.waitUntil(lambda: target.exists() and target.stat().st_size > 0, timeout=30000)
    assert target.read_bytes().startswith(b"%PDF")


@pytest.mark.usefixtures("threaded")
def test_a_meeting_pack_can_be_cancelled_and_writes_nothing(
    qtbot: QtBot, board: Board, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancel in the progress dialog stops the pack between cases: no PDF (nor a part of
    one) in the folder, and the status bar says so."""
    board.cases.import_path(GOLDEN)
    first = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    for mrn in ("EX-0001", "EX-0002", "EX-0003"):
        board.meetings.add_to_agenda(first, mrn, "Resect now?")
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.door.pending == 0, timeout=60_000)
    window.pages.setCurrentWidget(window.meetings.view)
    window.meetings.reload(first)
    qtbot.waitUntil(lambda: window.door.pending == 0, timeout=60_000)

    folder = tmp_path / "packs"
    folder.mkdir()
    target = folder / "pack.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), "PDF (*.pdf)")
    )
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *_a: warned.append(text))
    # the worker holds at the first case it reads until Cancel has been pressed
    reading, go = threading.Event(), threading.Event()
    get = board.meetings.cases.get

    def held(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread() and not reading.is_set():
            reading.set()
            go.wait(60)
        return get(*args, **kwargs)

    monkeypatch.setattr(board.meetings.cases, "get", held)
    window.meetings.menu_actions["pack"].trigger()
    try:
        qtbot.waitUntil(reading.is_set, timeout=60_000)
        dialog = window.door.progress_dialog
        assert isinstance(dialog, QProgressDialog) and dialog.isVisible()
        cancel = dialog.findChild(QPushButton)
        assert cancel is not None and cancel.isVisible(), "the meeting pack offers no Cancel"
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    finally:
        go.set()
    qtbot.waitUntil(
        lambda: window.door.pending == 0 and window.door.progress_dialog is None, timeout=60_000
    )
    assert window.statusBar().currentMessage() == "Meeting pack cancelled: nothing written."
    assert warned == []
    assert list(folder.iterdir()) == []


def test_item_models_pass_the_model_tester(
    window: MainWindow, meeting: tuple[int, int], qtmodeltester: Any
) -> None:
    first, _ = meeting
    board = window.door.board
    board.reviews.sign(
        board.reviews.start(first, "EX-0001"),
        recommendation="upfront_resection",
        decision="Resect.",
        actions=[{"text": "Book theatre", "due": "2026-11-20"}],
    )
    window.meetings.reload(first)
    qtmodeltester.check(window.meetings.view.list_model)
    qtmodeltester.check(window.meetings.view.proxy)
    qtmodeltester.check(window.meetings.view.agenda_model)
    window.follow_up.reload()
    qtmodeltester.check(window.follow_up.view.model)
    qtmodeltester.check(window.follow_up.view.proxy)
    dialog = FiguresDialog(window.door, window)
    qtmodeltester.check(dialog.model)
    dialog.deleteLater()
    for empty in (MeetingListModel(), AgendaModel(), WorklistModel()):
        qtmodeltester.check(empty)
    assert window.meetings.view.agenda_model.flags(QModelIndex()) == Qt.ItemFlag.ItemIsDropEnabled


def test_the_meetings_page_reads_nothing_until_it_is_shown(
    qtbot: QtBot, board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    board.cases.import_path(GOLDEN)
    past = board.meetings.create("2026-11-10", "16:00", "Room 1", PEOPLE[:2]).meeting_id
    first = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    later = board.meetings.create("2026-12-08").meeting_id
    items = {
        mrn: board.meetings.add_to_agenda(first, mrn, "Resect?").item_id
        for mrn in ("EX-0001", "EX-0002", "EX-0003")
    }
    board.meetings.hold_back(items["EX-0002"], "awaiting MRI")
    turn_to(board, "2026-12-01")  # signed on the meeting's day
    board.reviews.sign(
        board.reviews.start(first, "EX-0001"),
        recommendation="upfront_resection",
        decision="Resect.",
    )
    turn_to(board, TODAY)  # and the page looked at as the rest of this file does
    read: list[str] = []
    for name in ("listing", "list", "get", "prepare"):
        method = getattr(board.meetings, name)
        monkeypatch.setattr(
            board.meetings, name, lambda *a, _m=method, _n=name, **k: read.append(_n) or _m(*a, **k)
        )
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    page = window.meetings
    assert read == [] and page.view.list_model.rowCount() == 0  # nothing read at start
    assert page.menu_actions["edit"].isEnabled()  # offered; checked when triggered
    page.invalidate()  # a case saved while the page is hidden: still nothing read
    assert read == []

    window.pages.setCurrentWidget(page.view)
    # one light list, the selected meeting in full, its readiness (which reads it again)
    assert read == ["listing", "get", "prepare", "get"]
    model = page.view.list_model
    assert [
        model.data(model.index(r, 0), Qt.ItemDataRole.UserRole) for r in range(model.rowCount())
    ] == [first, later, past]
    assert [model.data(model.index(r, 2)) for r in range(3)] == ["2", "1", "0"]
    assert (
        model.data(model.index(0, 2), Qt.ItemDataRole.ToolTipRole)
        == "2 case(s) on the agenda, 1 discussed"
    )
    assert [model.data(model.index(r, 3)) for r in range(3)] == [
        "4/5 core roles",
        "0/5 core roles",
        "2/5 core roles",
    ]
    assert (
        model.data(model.index(2, 3), Qt.ItemDataRole.ToolTipRole)
        == "Missing: Radiologist, Pathologist, Coordinator"
    )
    assert model.data(model.index(0, 4)) == "Room 3"
    assert page.selected_meeting_id() == first
    assert agenda_column(window, 1) == ["EX-0001", "EX-0002", "EX-0003"]
    assert agenda_column(window, 4) == ["discussed, signed", "held back", "planned"]
    assert not page.menu_actions["hold"].isEnabled()  # the first entry is discussed

    # changed while hidden: read again when next shown
    window.pages.setCurrentWidget(window.splitter)
    board.meetings.create("2026-12-15")
    page.invalidate()
    assert model.rowCount() == 3
    window.pages.setCurrentWidget(page.view)
    assert model.rowCount() == 4 and page.selected_meeting_id() == first


def test_a_meeting_action_from_the_menu_reads_the_page_first(window: MainWindow) -> None:
    board = window.door.board
    first = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    board.meetings.add_to_agenda(first, "EX-0001", "Resect?")
    window.meetings.changes_applied(ChangeSet.all(), None)  # as after File > Open
    assert window.meetings.view.list_model.rowCount() == 0
    opened: list[int | None] = []

    def look(dialog: MeetingDialog) -> None:
        opened.append(dialog.meeting_id)
        dialog.reject()

    when_dialog(look, MeetingDialog)
    window.meetings.menu_actions["edit"].trigger()  # Ctrl+Shift+E on the Cases page
    assert opened == [first]
    assert window.pages.currentWidget() is window.meetings.view
    assert agenda_column(window, 1) == ["EX-0001"]


def test_the_light_listing_agrees_with_the_full_list(
    window: MainWindow, meeting: tuple[int, int]
) -> None:
    board = window.door.board
    first, _second = meeting
    board.meetings.create("2026-11-03", None, "Room 9", PEOPLE[1:3])
    entry = board.meetings.get(first).agenda[1]
    board.meetings.hold_back(entry.id, "awaiting MRI")
    full = board.meetings.list()
    light = board.meetings.listing()
    assert [m.id for m in light] == [m.id for m in full]
    for summary, listed in zip(full, light, strict=True):
        active = [e for e in summary.agenda if e.status not in ("held", "moved")]
        assert listed.fields == summary.fields
        assert listed.cases == len(active)
        assert listed.discussed == sum(e.status == "discussed" for e in active)
        assert board.meetings.quorum(listed) == board.meetings.quorum(summary)


def test_signing_sanity_in_the_review_dialog(
    window: MainWindow, meeting: tuple[int, int], qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19 item 7: no signing before the meeting's date (dialog and service), nobody
    pre-ticked present, Recommendation first, Insert adds an action and Tab reaches its owner
    and due date."""
    first, _ = meeting
    board = window.door.board
    turn_to(board, "2026-11-30")  # the day before the meeting
    answer_yes(monkeypatch)
    draft = board.reviews.start(first, "EX-0001")
    dialog = ReviewDialog(window.door, draft, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.focusWidget() is dialog.recommendation_combo
    assert dialog.attendees() == []
    qtbot.keyClick(dialog.recommendation_combo, Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.decision_edit
    qtbot.keyClicks(dialog.decision_edit, "Resect.")
    dialog.actions_table.setFocus()
    qtbot.keyClick(dialog.actions_table, Qt.Key.Key_Insert)
    assert dialog.actions_table.rowCount() == 1
    table = dialog.actions_table
    table.closePersistentEditor(table.item(0, 0))
    table.setCurrentCell(0, 0)
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert table.currentColumn() == 1  # owner
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert table.currentColumn() == 2  # due date
    qtbot.keyClick(table, Qt.Key.Key_Backtab)
    assert table.currentColumn() == 1
    dialog.accept()
    assert "before" in dialog.problems.text() and "2026-12-01" in dialog.problems.text()
    assert dialog.isVisible()
    with pytest.raises(InvalidInput, match="2026-12-01"):
        board.reviews.sign(draft, recommendation=None, decision="Resect.")
    assert board.cases.get("EX-0001").reviews == []
    dialog.reject()


def test_the_pages_controllers_own_their_views(window: MainWindow) -> None:
    """Composition: each controller holds its page's layout (a plain, behaviour-free
    widget) rather than being it; the window shows the layouts, and the controllers
    still learn when their page is first shown."""
    for controller, layout in (
        (window.meetings, MeetingsLayout),
        (window.follow_up, FollowUpLayout),
    ):
        assert not isinstance(controller, QWidget)
        assert type(controller.view) is layout
        assert window.pages.indexOf(controller.view) >= 0
        assert controller.parent() is controller.view  # deleted with its view
    board = window.door.board
    board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE)
    assert window.meetings.view.list_model.rowCount() == 0  # not read while hidden
    window.pages.setCurrentWidget(window.meetings.view)
    assert window.meetings.view.list_model.rowCount() == 1  # read when first shown


def test_an_action_pasted_with_a_control_character_is_named_in_the_review_dialog(
    window: MainWindow, meeting: tuple[int, int], qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text pasted from a letter or a spreadsheet can carry a form feed: the dialog says
    which row, which field and which character, and signs nothing."""
    first, _ = meeting
    board = window.door.board
    turn_to(board, "2026-12-01")
    answer_yes(monkeypatch)
    dialog = ReviewDialog(window.door, board.reviews.start(first, "EX-0001"), window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.decision_edit, "Resect.")
    dialog.add_action()
    dialog.actions_table.item(0, 0).setText("Book\x0ctheatre")  # type: ignore[union-attr]
    dialog.accept()
    assert dialog.problems.text() == (
        "Please correct:\nAction row 1, Action: must not contain the invisible control "
        "character U+000C (form feed); only tab and line breaks are allowed"
    )
    assert dialog.isVisible()
    assert board.cases.get("EX-0001").reviews == []
    dialog.reject()
