"""Drafts of reviews through the services, on SQLite and a real PostgreSQL server: stored per
review (agenda item, and amendment) until signed or discarded, audited like every clinical
write (check passes), in backups, and gone with their agenda item."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from crlmboard.domain.validation import InvalidInput
from crlmboard.services import Board
from tests.conftest import GOLDEN, Calendar, postgres_url, turn_to
from tests.services.test_identity_postgres import (  # the department's users, by role
    Department,
    _refused,
    department,  # noqa: F401
)

pytestmark = pytest.mark.db

PEOPLE = [{"name": "Dr A", "role": "hepatobiliary_surgeon"}]
TYPED = {
    "recommendation": "upfront_resection",
    "decision": "Resect segment 6 — Ελένη's case, 2 cycles first",
    "rationale": "Solitary lesion.",
    "next_review": "12.1.2027",  # as typed: checked when signed
    "actions": [{"text": "Book theatre", "owner": None, "due": "next week"}],
    "attendees": PEOPLE,
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def board(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Board]:
    if request.param == "sqlite":
        where: str | Path = tmp_path / "board.sqlite3"
    else:
        from tests.store.conftest import fresh_postgres

        fresh_postgres().dispose()
        where = postgres_url()
    with Board.open(where, clock=Calendar()) as opened:
        opened.cases.import_path(GOLDEN)
        yield opened


def meeting(board: Board) -> int:
    found = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    board.meetings.add_to_agenda(found, "EX-0001", "Resect now?")
    return found


@pytest.fixture
def file_board(tmp_path: Path) -> Iterator[Board]:
    """SQLite (on PostgreSQL a signature needs a clinician's password: the department test
    below signs there)."""
    with Board.open(tmp_path / "board.sqlite3", clock=Calendar()) as opened:
        opened.cases.import_path(GOLDEN)
        yield opened


def test_a_draft_is_kept_until_signed_and_audited(file_board: Board) -> None:
    board = file_board
    first = meeting(board)
    assert board.reviews.draft(first, "EX-0001") is None
    board.reviews.save_draft(first, "EX-0001", TYPED)
    board.reviews.save_draft(first, "EX-0001", {**TYPED, "rationale": "Solitary, 2 cm."})
    draft = board.reviews.draft(first, "EX-0001")
    assert draft is not None
    assert draft.decision == TYPED["decision"] and draft.rationale == "Solitary, 2 cm."
    assert draft.next_review == "12.1.2027" and draft.actions[0].due == "next week"
    assert [a.name for a in draft.attendees] == ["Dr A"] and draft.saved_at is not None
    # one draft per review: the second save replaced the first
    turn_to(board, "2026-12-01")
    started = board.reviews.start(first, "EX-0001")
    assert started.saved == draft
    report = board.maintenance.check()
    assert report.ok, report.problems
    board.reviews.sign(started, recommendation=None, decision="Resect.")
    assert board.reviews.draft(first, "EX-0001") is None
    history = board.maintenance.case_history("EX-0001")
    assert [e.action for e in history if e.table == "review_draft"] == [
        "insert",
        "update",
        "delete",
    ]
    report = board.maintenance.check()
    assert report.ok, report.problems


def test_an_amendment_has_its_own_draft(file_board: Board) -> None:
    board = file_board
    first = meeting(board)
    turn_to(board, "2026-12-01")
    board.reviews.sign(board.reviews.start(first, "EX-0001"), recommendation=None, decision="A")
    index = len(board.cases.get("EX-0001").reviews) - 1
    board.reviews.save_draft(first, "EX-0001", {"decision": "Amended"}, amends=index)
    assert board.reviews.draft(first, "EX-0001") is None
    amended = board.reviews.draft(first, "EX-0001", amends=index)
    assert amended is not None and amended.decision == "Amended"
    assert board.reviews.start(first, "EX-0001", index).saved == amended
    board.reviews.amend("EX-0001", index, first, recommendation=None, decision="Amended")
    assert board.reviews.draft(first, "EX-0001", amends=index) is None


def test_discarded_or_emptied_drafts_go_and_bad_text_is_refused(board: Board) -> None:
    first = meeting(board)
    board.reviews.save_draft(first, "EX-0001", TYPED)
    board.reviews.discard_draft(first, "EX-0001")
    assert board.reviews.draft(first, "EX-0001") is None
    board.reviews.save_draft(first, "EX-0001", TYPED)
    board.reviews.save_draft(first, "EX-0001", {"decision": "   "})  # all typed was erased
    assert board.reviews.draft(first, "EX-0001") is None
    with pytest.raises(InvalidInput):  # PostgreSQL refuses NUL: both back ends refuse it
        board.reviews.save_draft(first, "EX-0001", {"decision": "a\x00b"})
    assert board.reviews.draft(first, "EX-0001") is None


def test_a_draft_goes_with_its_agenda_item(board: Board) -> None:
    first = meeting(board)
    board.reviews.save_draft(first, "EX-0001", TYPED)
    (entry,) = board.meetings.get(first).agenda
    board.meetings.remove_from_agenda(entry.id)
    assert board.reviews.draft(first, "EX-0001") is None
    report = board.maintenance.check()
    assert report.ok, report.problems


def test_drafts_are_in_backups(tmp_path: Path) -> None:
    with Board.open(tmp_path / "board.sqlite3", clock=Calendar()) as board:
        board.cases.import_path(GOLDEN)
        first = meeting(board)
        board.reviews.save_draft(first, "EX-0001", TYPED)
        made = board.maintenance.backup()
    connection = sqlite3.connect(made.path)
    try:
        rows = connection.execute("SELECT decision FROM review_draft").fetchall()
    finally:
        connection.close()
    assert rows == [(TYPED["decision"],)]


@pytest.mark.postgres
def test_on_postgresql_drafts_are_written_by_signers_and_read_by_every_role(
    department: Department,  # noqa: F811
) -> None:
    with department.clinician.open() as board:
        board.reviews.save_draft(department.meeting, "EX-0001", TYPED)
        draft = board.reviews.draft(department.meeting, "EX-0001")
        assert draft is not None and draft.decision == TYPED["decision"]
        started = board.reviews.start(department.meeting, "EX-0001")
        assert started.saved == draft
        report = board.maintenance.check()
        assert report.ok, report.problems
        board.reviews.save_draft(department.meeting, "EX-0002", TYPED)
        board.reviews.sign(
            board.reviews.start(department.meeting, "EX-0002"),
            recommendation=None,
            decision="Resect.",
            password=department.clinician.password,
        )
        assert board.reviews.draft(department.meeting, "EX-0002") is None
    for login in (department.viewer, department.admin):
        # the trail every role reads carries the drafts' text, so they may read the table
        # (and `check` compares it with the trail), but never write it
        engine = login.engine()
        try:
            with engine.connect() as connection:
                typed = connection.exec_driver_sql("SELECT decision FROM review_draft").scalars()
                assert list(typed) == [TYPED["decision"]], login.name
            text = _refused(engine, "UPDATE review_draft SET decision = 'Forged.'")
            assert "permission denied" in text, login.name
        finally:
            engine.dispose()
        with login.open() as board:
            report = board.maintenance.check()
            assert report.ok, (login.name, report.problems)
    with department.coordinator.open() as board:  # an agenda item goes with its draft
        agenda = board.meetings.get(department.meeting).agenda
        (entry,) = [e for e in agenda if e.mrn == "EX-0001"]
        board.meetings.remove_from_agenda(entry.id)
    with department.clinician.open() as board:
        assert board.reviews.draft(department.meeting, "EX-0001") is None
        history = board.maintenance.case_history("EX-0001")
        assert [e.action for e in history if e.table == "review_draft"] == ["insert", "delete"]
