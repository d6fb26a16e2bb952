"""A full meeting through the services on a real database: create, agenda, prepare, review,
sign, amend, follow-up, close, figures, meeting pack."""

from __future__ import annotations

import getpass
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from crlmboard.domain.validation import InvalidInput
from crlmboard.services import Board, BoardError
from crlmboard.services.demo import create_demo_database
from tests.conftest import GOLDEN, TODAY, turn_to

pytestmark = pytest.mark.db

PEOPLE = [
    {"name": "Dr A", "role": "hepatobiliary_surgeon"},
    {"name": "Dr B", "role": "medical_oncologist"},
    {"name": "Dr C", "role": "radiologist"},
]


@pytest.fixture
def meeting(board: Board) -> tuple[Board, int, int]:
    board.cases.import_path(GOLDEN)
    first = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    second = board.meetings.create("2026-12-08").meeting_id
    turn_to(board, "2026-12-01")  # the first meeting's day: its reviews can be signed
    return board, first, second


def test_a_full_meeting(meeting: tuple[Board, int, int]) -> None:
    board, first, second = meeting
    one = board.meetings.add_to_agenda(first, "EX-0001", "Resect now?").item_id
    two = board.meetings.add_to_agenda(first, "EX-0002", "Which conversion regimen?").item_id
    three = board.meetings.add_to_agenda(first, "EX-0003", "Ready for hepatectomy?").item_id
    assert board.meetings.reorder(first, [three, one, two]).meetings == {first}
    assert [e.mrn for e in board.meetings.get(first).agenda] == ["EX-0003", "EX-0001", "EX-0002"]
    # the case list shows the next meeting
    assert {r.mrn: r.next_meeting for r in board.cases.page()}["EX-0001"] == date(2026, 12, 1)
    quorum = board.meetings.quorum(board.meetings.get(first))
    assert quorum.missing == ("pathologist", "coordinator")

    draft = board.reviews.start(first, "EX-0001")
    assert draft.evaluation["as_of"] == "2026-12-01"
    signed = board.reviews.sign(
        draft,
        recommendation="upfront_resection",
        decision="Resect segment 6.",
        rationale="Solitary lesion, low risk.",
        actions=[{"text": "Book theatre", "owner": "Coordinator", "due": "2026-12-05"}],
        next_review_date="2027-01-12",
    )
    index = signed.index
    assert signed.changes.cases == {"EX-0001"} and signed.changes.meetings == {first}
    assert signed.changes.reviews == {signed.review_id}
    review = board.cases.get("EX-0001").reviews[index]
    assert review.signed and review.signed_by == getpass.getuser()  # the OS account
    assert review.meaning == "approved as the board's decision"
    assert review.evaluation is not None and review.evaluation["as_of"] == "2026-12-01"
    assert review.question == "Resect now?" and review.rationale == "Solitary lesion, low risk."
    assert [a.name for a in review.attendees] == ["Dr A", "Dr B", "Dr C"]
    assert review.follow_up is not None and review.follow_up.status == "pending"
    statuses = {e.mrn: e.status for e in board.meetings.get(first).agenda}
    assert statuses["EX-0001"] == "discussed"

    amended = board.reviews.amend(
        "EX-0001",
        index,
        first,
        recommendation="upfront_resection",
        decision="Resect segments 6 and 7.",
    ).index
    reviews = board.cases.get("EX-0001").reviews
    assert reviews[amended].amends == index
    assert reviews[index].decision == "Resect segment 6."  # the original stays as it was

    followed = board.reviews.set_follow_up(
        "EX-0001", index, "not_done", "patient_choice", "declined"
    )
    assert followed.cases == {"EX-0001"} and followed.follow_ups == {signed.review_id}
    assert board.cases.get("EX-0001").reviews[index].follow_up.status == "not_done"  # type: ignore[union-attr]
    with pytest.raises(InvalidInput, match="reason"):
        board.reviews.set_follow_up("EX-0001", index, "changed")

    held = board.meetings.hold_back(two, "awaiting RAS result")
    assert held.meeting_id == second
    assert held.changes.cases == {"EX-0002"} and held.changes.meetings == {first, second}
    closed = board.meetings.close(first)
    assert closed.moved == ("EX-0003",)
    assert closed.changes.cases == {"EX-0003"} and closed.changes.meetings == {first, second}
    after = {e.mrn: (e.status, e.note) for e in board.meetings.get(first).agenda}
    assert after["EX-0002"] == ("held", "awaiting RAS result")
    assert after["EX-0003"][0] == "moved"
    assert [e.mrn for e in board.meetings.get(second).agenda] == ["EX-0002", "EX-0003"]

    figures = board.meetings.figures(date(2026, 1, 1), date(2026, 12, 31))
    assert figures.cases_discussed == 1 and figures.reviews == 2
    assert figures.decisions_with_follow_up == 1 and figures.decisions_carried_out == 0
    assert board.maintenance.check().ok


