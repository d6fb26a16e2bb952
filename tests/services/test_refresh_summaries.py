"""`board.cases.refresh_summaries` racing a save: a case saved after the refresh read it
keeps the summary its save stored, and the refresh does not name it (the refresh's summary
was computed from the version before).  See also test_case_summaries.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crlmboard.domain.case import Case
from crlmboard.domain.models import Resectability
from crlmboard.services import Board
from crlmboard.services.demo import demo_case_files
from crlmboard.store.repositories import CaseSummary
from tests.conftest import TODAY

pytestmark = pytest.mark.db
DRIFTS = "DEMO-0013"  # its open warnings change as the months pass


def listed(board: Board) -> dict[str, CaseSummary]:
    return {
        e.mrn: CaseSummary(e.resectability, e.current_response, e.open_warnings, e.open_criticals)
        for e in board.cases.page(sort="mrn", limit=1000)
    }


def load_demo(board: Board) -> None:
    for file in demo_case_files():
        board.cases.import_path(file, replace=True)


def test_a_case_saved_meanwhile_keeps_the_summary_of_its_save(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = [TODAY]
    with Board.open(db_path, clock=lambda: today[0]) as board:
        load_demo(board)
        today[0] = TODAY + timedelta(days=400)
        summary = board.evaluation.summary
        saved: list[int] = []

        def save_while_refreshing(case: Case) -> Any:
            # the coordinator saves the case after the refresh read it, before it writes
            if case.mrn == DRIFTS and not saved:
                saved.append(0)
                stored, version = board.cases.get_with_version(DRIFTS)
                assert stored.plan is not None
                plan = stored.plan.model_copy(update={"resectability": Resectability.UNRESECTABLE})
                saved[0] = board.cases.save(
                    stored.model_copy(update={"plan": plan}), version
                ).version
            return summary(case)

        monkeypatch.setattr(board.evaluation, "summary", save_while_refreshing)
        changes = board.cases.refresh_summaries(limit=1000).changes
        assert saved and DRIFTS not in changes.cases  # the save stored its own summary
        assert listed(board)[DRIFTS] == summary(board.cases.get(DRIFTS))
        assert listed(board)[DRIFTS].resectability == "unresectable"  # not the refresh's
        assert board.cases.get_with_version(DRIFTS)[1] == saved[0]


def counted_summaries(board: Board, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The MRNs whose summary the refresh computes, in order."""
    summary, seen = board.evaluation.summary, []

    def counting(case: Case) -> CaseSummary:
        seen.append(case.mrn)
        return summary(case)

    monkeypatch.setattr(board.evaluation, "summary", counting)
    return seen


def test_a_pass_left_unfinished_goes_on_from_its_last_step(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 100,000 patients a day's pass outlasts many a session: the next start (a new
    pass from the start, `after=None`) goes on after the last case stored, not from the
    first case again."""
    today = [TODAY]
    with Board.open(db_path, clock=lambda: today[0]) as board:
        load_demo(board)
        everyone = sorted(listed(board))
        today[0] = TODAY + timedelta(days=400)
        seen = counted_summaries(board, monkeypatch)
        first = board.cases.refresh_summaries(limit=5)  # the app closed after one step
        assert first.next_after == everyone[4] and seen == everyone[:5]
    with Board.open(db_path, clock=lambda: today[0]) as board:
        seen = counted_summaries(board, monkeypatch)
        step = board.cases.refresh_summaries(limit=1000)
        assert step.next_after is None
        assert seen == everyone[5:]
        assert listed(board)[DRIFTS] == board.evaluation.summary(board.cases.get(DRIFTS))
        seen.clear()
        board.cases.refresh_summaries()  # done for the day: nothing computed
        assert seen == []


def test_a_new_day_starts_its_pass_from_the_first_case(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = [TODAY]
    with Board.open(db_path, clock=lambda: today[0]) as board:
        load_demo(board)
        everyone = sorted(listed(board))
        today[0] = TODAY + timedelta(days=400)
        board.cases.refresh_summaries(limit=5)
        today[0] = TODAY + timedelta(days=401)  # unfinished, and the next day came
        seen = counted_summaries(board, monkeypatch)
        board.cases.refresh_summaries(limit=1000)
        assert seen == everyone
