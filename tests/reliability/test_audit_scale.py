"""T45: the audit chain is verified in one pass of bounded batches (memory does not grow
with the chain), and the quick check (`check --since-checkpoint`) walks only the rows after
the newest signed checkpoint the chain holds — tampering before that checkpoint is still
found by the full check (or, with the hashes recomputed, by the checkpoint itself), tampering
after it by the quick check.  Counts, never the clock (the times are bench/README.md's T45).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from crlmboard.cli import main
from crlmboard.services import Board
from crlmboard.store import audit
from crlmboard.store.audit import Actor, AuditLog
from crlmboard.store.database import audited_write, create_database_engine
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


@pytest.fixture
def filled(db_path: Path) -> Path:
    """The golden cases imported and closed: the head is signed (checkpoint file, key)."""
    with Board.open(db_path, clock=lambda: TODAY, now=Clock()) as board:
        assert board.cases.import_path(GOLDEN).ok
    return db_path


def open_board(path: Path) -> Board:
    return Board.open(path, clock=lambda: TODAY, now=Clock())


def head_of(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT max(seq) FROM audit_event").fetchone()[0])


def write_rows(path: Path, count: int) -> None:
    """`count` audit rows through the real writer, one per change, not signed (as rows
    written by a crlmboard that was stopped before signing, or by someone else, are)."""
    engine = create_database_engine(f"sqlite:///{path}")
    try:
        with audited_write(engine, Actor.current(), Clock()) as session:
            log = AuditLog.of(session)
            for index in range(count):
                log.record(
                    "setting",
                    "setting",
                    f"t45-{index}",
                    case_id=None,
                    before={"value": index},
                    after={"value": index + 1},
                )
    finally:
        engine.dispose()


class AuditReads:
    """The statements that read audit rows in chain order, with their parameters."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.reads: list[tuple[Any, ...]] = []
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        text = " ".join(statement.split())
        if "FROM audit_event WHERE audit_event.seq >" in text and "LIMIT" in text:
            self.reads.append(tuple(parameters))  # (after seq, limit, offset)

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


@pytest.fixture
def reads() -> Iterator[list[AuditReads]]:
    made: list[AuditReads] = []
    yield made
    for spy in made:
        spy.close()


def test_the_chain_is_verified_in_bounded_batches(filled: Path, reads: list[AuditReads]) -> None:
    write_rows(filled, 1_050)
    rows = head_of(filled)
    engine = create_database_engine(f"sqlite:///{filled}")
    try:
        spy = AuditReads(engine)
        reads.append(spy)
        with engine.connect() as connection:
            report = audit.verify_chain(connection, batch=100)
    finally:
        engine.dispose()
    assert report.ok, report.problems
    assert report.rows == rows and report.head is not None and report.head.seq == rows
    # one pass: each statement starts after the last row of the one before, 100 at most
    assert report.most_rows_held == 100
    assert report.batches == math.ceil(rows / 100)
    assert len(spy.reads) == report.batches + 1  # the last one finds nothing more
    starts = [params[0] for params in spy.reads]
    assert starts == [100 * i for i in range(report.batches)] + [rows]
    assert all(params[1] == 100 for params in spy.reads)


