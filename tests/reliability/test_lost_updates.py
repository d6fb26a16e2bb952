"""No write may undo a save committed while it ran (PostgreSQL, read committed).

A write that reads a case and then, in a second statement, its version takes the version
of a save committed between the two reads for the version of the case it read: its update
passes the version check and silently undoes that save.  Each test commits a save from
another connection right after the write under test has read the case (the interleaving a
busy department makes by chance) and checks that the save survives — the write is refused
as a conflict, or made on top of it.  SQLite cannot interleave so (every write is BEGIN
IMMEDIATE and every read one snapshot)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crlmboard.domain.case import Case
from crlmboard.services import Board, BoardError
from crlmboard.store.repositories import CaseRepository
from tests.conftest import GOLDEN, TODAY, Calendar, turn_to

pytestmark = [pytest.mark.postgres, pytest.mark.db]

MRN = "EX-0001"


@pytest.fixture
def boards(own_postgres: str) -> Iterator[tuple[Board, Board]]:
    """Two coordinators on one PostgreSQL database with the upfront-resection case, signed
    at yesterday's meeting."""
    with (
        Board.open(own_postgres, clock=Calendar()) as first,
        Board.open(own_postgres, clock=Calendar()) as second,
    ):
        first.cases.import_path(GOLDEN / "upfront-resection.json")
        meeting = first.meetings.create(TODAY - timedelta(days=1)).meeting_id
        first.meetings.add_to_agenda(meeting, MRN, "Resect first?")
        draft = first.reviews.start(meeting, MRN)
        first.reviews.sign(draft, recommendation=None, decision="Resect", password="unused")
        yield first, second


def after_reading_the_case(monkeypatch: pytest.MonkeyPatch, action: Callable[[], Any]) -> Any:
    """Run `action` (once) right after the next read of the case's row."""
    original = CaseRepository.get_stamped  # (`get_with_version` reads through it)
    fired: list[bool] = []

    def get_stamped(self: CaseRepository, mrn: str) -> tuple[Case, Any]:
        found = original(self, mrn)
        if mrn == MRN and not fired:
            fired.append(True)
            action()
        return found

    monkeypatch.setattr(CaseRepository, "get_stamped", get_stamped)
    return fired


def their_save(board: Board, **patient: Any) -> Callable[[], None]:
    def save() -> None:
        case, version = board.cases.get_with_version(MRN)
        changed = case.patient.model_copy(update=patient)
        board.cases.save(case.model_copy(update={"patient": changed}), version)

    return save


def test_a_follow_up_never_undoes_a_save(
    boards: tuple[Board, Board], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = boards
    fired = after_reading_the_case(monkeypatch, their_save(second, weight_kg=58.25))
    try:
        first.reviews.set_follow_up(MRN, 0, "done")
    except BoardError as refused:  # refused as a conflict: nothing of it stored
        assert "changed while" in str(refused)
        assert first.cases.get(MRN).reviews[0].follow_up.status == "pending"
    else:
        assert first.cases.get(MRN).reviews[0].follow_up.status == "done"
    assert fired
    assert first.cases.get(MRN).patient.weight_kg == 58.25  # their save was kept


def test_a_referral_never_undoes_a_save(
    boards: tuple[Board, Board], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first, second = boards
    case, version = first.cases.get_with_version(MRN)
    patient = case.patient.model_copy(update={"referring_clinician": None})
    first.cases.save(case.model_copy(update={"patient": patient}), version)
    case = first.cases.get(MRN)
    csv = tmp_path / "referrals.csv"
    csv.write_text(f"mrn,referring_clinician\n{MRN},Dr Synthetic Referrer\n", "utf-8")
    assert case.patient.referring_clinician is None  # the referral fills it in
    fired = after_reading_the_case(monkeypatch, their_save(second, weight_kg=58.25))
    summary = first.cases.import_path(csv)
    stored = first.cases.get(MRN)
    if summary.ok:
        assert stored.patient.referring_clinician == "Dr Synthetic Referrer"
    else:  # refused as a conflict: nothing of it stored
        assert "changed while" in str(summary.refused), summary
        assert stored.patient.referring_clinician is None
    assert fired
    assert stored.patient.weight_kg == 58.25  # their save was kept


def test_the_daily_summary_recompute_never_stores_a_stale_summary(
    boards: tuple[Board, Board], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case list's summary (open criticals, resectability) is the stored case's, even
    when the case was saved while the recompute read it."""
    first, second = boards

    def save_without_imaging() -> None:
        case, version = second.cases.get_with_version(MRN)
        second.cases.save(case.model_copy(update={"imaging": []}), version)

    turn_to(first, TODAY + timedelta(days=30))  # a new day: the recompute runs
    turn_to(second, TODAY + timedelta(days=30))
    before = first.cases.page(MRN)[0]
    fired = after_reading_the_case(monkeypatch, save_without_imaging)
    after = None
    while True:
        step = first.cases.refresh_summaries(after)
        if step.next_after is None:
            break
        after = step.next_after
    assert fired
    monkeypatch.undo()
    stored = first.cases.get(MRN)
    assert stored.imaging == []
    entry = first.cases.page(MRN)[0]
    expected = first.cases.evaluation.summary(stored)
    assert (entry.open_criticals, entry.open_warnings) == (
        expected.open_criticals,
        expected.open_warnings,
    )
    assert (entry.resectability, entry.current_response) == (
        expected.resectability,
        expected.current_response,
    )
    assert vars(expected) != {  # the save changed the summary (else this proves nothing)
        k: getattr(before, k) for k in vars(expected)
    }
