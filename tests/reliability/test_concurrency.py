"""Concurrency across processes: two writers through the services (T7, minimum-six fault 5),
the BEGIN IMMEDIATE guard, and a second app while the first holds the database (T9)."""

from __future__ import annotations

import getpass
import os
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from crlmboard.services import Board
from crlmboard.services.maintenance import encrypt_database
from crlmboard.store.database import create_database_engine, database_url
from tests.conftest import GOLDEN, TODAY
from tests.reliability.conftest import child, run_to_end

pytestmark = [pytest.mark.db, pytest.mark.slow]

SAVER = """
import os, sys
from crlmboard.services import Board, BoardError
from tests.conftest import TODAY
path, mrn, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
board = Board.open(
    path,
    clock=lambda: TODAY,
    exclusive=False,
    wait=20,
    passphrase=os.environ.get("CRLMBOARD_PASSPHRASE"),
)
print("ready", flush=True)
sys.stdin.readline()
refused = 0
for i in range(count):
    case, version = board.cases.get_with_version(mrn)
    patient = case.patient.model_copy(update={"weight_kg": 40 + (i + 1) / 100})
    try:
        board.cases.save(case.model_copy(update={"patient": patient}), version)
    except BoardError as error:
        refused += 1
        print("refused:", error, flush=True)
    print("saved", i, flush=True)  # a step done: the test waits on progress, not the clock
board.close()
print("done", refused, flush=True)
"""


def saves() -> int:
    return int(os.environ.get("CRLMBOARD_T7_SAVES", 1000))


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_two_processes_save_through_the_services(
    db_path: Path, encrypted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T7: every save stored with its audit rows, nothing refused (the time is printed); on
    a SQLCipher database too (a quarter of the saves)."""
    count = saves()
    with Board.open(db_path, clock=lambda: TODAY) as board:
        board.cases.import_path(GOLDEN)
    if encrypted:
        count = max(1, count // 4)
        encrypt_database(db_path, "synthetic concurrency passphrase")
        monkeypatch.setenv("CRLMBOARD_PASSPHRASE", "synthetic concurrency passphrase")
    writers = [
        child(SAVER, str(db_path), mrn, str(count), stdin=subprocess.PIPE)
        for mrn in ("EX-0001", "EX-0002")
    ]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    outputs = run_to_end(writers)  # bounded by the count; fails only on a stall
    elapsed = time.perf_counter() - started
    print(f"T7: 2 × {count} saves in {elapsed:.1f} s")
    for (out, err), writer in zip(outputs, writers, strict=True):
        assert writer.returncode == 0, err
        assert out.strip().endswith("done 0"), out[-2000:]
        assert "locked" not in out + err
    # T7's 30 s is a timing figure: it is reported here and measured by bench/, not asserted
    # (timings in unit tests fail on a busy machine; ~20 s was measured on an idle one).
    with Board.open(db_path, clock=lambda: TODAY) as board:
        for mrn in ("EX-0001", "EX-0002"):
            case, version = board.cases.get_with_version(mrn)
            assert version == 1 + count
            assert case.patient.weight_kg == pytest.approx(40 + count / 100)
            history = board.maintenance.case_history(mrn)
            weights = [e for e in history if e.action == "update" and e.table == "patient"]
            assert len(weights) == count
        assert board.maintenance.check().ok


GUARD = """
import sys
import sqlalchemy as sa
from crlmboard.store.database import create_database_engine, database_url, write_session
from sqlalchemy.orm import Session
path, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
engine = create_database_engine(database_url(path))
print("ready", flush=True)
sys.stdin.readline()
failed = 0
for _ in range(count):
    try:
        if mode == "immediate":
            with write_session(engine) as session:
                value = session.execute(sa.text("SELECT n FROM counter")).scalar_one()
                session.execute(sa.text("UPDATE counter SET n = :n"), {"n": value + 1})
        else:
            with Session(engine) as session, session.begin():
                value = session.execute(sa.text("SELECT n FROM counter")).scalar_one()
                session.execute(sa.text("UPDATE counter SET n = :n"), {"n": value + 1})
    except sa.exc.OperationalError:
        failed += 1
    print("step", flush=True)
print("failed", failed, flush=True)
"""


@pytest.mark.parametrize("mode", ["immediate", "deferred"])
def test_read_then_write_needs_begin_immediate(tmp_path: Path, mode: str) -> None:
    """T7's guard: deferred read-then-write transactions lose updates to 'database is
    locked' at once; with the BEGIN IMMEDIATE hook none is lost."""
    path = tmp_path / "counter.sqlite3"
    engine = create_database_engine(database_url(path))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    count = 300
    workers = [child(GUARD, str(path), mode, str(count), stdin=subprocess.PIPE) for _ in range(2)]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    failed = sum(int(out.split()[-1]) for out, _err in run_to_end(workers))
    with engine.connect() as connection:
        total = connection.execute(sa.text("SELECT n FROM counter")).scalar_one()
    engine.dispose()
    assert total + failed == 2 * count
    if mode == "immediate":
        assert failed == 0
    else:
        assert failed > 0


HOLDER = """
import sys, time
from crlmboard.services import Board
from crlmboard.services.maintenance import encrypt_database
from tests.conftest import TODAY
board = Board.open(sys.argv[1], clock=lambda: TODAY)
case, version = board.cases.get_with_version("EX-0001")
board.cases.save(case.model_copy(update={"labs": []}), version)
print("holding", flush=True)
sys.stdin.readline()
board.close()
print("closed", flush=True)
"""


def test_a_second_app_while_another_process_holds_the_database(db_path: Path) -> None:
    """T9 across processes: read-only with a banner naming user, host and pid; no write is
    lost in either instance."""
    with Board.open(db_path, clock=lambda: TODAY) as board:
        board.cases.import_path(GOLDEN)
    holder = child(HOLDER, str(db_path), stdin=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "holding", holder.communicate()[1]
    second = Board.open(db_path, clock=lambda: TODAY)
    try:
        assert second.read_only
        assert getpass.getuser() in (second.read_only_reason or "")
        assert str(holder.pid) in (second.read_only_reason or "")
        assert second.cases.get("EX-0001").labs == []  # sees the holder's write
    finally:
        second.close()
    holder.stdin.write("close\n")
    holder.stdin.flush()
    assert holder.communicate(timeout=30)[0].strip().endswith("closed")
    with Board.open(db_path, clock=lambda: TODAY) as third:
        assert not third.read_only
        case, version = third.cases.get_with_version("EX-0002")
        third.cases.save(case.model_copy(update={"labs": []}), version)
        assert third.cases.get("EX-0001").labs == []