def test_signed_review_is_immutable_in_the_store(meeting: tuple[Board, int, int]) -> None:
    board, first, _ = meeting
    board.meetings.add_to_agenda(first, "EX-0001", "Resect now?")
    board.reviews.sign(
        board.reviews.start(first, "EX-0001"),
        recommendation="upfront_resection",
        decision="Resect.",
    )
    with pytest.raises(sa.exc.DatabaseError), board.database.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE review SET decision = 'Changed' WHERE signed_at IS NOT NULL"
        )
    case, version = board.cases.get_with_version("EX-0001")
    edited = case.model_copy(deep=True)
    edited.reviews[0].decision = "Changed through the app"
    with pytest.raises(BoardError):
        board.cases.save(edited, version)
    assert board.cases.get("EX-0001").reviews[0].decision == "Resect."


def test_agenda_refusals(meeting: tuple[Board, int, int]) -> None:
    board, first, second = meeting
    with pytest.raises(InvalidInput, match="question"):
        board.meetings.add_to_agenda(first, "EX-0001", "  ")
    with pytest.raises(InvalidInput, match="no case with MRN"):
        board.meetings.add_to_agenda(first, "NOPE", "Why?")
    board.meetings.add_to_agenda(first, "EX-0001", "Resect now?")
    with pytest.raises(InvalidInput, match="already on this agenda"):
        board.meetings.add_to_agenda(first, "EX-0001", "Again?")
    last = board.meetings.add_to_agenda(second, "EX-0001", "Follow-up?").item_id
    with pytest.raises(BoardError, match="no later meeting"):
        board.meetings.hold_back(last, "later")
    with pytest.raises(InvalidInput):
        board.meetings.create("2026-13-01")


def test_readiness_names_what_is_missing(board: Board) -> None:
    document = json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8"))
    del document["molecular"]
    document["imaging"] = []
    board.cases.import_text(json.dumps(document))
    meeting = board.meetings.create("2026-12-01").meeting_id
    board.meetings.add_to_agenda(meeting, "EX-0001", "Work-up?")
    [(entry, items)] = board.meetings.prepare(meeting)
    assert entry.mrn == "EX-0001"
    assert {i.code for i in items} >= {"DATA.MOLECULAR_INCOMPLETE", "DATA.NO_IMAGING"}


def test_demo_has_an_upcoming_meeting_and_signed_reviews(tmp_path: Path) -> None:
    demo, _summary = create_demo_database(tmp_path / "demo.sqlite3")
    try:
        meetings = demo.meetings.list()
        upcoming = [m for m in meetings if m.date > demo.today()]
        assert upcoming and len(upcoming[0].agenda) >= 6
        past = [m for m in meetings if m.date < demo.today()]
        assert all(e.status == "discussed" for e in past[0].agenda)
        pdf = demo.meetings.meeting_pack(upcoming[0].id)
        assert pdf.startswith(b"%PDF")
        assert demo.maintenance.check().ok
    finally:
        demo.close()
    assert TODAY  # the demo is dated relative to the real today


