"""`board.cases.refresh_summaries`: the case list's summary columns (warnings, response,
resectability) are stored at each save and go stale as days pass (a demo case drifts);
computing them again as of today stores those that changed, names them, and leaves the
cases' versions alone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crlmboard.domain.case import Case
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


def test_summaries_follow_the_date(db_path: Path) -> None:
    today = [TODAY]
    with Board.open(db_path, clock=lambda: today[0]) as board:
        load_demo(board)
        before = listed(board)
        versions = {m: board.cases.get_with_version(m)[1] for m in before}
        today[0] = TODAY + timedelta(days=400)
        expected = {m: board.evaluation.summary(board.cases.get(m)) for m in before}
        assert expected[DRIFTS] != before[DRIFTS]  # the stored summary went stale

        seen: list[tuple[int, int]] = []
        changes = board.cases.refresh_summaries(lambda done, total: seen.append((done, total)))

        assert listed(board) == expected
        assert changes.cases == {m for m in before if expected[m] != before[m]}
        assert {m: board.cases.get_with_version(m)[1] for m in before} == versions
        assert seen[-1] == (len(before), len(before))
        assert board.maintenance.check().ok
        assert board.cases.refresh_summaries().empty  # nothing stale any more


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
                patient = stored.patient.model_copy(update={"given_name": "Edited"})
                saved[0] = board.cases.save(
                    stored.model_copy(update={"patient": patient}), version
                ).version
            return summary(case)

        monkeypatch.setattr(board.evaluation, "summary", save_while_refreshing)
        changes = board.cases.refresh_summaries()
        assert saved and DRIFTS not in changes.cases  # the save stored its own summary
        assert listed(board)[DRIFTS] == summary(board.cases.get(DRIFTS))
        assert board.cases.get_with_version(DRIFTS)[1] == saved[0]
