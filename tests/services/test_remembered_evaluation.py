"""The evaluation of an opened case is made once per stored case and save, as-of date and
profile (issue 21, B3): never handed to another case with the same MRN, never kept past a
save, equal to an evaluation made afresh."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crlmboard.domain.caseformat import loads_case
from crlmboard.domain.engine.readmodel import EvaluationView
from crlmboard.services import Board
from crlmboard.store.repositories import CaseRepository
from tests.conftest import GOLDEN, TODAY, turn_to

pytestmark = pytest.mark.db


def opened(board: Board, mrn: str) -> tuple[Any, EvaluationView, list[str], list[int]]:
    """What the window's door does to open a case (crlmboard/ui/ops.py `open_case`), with
    how often the evaluation was made."""
    made: list[int] = []
    case, stamp = board.cases.get_stamped(mrn)

    def make() -> tuple[EvaluationView, list[str]]:
        made.append(1)
        view = EvaluationView.of(board.evaluation.evaluate(case))
        return view, [change.text() for change in board.evaluation.engine_changes(case)]

    view, notes = board.evaluation.remembered(stamp, make)
    return case, view, notes, made


def afresh(board: Board, case: Any) -> EvaluationView:
    return EvaluationView.parse(board.evaluation.document(case), case)


def test_the_remembered_evaluation_equals_one_made_afresh(board: Board) -> None:
    board.cases.import_path(GOLDEN)
    case, first, _notes, made = opened(board, "EX-0003")
    assert made == [1]
    again, second, _notes, made_again = opened(board, "EX-0003")
    assert made_again == []  # remembered
    assert second is first
    assert second == afresh(board, again) == afresh(board, case)


def test_a_save_is_never_shown_with_the_evaluation_before_it(board: Board) -> None:
    board.cases.import_path(GOLDEN)
    case, before, _notes, _made = opened(board, "EX-0003")
    saved = board.cases.save(case.model_copy(update={"treatments": []}), 1)
    assert saved.version == 2
    after_case, after, _notes, made = opened(board, "EX-0003")
    assert made == [1]
    assert after == afresh(board, after_case) and after != before
    assert after.facts.chemotherapy != before.facts.chemotherapy


def test_another_day_or_profile_is_evaluated_again(board: Board, tmp_path: Path) -> None:
    board.cases.import_path(GOLDEN)
    opened(board, "EX-0001")
    turn_to(board, TODAY.replace(year=TODAY.year + 1))
    case, later, _notes, made = opened(board, "EX-0001")
    assert made == [1] and later.as_of == board.today() and later == afresh(board, case)
    profile = tmp_path / "stricter.toml"
    profile.write_text("chemo_washout_days = 35\n", "utf-8")
    board.evaluation.use_profile(profile)
    _case, stricter, _notes, made = opened(board, "EX-0001")
    assert made == [1] and stricter.profile_name == "stricter"


def test_a_case_made_again_with_the_same_mrn_gets_its_own_evaluation(db_path: Path) -> None:
    """Another program removes the case and makes a different one with the same MRN (its
    version is 1 again, and its id may be the same): this board, which remembered the
    first case's evaluation, must not hand it to the second."""
    with (
        Board.open(db_path, clock=lambda: TODAY, exclusive=False) as board,
        Board.open(db_path, clock=lambda: TODAY, exclusive=False) as elsewhere,
    ):
        board.cases.import_path(GOLDEN / "flr-after-chemotherapy.json")  # EX-0003, v1
        first_case, first, _notes, _made = opened(board, "EX-0003")
        _case, first_stamp = board.cases.get_stamped("EX-0003")

        other = loads_case((GOLDEN / "upfront-resection.json").read_text("utf-8"), TODAY)
        other = other.model_copy(
            update={"patient": other.patient.model_copy(update={"mrn": "EX-0003"})}
        )
        with elsewhere.database.write() as session:
            CaseRepository(session).delete("EX-0003")
        elsewhere.cases.create(other)

        second_case, second, _notes, made = opened(board, "EX-0003")
        _case, second_stamp = board.cases.get_stamped("EX-0003")
        assert second_stamp.version == first_stamp.version == 1
        assert second_stamp != first_stamp
        assert made == [1]
        assert second == afresh(board, second_case) != first
        assert second_case.patient.given_name == "Ada" != first_case.patient.given_name


def test_the_parts_computed_when_first_read_are_the_opened_case_s(board: Board) -> None:
    """The open builds the evaluation's view without the lesions' courses, the earlier
    episodes or the input hash (computed when a tab or a PDF first reads them): read after
    another case was opened, and from the remembered view at a later open, they are still
    the view's own case's, equal to an evaluation of that case made afresh."""
    board.cases.import_path(GOLDEN)
    first_case, first, _notes, _made = opened(board, "EX-0003")
    second_case, second, _notes, _made = opened(board, "EX-0002")
    assert first_case.imaging and second_case.imaging
    for case, view in ((second_case, second), (first_case, first)):
        fresh = afresh(board, case)
        assert view.mrn == case.mrn
        assert view.lesions == fresh.lesions and view.episodes == fresh.episodes
        assert view.input_sha256 == fresh.input_sha256
        recorded = {(le.id, tp.date) for tp in case.imaging for le in tp.lesions}
        assert {(c.lesion_id, c.date) for c in view.lesions} <= recorded
    again_case, again, _notes, made = opened(board, "EX-0003")
    assert made == [] and again is first and again.lesions == afresh(board, again_case).lesions
    assert first.lesions != second.lesions and first.input_sha256 != second.input_sha256
