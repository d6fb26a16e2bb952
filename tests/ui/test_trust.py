"""Trust, as found by driving the app: no edit is lost while another case is on its way
(the door's worker answers later than the keyboard), and the history names records and
meetings as people know them, never by a database key."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.main_window import MainWindow
from tests.conftest import GOLDEN
from tests.ui.test_right_patient import reactivate, settle
from tests.ui.test_unsaved import answer, ecog_line, type_into

pytestmark = [pytest.mark.ui, pytest.mark.db]

Save = QMessageBox.StandardButton.Save
Cancel = QMessageBox.StandardButton.Cancel


@pytest.fixture
def threaded_window(qtbot: QtBot, threaded: None, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.show()
    shown.activateWindow()
    qtbot.waitExposed(shown)
    settle(qtbot, shown)
    yield shown


def hold_reads_of(board: Board, mrn: str) -> tuple[threading.Event, threading.Event]:
    """The worker stops at the read of case `mrn` until `go` is set (a busy worker: a long
    recompute, a loaded machine); `reading` says it got there."""
    reading, go = threading.Event(), threading.Event()
    get = board.cases.get_stamped

    def held(wanted: str, *args: Any, **kwargs: Any) -> Any:
        if wanted == mrn and threading.current_thread() is not threading.main_thread():
            reading.set()
            go.wait(60)
        return get(wanted, *args, **kwargs)

    board.cases.get_stamped = held  # type: ignore[method-assign]
    return reading, go


def start_on_ex0001_staging(window: MainWindow, qtbot: QtBot) -> None:
    window.open_case("EX-0001")
    settle(qtbot, window)
    window.workspace.setCurrentWidget(window.workspace.staging)
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0001"


def test_an_edit_typed_while_the_next_case_opens_is_asked_about(
    threaded_window: MainWindow, qtbot: QtBot
) -> None:
    """EX-0001 open, EX-0002 chosen in the list: until the worker answers, EX-0001 stays on
    screen and editable.  ECOG typed then was dropped without a word when EX-0002 arrived
    (the question about unsaved changes had been asked before anything was typed)."""
    window = threaded_window
    board = window.door.board
    start_on_ex0001_staging(window, qtbot)
    reading, go = hold_reads_of(board, "EX-0002")
    try:
        assert window.open_case("EX-0002")  # nothing typed yet: no question
        qtbot.waitUntil(reading.is_set, timeout=60_000)
        type_into(qtbot, ecog_line(window), "3")  # EX-0001's form, still on screen
        seen: list[str] = []
        answer(Save, seen)
    finally:
        go.set()
    settle(qtbot, window)
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    settle(qtbot, window)
    assert "EX-0001" in seen[0]
    assert board.cases.get("EX-0001").patient.ecog == 3
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0002"


def test_cancel_keeps_the_case_with_its_edit(threaded_window: MainWindow, qtbot: QtBot) -> None:
    window = threaded_window
    board = window.door.board
    start_on_ex0001_staging(window, qtbot)
    reading, go = hold_reads_of(board, "EX-0002")
    try:
        window.open_case("EX-0002")
        qtbot.waitUntil(reading.is_set, timeout=60_000)
        type_into(qtbot, ecog_line(window), "3")
        answer(Cancel)
    finally:
        go.set()
    settle(qtbot, window)
    qtbot.waitUntil(lambda: window.workspace.case is not None, timeout=10_000)
    case = window.workspace.case
    assert case is not None and case.mrn == "EX-0001"
    assert ecog_line(window).text() == "3" and window.workspace.staging.modified()
    assert "EX-0001" in window.windowTitle()
    reactivate(qtbot, window)  # offscreen, the closed question leaves no active window
    ecog_line(window).setFocus()
    qtbot.keyClick(ecog_line(window), Qt.Key.Key_Return)  # and it can still be saved
    settle(qtbot, window)
    assert board.cases.get("EX-0001").patient.ecog == 3


PEOPLE = [
    {"name": "Dr Hepato", "role": "hepatobiliary_surgeon"},
    {"name": "Dr Onco", "role": "medical_oncologist"},
    {"name": "Dr Radio", "role": "radiologist"},
]


def history_rows(qtbot: QtBot, board: Board, mrn: str) -> list[list[str]]:
    """The rows of Case ▸ History for `mrn`, as the table shows them."""
    from crlmboard.ui.dialogs.safety import HistoryDialog
    from tests.ui.test_workspace import when_dialog

    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    window.open_case(mrn)
    seen: list[HistoryDialog] = []

    def look(dialog: Any) -> None:
        seen.append(dialog)
        dialog.reject()

    when_dialog(look)
    window.show_history()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    model = seen[0].model
    assert "EXAMPLE" in seen[0].windowTitle() and mrn in seen[0].windowTitle()
    return [
        [str(model.data(model.index(row, column)) or "") for column in range(model.columnCount())]
        for row in range(model.rowCount())
    ]


def test_the_history_names_meetings_and_scans_never_database_keys(
    qtbot: QtBot, board: Board
) -> None:
    """Seen in Case ▸ History: an agenda item "added" with "meeting id: 2; position: 3", a
    lesion with "timepoint id: 34" (and without its name, L1), records called "lab result
    48" — database keys no one can look up — and codes as stored ("t3", "ct")."""
    board.cases.import_path(GOLDEN)
    meeting = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    board.meetings.add_to_agenda(meeting, "EX-0001", "Resect now?")
    rows = history_rows(qtbot, board, "EX-0001")
    texts = [" | ".join(row[3:]) for row in rows]
    for key in ("meeting id", "timepoint id", "case id", "review id", "position", "row id"):
        assert not [t for t in texts if key in t.lower()], key
    for row in rows:
        assert not re.fullmatch(r"[a-z ]+ \d+", row[3]), row[3]  # "lab result 48"
    agenda = next(t for t in texts if t.startswith("agenda item"))
    assert "Meeting: 2026-12-01 16:00, Room 3" in agenda
    assert "meeting of 2026-12-01" in agenda.split(" | ")[0]
    lesion = next(t for t in texts if t.startswith("lesion measurement"))
    assert 'Lesion: "L1"' in lesion and "Imaging: 2025-01-20" in lesion
    assert "imaging of 2025-01-20" in lesion.split(" | ")[0]
    primary = next(t for t in texts if t.startswith("primary tumour"))
    assert "T category: T3" in primary and '"t3"' not in primary
    timepoint = next(t for t in texts if t.startswith("imaging timepoint"))
    assert "Modality: CT" in timepoint and "New lesions: no" in timepoint