def test_the_quick_check_walks_only_the_rows_after_the_newest_checkpoint(
    filled: Path, reads: list[AuditReads]
) -> None:
    with open_board(filled) as board:  # saves, each signed after its commit
        for number in range(5):
            case, version = board.cases.get_with_version("EX-0001")
            labs = [lab.model_copy(update={"cea_ng_ml": 10 + number}) for lab in case.labs]
            board.cases.save(case.model_copy(update={"labs": labs}), version)
    signed = head_of(filled)
    with open_board(filled) as board:
        spy = AuditReads(board.database.engine)
        reads.append(spy)
        quick = board.maintenance.check(since_checkpoint=True)
        assert quick.ok, quick.problems
        assert quick.since is not None and quick.since.seq == signed
        assert quick.audit_rows == 0
        assert [params[0] for params in spy.reads] == [signed]  # nothing before it is read
        assert any("not checked" not in line and "vouched for" in line for line in quick.lines())
        assert any("integrity_check" in s for s in quick.skipped)
        spy.reads.clear()
        full = board.maintenance.check()
        assert full.ok, full.problems
        assert full.audit_rows == signed and full.since is None
        assert spy.reads[0][0] == 0
    write_rows(filled, 7)  # rows after the checkpoint, not signed by crlmboard
    with open_board(filled) as board:
        quick = board.maintenance.check(since_checkpoint=True)
    assert quick.audit_rows == 7 and quick.since is not None and quick.since.seq == signed
    assert any(f"rows {signed + 1}–{signed + 7} came after" in p for p in quick.problems)


def _tamper(path: Path, seq: int, *, rehash: bool = False) -> None:
    """Change who made audit row `seq` (the triggers dropped first), recomputing every later
    hash when asked (as an attacker with the code would)."""
    from tests.services.test_tamper_evidence import rehash_from, without_triggers

    connection = sqlite3.connect(path, isolation_level=None)
    connection.row_factory = sqlite3.Row
    try:
        without_triggers(connection)
        connection.execute("UPDATE audit_event SET app_user = 'mallory' WHERE seq = ?", (seq,))
        if rehash:
            rehash_from(connection, seq)
    finally:
        connection.close()


def test_tampering_before_the_checkpoint_is_found_by_the_full_check(filled: Path) -> None:
    signed = head_of(filled)
    _tamper(filled, 2)
    with open_board(filled) as board:
        quick = board.maintenance.check(since_checkpoint=True)
        full = board.maintenance.check()
    # the quick check walks nothing before the checkpoint, and says so
    assert quick.since is not None and quick.since.seq == signed and quick.audit_rows == 0
    assert any(f"audit rows 1–{signed}" in s for s in quick.skipped)
    assert any("audit row 2 was changed after it was written" in p for p in full.problems)


def test_a_rewrite_before_the_checkpoint_with_hashes_recomputed_is_found_by_both(
    filled: Path,
) -> None:
    signed = head_of(filled)
    _tamper(filled, 2, rehash=True)
    with open_board(filled) as board:
        quick = board.maintenance.check(since_checkpoint=True)
        full = board.maintenance.check()
    for report in (quick, full):
        assert any(
            f"audit row {signed} is not the one the checkpoint" in p for p in report.problems
        ), report.problems


def test_tampering_after_the_checkpoint_is_found_by_the_quick_check(filled: Path) -> None:
    signed = head_of(filled)
    write_rows(filled, 5)
    _tamper(filled, signed + 3)
    with open_board(filled) as board:
        quick = board.maintenance.check(since_checkpoint=True)
    assert quick.audit_rows == 5
    assert any(
        f"audit row {signed + 3} was changed after it was written" in p for p in quick.problems
    ), quick.problems


def test_without_a_key_the_quick_check_walks_the_whole_chain(filled: Path) -> None:
    from crlmboard.store import keys

    for key in keys.key_folder().glob("*"):
        key.unlink()
    with open_board(filled) as board:
        quick = board.maintenance.check(since_checkpoint=True)
    assert quick.since is None and quick.audit_rows == head_of(filled)
    assert any("whole audit chain was walked" in w for w in quick.warnings)


def test_the_command_line_quick_check(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--since-checkpoint", "--db", str(filled)]) == 0
    out = capsys.readouterr().out
    assert "No problems found." in out
    assert "vouched for by the checkpoint of audit row" in out
    assert "not checked (quick check): integrity_check and foreign_key_check" in out
    _tamper(filled, head_of(filled), rehash=True)
    assert main(["check", "-q", "--since-checkpoint", "--db", str(filled)]) == 1
    assert "is not the one the checkpoint" in capsys.readouterr().out
