"""T31 as a Hypothesis state machine: any sequence of the board's operations — imports,
saves, meetings, agenda changes, sign-offs, follow-ups, deletions, erasures (T39) — leaves
every clinical row equal to what its audit rows say (replaying the trail from empty
reproduces the stored state), after every step; the chain and every check hold at the end."""

from __future__ import annotations

import contextlib
import copy
import json
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from crlmboard.domain.caseformat import case_from_dict
from crlmboard.domain.validation import InvalidInput
from crlmboard.services import Board, BoardError
from crlmboard.services.erasure import ErasureRefused
from crlmboard.store.integrity import replay_problems
from tests.conftest import TODAY, Calendar
from tests.strategies import valid_case

pytestmark = [pytest.mark.db, pytest.mark.slow]


class BoardOperations(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="crlmboard-t31-"))
        self.board = Board.open(self.folder / "board.sqlite3", clock=Calendar())
        self.mrns: list[str] = []
        self.meetings: list[int] = []
        self.made = 0

    def teardown(self) -> None:
        try:
            report = self.board.maintenance.check()
            assert report.ok, report.problems
        finally:
            self.board.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- cases ----------------------------------------------------------------------

    @rule(document=valid_case)
    def import_a_case(self, document: dict[str, Any]) -> None:
        self.made += 1
        document = copy.deepcopy(document)
        document["patient"]["mrn"] = mrn = f"T31-{self.made:03d}"
        self.board.cases.import_text(json.dumps(document))
        self.mrns.append(mrn)

    @precondition(lambda self: self.mrns)
    @rule(data=st.data(), document=valid_case)
    def save_another_version(self, data: st.DataObject, document: dict[str, Any]) -> None:
        mrn = data.draw(st.sampled_from(self.mrns))
        stored, version = self.board.cases.get_with_version(mrn)
        document = copy.deepcopy(document)
        document["patient"]["mrn"] = mrn
        case = case_from_dict(document, TODAY).model_copy(update={"reviews": stored.reviews})
        with contextlib.suppress(InvalidInput):  # the new records may contradict a review
            self.board.cases.save(case, version)

    @precondition(lambda self: self.mrns)
    @rule(data=st.data(), weight=st.floats(30, 150).map(lambda w: round(w, 2)))
    def save_a_weight(self, data: st.DataObject, weight: float) -> None:
        mrn = data.draw(st.sampled_from(self.mrns))
        case, version = self.board.cases.get_with_version(mrn)
        patient = case.patient.model_copy(update={"weight_kg": weight})
        self.board.cases.save(case.model_copy(update={"patient": patient}), version)

    # -- meetings -------------------------------------------------------------------

    @rule(days_ago=st.integers(0, 30))
    def create_a_meeting(self, days_ago: int) -> None:
        made = self.board.meetings.create(TODAY - timedelta(days=days_ago))
        self.meetings.append(made.meeting_id)

    @precondition(lambda self: self.meetings and self.mrns)
    @rule(data=st.data())
    def put_a_case_on_an_agenda(self, data: st.DataObject) -> None:
        meeting = data.draw(st.sampled_from(self.meetings))
        mrn = data.draw(st.sampled_from(self.mrns))
        with contextlib.suppress(InvalidInput):  # already on that agenda
            self.board.meetings.add_to_agenda(meeting, mrn, f"Question {self.made}")

    def _entries(self, status: str | None = None) -> list[Any]:
        return [
            entry
            for meeting in self.meetings
            for entry in self.board.meetings.get(meeting).agenda
            if status is None or entry.status == status
        ]

    @precondition(lambda self: self.meetings)
    @rule(data=st.data())
    def take_a_case_off_an_agenda(self, data: st.DataObject) -> None:
        entries = self._entries("planned")
        if entries:
            self.board.meetings.remove_from_agenda(data.draw(st.sampled_from(entries)).id)

    @precondition(lambda self: self.meetings)
    @rule(data=st.data())
    def sign_a_review(self, data: st.DataObject) -> None:
        entries = self._entries("planned")
        if not entries:
            return
        entry = data.draw(st.sampled_from(entries))
        draft = self.board.reviews.start(entry.meeting_id, entry.mrn)
        self.board.reviews.sign(draft, recommendation=None, decision=f"Decision {self.made}")

    @precondition(lambda self: self.mrns)
    @rule(data=st.data(), status=st.sampled_from(["done", "not_done", "pending"]))
    def record_a_follow_up(self, data: st.DataObject, status: str) -> None:
        signed = [
            (mrn, index)
            for mrn in self.mrns
            for index, review in enumerate(self.board.cases.get(mrn).reviews)
            if review.signed
        ]
        if not signed:
            return
        mrn, index = data.draw(st.sampled_from(signed))
        with contextlib.suppress(InvalidInput, BoardError):  # a reason the status refuses
            self.board.reviews.set_follow_up(mrn, index, status, reason="synthetic reason")

    @precondition(lambda self: self.meetings)
    @rule(data=st.data())
    def delete_a_meeting(self, data: st.DataObject) -> None:
        meeting = data.draw(st.sampled_from(self.meetings))
        try:
            self.board.meetings.delete(meeting)
        except (InvalidInput, BoardError):
            return  # one with a signed review stays
        self.meetings.remove(meeting)

    @precondition(lambda self: self.mrns)
    @rule(data=st.data(), including_signed=st.booleans())
    def erase_a_case(self, data: st.DataObject, including_signed: bool) -> None:
        mrn = data.draw(st.sampled_from(self.mrns))
        try:
            self.board.erasure.erase(
                mrn,
                reason="synthetic test patient",
                confirm_mrn=mrn,
                including_signed=including_signed,
            )
        except ErasureRefused:
            assert not including_signed  # refused only for its signed reviews
            return
        self.mrns.remove(mrn)

    # -- the invariant ----------------------------------------------------------------

    @invariant()
    def the_trail_reproduces_the_stored_state(self) -> None:
        with self.board.database.read() as session:
            assert replay_problems(session) == []


BoardOperations.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_any_sequence_of_operations_is_audited = BoardOperations.TestCase


def test_a_row_id_given_again_to_another_case_is_no_tampering(tmp_path: Path) -> None:
    """Found by the machine above: SQLite gives a new row the highest id freed by a delete;
    when the new record belongs to another case (a lab, an agenda entry), check replayed
    the trail case by case and took the record for one written outside crlmboard."""
    with Board.open(tmp_path / "board.sqlite3", clock=Calendar()) as board:
        board.cases.import_path(Path(__file__).parents[1] / "golden")
        last = sorted(board.cases.page(""), key=lambda e: e.id)[-1].mrn  # its lab: top id
        case, version = board.cases.get_with_version(last)
        board.cases.save(case.model_copy(update={"labs": case.labs[:-1]}), version)
        first = "EX-0001" if last != "EX-0001" else "EX-0002"
        case, version = board.cases.get_with_version(first)
        board.cases.save(case.model_copy(update={"labs": [*case.labs, case.labs[-1]]}), version)
        meeting = board.meetings.create(TODAY - timedelta(days=1)).meeting_id
        entry = board.meetings.add_to_agenda(meeting, last, "First question?")
        board.meetings.remove_from_agenda(entry.item_id)
        assert board.meetings.add_to_agenda(meeting, first, "Other").item_id == entry.item_id
        report = board.maintenance.check()
        assert report.ok, report.problems
