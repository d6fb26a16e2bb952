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
