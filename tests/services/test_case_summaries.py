"""The case list's summary columns follow the date and the profile: `refresh_summaries`
recomputes them in steps, stores those that differ without a new case version, and does
nothing again on the same date, engine and profile.  Real SQLite file."""

from __future__ import annotations

from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import pytest

from crlmboard.domain.case import Case
from crlmboard.services import Board
from crlmboard.services.cases import SUMMARIES_STAMP
from crlmboard.store.repositories import CaseSummary, SettingRepository
from tests.conftest import GOLDEN, TODAY

pytestmark = [pytest.mark.db]


DEMO = Path(str(resources.files("crlmboard") / "resources" / "demo"))


def listed(board: Board) -> dict[str, tuple[object, ...]]:
    return {
        e.mrn: (e.current_response, e.open_warnings, e.open_criticals, e.version)
        for e in board.cases.page(limit=100)
    }


def test_summaries_follow_the_date_in_steps_and_only_once_a_day(db_path: Path) -> None:
    day = [TODAY]
    with Board.open(db_path, clock=lambda: day[0]) as board:
        board.cases.import_path(DEMO)  # the demo cases
        before = listed(board)
        assert board.cases.refresh_summaries().changes.empty  # as saved: nothing to do ...
        assert listed(board) == before

        day[0] = TODAY + timedelta(days=30)  # a month on: DEMO-0013 has a warning less
        expected = {}
        for mrn in before:
            summary = board.evaluation.summary(board.cases.get(mrn))
            expected[mrn] = (
                summary.current_response,
                summary.open_warnings,
                summary.open_criticals,
                before[mrn][3],  # no new version
            )
        assert expected["DEMO-0013"] != before["DEMO-0013"]  # the date matters
        steps, changed, after = 0, set(), None
        while True:
            step = board.cases.refresh_summaries(after, limit=7)
            steps += 1
            changed |= step.changes.cases
            after = step.next_after
            if after is None:
                break
        assert steps == len(before) // 7 + 1  # seven at a time, and a last short step
        assert changed == {m for m in before if expected[m] != before[m]}
        assert listed(board) == expected
        # the same day again: nothing read, nothing written
        assert board.cases.refresh_summaries().changes.empty


def test_a_new_profile_or_day_refreshes_again(db_path: Path, tmp_path: Path) -> None:
    with Board.open(db_path, clock=lambda: date(2026, 11, 24)) as board:
        board.cases.import_path(GOLDEN)
        board.cases.refresh_summaries()
        stamp_before = board.cases._summaries_stamp()
        profile = tmp_path / "strict.toml"
        profile.write_text("restaging_interval_days = 7\nrestaging_soon_days = 3\n", "utf-8")
        board.evaluation.use_profile(profile)
        assert board.cases._summaries_stamp() != stamp_before
        step = board.cases.refresh_summaries(limit=100)
        assert step.next_after is None
        for entry in board.cases.page(limit=100):
            summary = board.evaluation.summary(board.cases.get(entry.mrn))
            assert (entry.open_warnings, entry.open_criticals) == (
                summary.open_warnings,
                summary.open_criticals,
            )


def test_a_recomputed_summary_is_audited_and_check_still_passes(db_path: Path) -> None:
    """`check` compares the case list's summary columns with the audit trail, so the daily
    recompute writes its change there too: a new day is never taken for tampering."""
    day = [TODAY]
    with Board.open(db_path, clock=lambda: day[0]) as board:
        board.cases.import_path(DEMO)
        day[0] = TODAY + timedelta(days=30)
        after = None
        changed: set[str] = set()
        while True:
            step = board.cases.refresh_summaries(after, limit=50)
            changed |= step.changes.cases
            after = step.next_after
            if after is None:
                break
        assert "DEMO-0013" in changed
        history = board.maintenance.case_history("DEMO-0013")
        assert any(e.action == "update" and "open_warnings" in (e.after or {}) for e in history)
        report = board.maintenance.check()
        assert report.ok, report.lines()


def test_a_step_gives_way_after_one_case_when_a_person_waits(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21, B2: the background recompute must not hold a keystroke's query for a whole
    step of cases.  While `give_way()` is true a step ends after one case (work bounded by
    count, never by the clock); the pass still reaches every case, and is marked done
    only at its true end."""
    day = [TODAY]
    with Board.open(db_path, clock=lambda: day[0]) as board:
        board.cases.import_path(DEMO)
        before = listed(board)
        day[0] = TODAY + timedelta(days=30)
        expected = {
            mrn: board.evaluation.summary(board.cases.get(mrn)).open_warnings for mrn in before
        }
        computed: list[str] = []
        summary = board.evaluation.summary

        def counted(case: Case) -> CaseSummary:
            computed.append(case.mrn)
            return summary(case)

        monkeypatch.setattr(board.evaluation, "summary", counted)

        def stamped() -> bool:
            with board.database.read() as session:
                stored = SettingRepository(session).get(SUMMARIES_STAMP)
            return stored == board.cases._summaries_stamp()

        steps, after = 0, None
        while True:
            done_before = len(computed)
            step = board.cases.refresh_summaries(after, limit=7, give_way=lambda: True)
            steps += 1
            assert len(computed) - done_before == 1  # one case, then it gave way
            after = step.next_after
            if after is None:
                break
            assert not stamped()  # cases are left: the pass is not done
        assert stamped()
        assert steps == len(before)
        assert sorted(computed) == sorted(before)
        assert {mrn: entry[1] for mrn, entry in listed(board).items()} == expected
        # nobody waiting: whole steps again
        computed.clear()
        day[0] = TODAY + timedelta(days=31)
        step = board.cases.refresh_summaries(None, limit=7, give_way=lambda: False)
        assert len(computed) == 7 and step.next_after is not None