def test_a_meeting_stored_before_the_text_rules_still_opens_exports_and_prints(
    meeting: tuple[Board, int, int],
) -> None:
    """Rows written before control characters and invisible required texts were refused are
    read as stored (reads are trusted); the mCODE export and the meeting pack still work."""
    from fhir.resources.R4B.bundle import Bundle
    from pypdf import PdfReader

    board, first, _ = meeting
    board.meetings.add_to_agenda(first, "EX-0001", "Resect now?")
    board.reviews.sign(
        board.reviews.start(first, "EX-0001"),
        recommendation="upfront_resection",
        decision="Resect.",
        actions=[{"text": "Book theatre", "owner": "Coordinator"}],
    )
    with board.database.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE meeting SET location = 'Room\x0c3'")
        connection.exec_driver_sql("UPDATE meeting_attendee SET name = '\u3000' WHERE position = 0")
        connection.exec_driver_sql("UPDATE agenda_item SET question = 'Resect\x1b now?'")
    summary = board.meetings.get(first)
    assert summary.fields.location == "Room\x0c3"
    assert summary.attendees[0].name == "\u3000"
    assert summary.agenda[0].question == "Resect\x1b now?"
    assert any(listing.id == first for listing in board.meetings.list())
    text = "\n".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(board.meetings.meeting_pack(first))).pages
    )
    assert "Room" in text
    Bundle.model_validate(board.interop.export_fhir("EX-0001"))


def test_a_meeting_pack_stops_between_cases_when_cancelled(
    meeting: tuple[Board, int, int],
) -> None:
    """`progress(done, total)` is asked before every case and once the PDF is built; False
    stops the pack there: no PDF, the cancellation said in words."""
    from crlmboard.services.meetings import PackCancelled

    board, first, _ = meeting
    for mrn in ("EX-0001", "EX-0002", "EX-0003"):
        board.meetings.add_to_agenda(first, mrn, "Resect?")
    asked: list[tuple[int, int]] = []

    def after_the_first_case(done: int, total: int) -> bool:
        asked.append((done, total))
        return done < 1

    with pytest.raises(PackCancelled, match=r"^Meeting pack cancelled: nothing written\.$"):
        board.meetings.meeting_pack(first, progress=after_the_first_case)
    assert asked == [(0, 3), (1, 3)]  # the second case was not read

    asked.clear()
    pdf = board.meetings.meeting_pack(first, progress=lambda d, t: asked.append((d, t)) or True)
    assert pdf.startswith(b"%PDF")
    assert asked == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_a_meeting_pack_leaves_the_program_out_of_the_collectors_passes(
    meeting: tuple[Board, int, int],
) -> None:
    """While a pack is made, the objects alive before it (the program's modules, the fonts'
    tables, the window and the list in the app) are set aside from Python's garbage
    collector (`gc.freeze`): its full passes during the pack walk the pack's own objects
    only (bench/README.md, B7).  The collector keeps running on what the pack makes, and
    everything is given back afterwards, also when the pack is cancelled; a freeze made by
    someone else (an import beside) is left as it was."""
    import gc
    import weakref

    from crlmboard.services.meetings import PackCancelled

    board, first, _ = meeting
    for mrn in ("EX-0001", "EX-0002", "EX-0003"):
        board.meetings.add_to_agenda(first, mrn, "Resect?")
    made: list[weakref.ref[Any]] = []
    seen: list[tuple[int, bool]] = []

    def progress(done: int, total: int) -> bool:
        seen.append((done, gc.get_freeze_count() > 0))
        if done == 0:  # cyclic garbage made during the pack: collected during it
            cycle: dict[str, Any] = {}
            cycle["self"] = cycle
            made.append(weakref.ref(_Cyclic(cycle)))
        if done == total:
            assert made[0]() is None
        return True

    gc.collect()
    assert gc.get_freeze_count() == 0
    pdf = board.meetings.meeting_pack(first, progress=progress)
    assert pdf.startswith(b"%PDF")
    assert seen == [(done, True) for done in range(4)]  # before each case and at the end
    assert gc.get_freeze_count() == 0 and gc.isenabled()

    with pytest.raises(PackCancelled):
        board.meetings.meeting_pack(first, progress=lambda done, total: done < 1)
    assert gc.get_freeze_count() == 0

    gc.freeze()  # someone else's freeze (an import running beside the pack)
    try:
        frozen = gc.get_freeze_count()
        board.meetings.meeting_pack(first)
        assert gc.get_freeze_count() == frozen  # not undone by the pack
    finally:
        gc.unfreeze()


class _Cyclic:
    def __init__(self, holds: dict[str, Any]) -> None:
        self.holds = holds
