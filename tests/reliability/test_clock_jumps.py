"""T23: the clock jumps between opens — a year forward, a year back, through a DST change.
No backup may be pruned because of a jump, and the newest verified backup survives."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crlmboard.store import backup as store_backup
from tests.conftest import GOLDEN
from tests.services.test_maintenance import Clock, open_board

pytestmark = [pytest.mark.db, pytest.mark.slow]


def edit_and_close(path: Path, clock: Clock, weight: float) -> None:
    """An open with a change, as a coordinator's day (a backup at open or close)."""
    with open_board(path, clock) as board:
        case, version = board.cases.get_with_version("EX-0001")
        patient = case.patient.model_copy(update={"weight_kg": weight})
        board.cases.save(case.model_copy(update={"patient": patient}), version)


def test_clock_jumps_prune_nothing(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a local zone with a DST change in the month of daily use (Berlin, 2026-10-25)
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        clock = Clock(datetime(2026, 10, 1, 7, 30, tzinfo=UTC))
        with open_board(db_path, clock) as board:
            board.cases.import_text((GOLDEN / "upfront-resection.json").read_text("utf-8"))
        for day in range(40):  # forty working days, through the DST change
            clock.advance(days=1)
            edit_and_close(db_path, clock, 50.0 + day)
        before = {b.path for b in store_backup.list_backups(db_path)}
        days_before = {b.created.date() for b in store_backup.list_backups(db_path) if b.created}
        assert len(days_before) >= 30  # one a day kept for 30 days, through the DST change
        newest = max(store_backup.list_backups(db_path), key=lambda b: b.created or clock())

        clock.advance(days=365)  # the clock jumps a year forward
        edit_and_close(db_path, clock, 99.0)
        after_forward = {b.path for b in store_backup.list_backups(db_path)}
        # only what a single new day would retire: the oldest day's backup, at most
        assert len(before - after_forward) <= 1, sorted(p.name for p in before - after_forward)
        assert newest.path in after_forward

        clock.advance(days=-365)  # … and back
        clock.advance(hours=1)
        edit_and_close(db_path, clock, 98.0)
        after_back = {b.path for b in store_backup.list_backups(db_path)}
        assert after_forward <= after_back  # nothing pruned: the "future" one is kept too
        with open_board(db_path, clock) as board:
            report = board.maintenance.check()
        assert any("clock went back" in w for w in report.warnings), report.warnings
        assert all(b.verified for b in store_backup.list_backups(db_path))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_the_daily_backups_of_the_last_thirty_days_of_use_are_kept() -> None:
    """The rule: besides the last ten, the newest backup of each of the 31 most recent days
    that have one (the newest and the 30 before it, as many as a window of 30 days holds) —
    so a jump forward (or a long absence) does not retire them all."""
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    daily = [
        store_backup.BackupInfo(
            Path(f"d{i:02d}"), start + timedelta(days=i), 1, "0008", "open", None, True
        )
        for i in range(40)
    ]
    jumped = start + timedelta(days=39 + 365)
    later = store_backup.BackupInfo(Path("later"), jumped, 1, "0008", "open", None, True)
    keep = store_backup.to_keep([*daily, later], jumped)
    assert keep == {Path("later")} | {b.path for b in daily[-30:]}