def test_removing_a_case_from_the_agenda_names_the_patient_and_the_meeting(
    qtbot: QtBot, board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Remove case EX-0002 from this agenda?" asked by the MRN alone: the coordinator
    confirms a removal by the name, as every other question that writes does."""
    from tests.ui.test_meetings import answer_yes, select_agenda_row

    board.cases.import_path(GOLDEN)
    meeting = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    for mrn in ("EX-0001", "EX-0002"):
        board.meetings.add_to_agenda(meeting, mrn, "Resect now?")
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    window.meetings.reload(meeting)
    window.pages.setCurrentWidget(window.meetings.view)
    asked = answer_yes(monkeypatch)
    select_agenda_row(window, "EX-0002")
    window.meetings.menu_actions["remove"].trigger()
    name = board.cases.get("EX-0002").patient.family_name.upper()
    assert name in asked[0] and "EX-0002" in asked[0] and "2026-12-01" in asked[0], asked
    assert [e.mrn for e in board.meetings.get(meeting).agenda] == ["EX-0001"]
    assert name in window.statusBar().currentMessage()


@pytest.fixture
def window_on_ex0001_with_ecog_typed(
    qtbot: QtBot, board: Board, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> Iterator[MainWindow]:
    """EX-0001 open with ECOG 3 typed on Staging and not saved; the save dialog answers
    `tmp_path/out.pdf`, and the "written" message is noted, not shown."""
    from PySide6.QtWidgets import QFileDialog

    from crlmboard.ui import exports

    board.cases.import_path(GOLDEN)
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    window.open_case("EX-0001")
    window.workspace.setCurrentWidget(window.workspace.staging)
    assert board.cases.get("EX-0001").patient.ecog != 3
    type_into(qtbot, ecog_line(window), "3")
    target = tmp_path / "out.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), "PDF (*.pdf)")
    )
    monkeypatch.setattr(exports, "show_written", lambda *_a, **_k: None)
    yield window


def test_a_pdf_of_a_case_with_unsaved_edits_asks_to_save_them_first(
    window_on_ex0001_with_ecog_typed: MainWindow, tmp_path: Any
) -> None:
    """ECOG 3 typed, not saved, then File ▸ Export PDF summary: the PDF said the ECOG as
    stored, with no word that the screen showed another — a document for the board that
    differs from what its author saw.  Now asked: Save first / as stored / Cancel."""
    from tests.ui.test_documents import pdf_text

    window = window_on_ex0001_with_ecog_typed
    seen: list[str] = []
    answer(Save, seen)
    window.export_pdf()
    assert seen and "EX-0001" in seen[0] and "Staging" in seen[0], seen
    assert window.door.board.cases.get("EX-0001").patient.ecog == 3
    assert "ECOG 3" in pdf_text(tmp_path / "out.pdf")
    assert not window.workspace.modified()


def test_cancel_writes_no_pdf_and_keeps_the_edit(
    window_on_ex0001_with_ecog_typed: MainWindow, tmp_path: Any
) -> None:
    window = window_on_ex0001_with_ecog_typed
    answer(Cancel)
    window.export_pdf()
    assert not (tmp_path / "out.pdf").exists()
    assert ecog_line(window).text() == "3" and window.workspace.modified()
    assert window.door.board.cases.get("EX-0001").patient.ecog != 3


def test_a_record_typed_in_a_dialog_goes_to_the_patient_the_dialog_names(
    threaded_window: MainWindow, qtbot: QtBot
) -> None:
    """EX-0001 open, EX-0002 chosen (the worker busy), then *Add lab values* — the dialog
    opens for EX-0001, whose banner it shows.  EX-0002 arrived while it was open and the
    workspace switched under it; OK then stored the lab of EX-0001's dialog in EX-0002's
    record.  Now the case that arrives waits until the dialog is closed, and the lab goes
    to the patient the dialog named."""
    from crlmboard.ui.dialogs.record_dialog import RecordDialog
    from tests.ui.test_workspace import when_dialog

    window = threaded_window
    board = window.door.board
    labs_before = {mrn: len(board.cases.get(mrn).labs) for mrn in ("EX-0001", "EX-0002")}
    start_on_ex0001_staging(window, qtbot)
    reading, go = hold_reads_of(board, "EX-0002")
    seen: dict[str, Any] = {}

    def fill(dialog: Any) -> None:
        assert isinstance(dialog, RecordDialog)
        seen["banner"] = dialog.banner.text()
        go.set()  # the worker answers while the dialog is open
        qtbot.wait(300)  # time for EX-0002 to come back (it must not be shown under us)
        seen["open meanwhile"] = window.workspace.case.mrn  # type: ignore[union-attr]
        editors = dialog.form.editors
        qtbot.keyClicks(editors["date"].line, "2025-03-01")  # type: ignore[union-attr]
        qtbot.keyClicks(editors["cea_ng_ml"].line, "77")  # type: ignore[union-attr]
        qtbot.keyClick(dialog, Qt.Key.Key_Return)

    try:
        window.open_case("EX-0002")
        qtbot.waitUntil(reading.is_set, timeout=60_000)
        when_dialog(fill)
        window.workspace.labs.add_requested.emit()
    finally:
        go.set()
    settle(qtbot, window)
    qtbot.waitUntil(lambda: window.door.pending == 0 and "banner" in seen, timeout=10_000)
    settle(qtbot, window)
    assert "EX-0001" in seen["banner"]
    assert seen["open meanwhile"] == "EX-0001"
    ex1, ex2 = board.cases.get("EX-0001"), board.cases.get("EX-0002")
    assert len(ex2.labs) == labs_before["EX-0002"], "the lab went to the other patient"
    assert len(ex1.labs) == labs_before["EX-0001"] + 1
    assert any(lab.cea_ng_ml == 77 for lab in ex1.labs)
    # the case chosen is shown once the dialog is done
    qtbot.waitUntil(lambda: window.workspace.case.mrn == "EX-0002", timeout=10_000)  # type: ignore[union-attr]
    assert "EX-0002" in window.windowTitle()


def test_the_hold_back_question_is_shown_whole_and_a_right_to_left_name_keeps_its_mrn_after(
    qtbot: QtBot,
) -> None:
    """Seen in the screenshots: the hold-back prompt cut after its first line ("… with its
    question" hidden), and an Arabic name put its MRN before it ("(DEMO-0007) تجريبي, سارة")."""
    from PySide6.QtWidgets import QLabel

    from crlmboard.ui.dialogs.meeting_dialog import NoteDialog, whose
    from crlmboard.ui.ops import AgendaEntry

    entry = AgendaEntry(1, 1, 0, "DEMO-0007", "تجريبي", "سارة", "FLR 30 %?", "planned", None, None)
    text = whose(entry)
    assert text.index("\u2068") < text.index("تجريبي") < text.index("\u2069") < text.index("(")
    dialog = NoteDialog(
        "Hold back to next meeting",
        f"Why is the case of {text} held back? It moves to the next meeting with its question.",
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    label = dialog.findChild(QLabel)
    assert label is not None
    assert label.height() >= label.heightForWidth(label.width()), "the prompt is cut"


def test_the_field_in_focus_keeps_the_focus_after_a_save_asked_for(
    threaded_window: MainWindow, qtbot: QtBot
) -> None:
    """Seen under openbox: ECOG typed, Ctrl+P, *Save* — the window is disabled while the
    worker saves, which took the focus from the ECOG field; afterwards the keys went nowhere
    (the next Tab landed in the filter)."""
    from PySide6.QtWidgets import QApplication

    window = threaded_window
    start_on_ex0001_staging(window, qtbot)
    line = ecog_line(window)
    type_into(qtbot, line, "3")
    assert QApplication.focusWidget() is line
    answer(Save)
    assert window.workspace.confirm_stored("The PDF summary")
    assert window.door.board.cases.get("EX-0001").patient.ecog == 3
    reactivate(qtbot, window)  # offscreen, the closed question leaves no active window
    assert QApplication.focusWidget() is line


def test_the_history_says_a_recomputed_summary_was_worked_out_by_crlmboard(
    qtbot: QtBot, tmp_path: Any
) -> None:
    """The case list's summary stored with the patient is recomputed when the day changes,
    under the account running the program: the history read "root changed patient:
    open warnings: 1 → 2", as if that person had changed it."""
    from datetime import timedelta

    from crlmboard.ui.dialogs.safety import HistoryDialog
    from tests.conftest import TODAY
    from tests.services.test_case_summaries import DEMO

    day = [TODAY]
    with Board.open(tmp_path / "board.sqlite3", clock=lambda: day[0]) as board:
        board.cases.import_path(DEMO)
        day[0] = TODAY + timedelta(days=30)
        after = None
        while True:
            after = board.cases.refresh_summaries(after, limit=50).next_after
            if after is None:
                break
        entries = board.maintenance.case_history("DEMO-0013")
    dialog = HistoryDialog("DEMO-0013", entries)
    qtbot.addWidget(dialog)
    model = dialog.model
    rows = [
        [str(model.data(model.index(r, c)) or "") for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]
    recomputed = [row for row in rows if row[3] == "patient" and row[2] != "added"]
    assert recomputed, rows
    for row in recomputed:
        assert row[2] == "recomputed by crlmboard", row
        assert "(worked out)" in row[5] and "Warnings" in row[5], row
    added = next(i for i, row in enumerate(rows) if row[3] == "patient" and row[2] == "added")
    dialog.view.setCurrentIndex(model.index(added, 0))  # in full below the table
    assert "Resectability (worked out): Borderline" in dialog.details.toPlainText()
    plan = next(row for row in rows if row[3] == "surgical plan")
    assert "Resectability: " in plan[5] and "(worked out)" not in plan[5]


def test_the_add_to_agenda_dialog_never_shows_a_name_beside_another_mrn(
    qtbot: QtBot, board: Board
) -> None:
    """*Add case…* with the open case's MRN shows its patient's name under the MRN. Typing
    another MRN left that name beside the new MRN until the field was left: EXAMPLE, Ada
    under EX-0002."""
    from crlmboard.ui.dialogs.meeting_dialog import AgendaDialog

    board.cases.import_path(GOLDEN)
    meeting = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    window = MainWindow(board)
    qtbot.addWidget(window)
    dialog = AgendaDialog(window.door, board.meetings.listing(), meeting, "EX-0001", window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    ada = board.cases.get("EX-0001").patient.given_name
    assert ada in dialog.name_label.text()
    dialog.mrn_edit.setFocus()
    qtbot.keyClick(dialog.mrn_edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(dialog.mrn_edit, "2")
    assert dialog.mrn_edit.text() == "EX-0002"
    assert ada not in dialog.name_label.text()
    dialog.question_edit.setFocus()  # leaving the field looks the new MRN up
    bruno = board.cases.get("EX-0002").patient.given_name
    qtbot.waitUntil(lambda: bruno in dialog.name_label.text(), timeout=10_000)


def test_ok_in_a_dialog_of_a_case_erased_meanwhile_says_nothing_was_saved(
    qtbot: QtBot, board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    """*Add lab values* open for EX-0001 when another app erased EX-0001: the workspace
    closed the case under the dialog (which it disabled), and OK could then stop on an
    assertion (a traceback).  Now the dialog stays usable, and OK says the case is no
    longer there and nothing was saved — nor written to anyone else."""
    from crlmboard.services.changes import CaseNotFound, ChangeSet
    from crlmboard.ui.dialogs.record_dialog import RecordDialog
    from tests.ui.test_workspace import when_dialog

    board.cases.import_path(GOLDEN)
    labs_before = len(board.cases.get("EX-0002").labs)
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    window.open_case("EX-0001")
    told: list[str] = []

    def note(_parent: Any, title: str, text: str, *_a: Any, **_k: Any) -> Any:
        told.append(f"{title}|{text}")
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "information", note)
    monkeypatch.setattr(QMessageBox, "warning", note)
    seen: dict[str, Any] = {}

    def fill(dialog: Any) -> None:
        assert isinstance(dialog, RecordDialog)
        editors = dialog.form.editors
        qtbot.keyClicks(editors["date"].line, "2025-03-01")  # type: ignore[union-attr]
        qtbot.keyClicks(editors["cea_ng_ml"].line, "77")  # type: ignore[union-attr]
        try:
            # erased elsewhere (another window, another app): the door announces it
            board.erasure.erase("EX-0001", reason="Test of an erasure", confirm_mrn="EX-0001")
            window.door.changes_applied.emit(ChangeSet(cases=frozenset({"EX-0001"})), None)
            seen["enabled"] = dialog.isEnabled()
        finally:
            qtbot.keyClick(dialog, Qt.Key.Key_Return)

    when_dialog(fill)
    window.workspace.labs.add_requested.emit()
    assert seen["enabled"], "the dialog was disabled under the person typing"
    qtbot.waitUntil(lambda: window.workspace.case is None, timeout=10_000)
    assert len(told) == 2, told
    text = told[0]
    assert "EX-0001" in text and "no longer in the database" in text, text
    assert "Nothing was saved" in text, text
    assert "Case closed" in told[1]
    assert len(board.cases.get("EX-0002").labs) == labs_before
    with pytest.raises(CaseNotFound):  # and not brought back by the save
        board.cases.get("EX-0001")


def test_a_history_that_arrives_after_another_case_opened_is_not_shown_over_it(
    qtbot: QtBot, board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+H on EX-0001, then EX-0002 chosen before the worker answered: EX-0001's
    history opened over EX-0002 on screen.  The user has moved on: it is dropped."""
    from crlmboard.ui.dialogs.safety import HistoryDialog

    board.cases.import_path(GOLDEN)
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.show()
    window.open_case("EX-0001")
    shown: list[str] = []
    monkeypatch.setattr(HistoryDialog, "exec", lambda self: shown.append(self.windowTitle()) or 0)
    asked: list[tuple[str, Any]] = []
    answer_later = window.door.case_history
    monkeypatch.setattr(window.door, "case_history", lambda mrn, done: asked.append((mrn, done)))
    window.show_history()
    window.open_case("EX-0002")
    assert window.workspace.case is not None and window.workspace.case.mrn == "EX-0002"
    answer_later(*asked[0])  # the worker answers now
    assert shown == [], shown
    window.show_history()  # asked again on the case on screen, it is shown
    answer_later(*asked[1])
    assert len(shown) == 1 and "EX-0002" in shown[0], shown


def test_the_banner_and_the_overview_say_a_missing_birth_date_in_the_same_words(
    qtbot: QtBot, board: Board
) -> None:
    from crlmboard.domain import models as m
    from crlmboard.domain.case import Case

    board.cases.create(Case(patient=m.Patient(mrn="TEST-0001")))
    window = MainWindow(board)
    qtbot.addWidget(window)
    window.open_case("TEST-0001")
    assert "birth date not recorded" in window.workspace.banner.text()
    assert "birth date not recorded" in window.workspace.overview.identity.text()
