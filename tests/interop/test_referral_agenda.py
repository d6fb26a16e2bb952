"""Issue 23, first run: a referral CSV row's question for the board and meeting date put
the case on that meeting's agenda (the meeting is created when there is none that day), in
the same transaction as the case."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crlmboard.services import Board
from tests.interop.test_interop_service import HEADER, write

pytestmark = pytest.mark.db
DAY = date(2026, 12, 1)


def referral_file(tmp_path: Path, *rows: str) -> Path:
    return write(tmp_path / "referrals.csv", "\n".join([HEADER, *rows]) + "\n")


ROW = "REF-0001,Testperson,Anna,1961-04-02,female,Dr Sample,2026-10-01,sigmoid,,,{q},{d}"


def agenda(board: Board, when: date) -> list[tuple[str, str]]:
    return [(e.mrn, e.question) for e in board.meetings.on_date(when).agenda]


def test_the_question_and_meeting_date_put_the_case_on_the_agenda(
    board: Board, tmp_path: Path
) -> None:
    file = referral_file(tmp_path, ROW.format(q="Resectable upfront?", d=DAY.isoformat()))
    summary = board.cases.import_path(file)
    assert summary.ok, summary.refused
    assert agenda(board, DAY) == [("REF-0001", "Resectable upfront?")]
    assert summary.changes.meetings
    ((_, notes),) = summary.notes
    assert any("agenda of the meeting on 2026-12-01" in n for n in notes)
    assert not any("Meetings feature" in n for n in notes)
    again = board.cases.import_path(file)  # the same file again: not twice on the agenda
    assert again.ok
    assert agenda(board, DAY) == [("REF-0001", "Resectable upfront?")]
    assert board.maintenance.check().ok


def test_an_existing_meeting_that_day_gets_the_case(board: Board, tmp_path: Path) -> None:
    made = board.meetings.create(DAY, "14:00", "Room 2")
    file = referral_file(tmp_path, ROW.format(q="Resect?", d=DAY.isoformat()))
    assert board.cases.import_path(file).ok
    assert [m.id for m in board.meetings.list()] == [made.meeting_id]
    assert agenda(board, DAY) == [("REF-0001", "Resect?")]


def test_a_meeting_date_without_a_question_refuses_the_file(board: Board, tmp_path: Path) -> None:
    file = referral_file(tmp_path, ROW.format(q="", d=DAY.isoformat()))
    summary = board.cases.import_path(file)
    assert not summary.ok
    assert "row 2, question" in str(summary.refused[0][1][0])
    assert board.cases.count() == 0 and board.meetings.list() == []
