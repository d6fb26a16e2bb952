"""T15: another program (the sqlite3 shell, say) holds the database with BEGIN EXCLUSIVE."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crlmboard.services import Board
from crlmboard.services.changes import Busy
from tests.conftest import GOLDEN, TODAY
from tests.reliability.conftest import child

pytestmark = [pytest.mark.db, pytest.mark.slow]

HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("holding", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
connection.close()
print("released", flush=True)
"""


def test_a_database_locked_by_another_program(db_path: Path) -> None:
    """After busy_timeout the save is refused naming the cause; nothing is lost or half
    written; once the other program lets go, the same save goes through."""
    with Board.open(db_path, clock=lambda: TODAY, exclusive=False) as board:
        board.cases.import_path(GOLDEN / "upfront-resection.json")
        case, version = board.cases.get_with_version("EX-0001")
        edited = case.model_copy(
            update={"patient": case.patient.model_copy(update={"weight_kg": 58.25})}
        )
        holder = child(HOLDER, str(db_path), stdin=subprocess.PIPE)
        assert holder.stdout is not None and holder.stdin is not None
        try:
            assert holder.stdout.readline().strip() == "holding"
            # (never read the file itself here: closing any descriptor of it drops this
            # process's POSIX locks on it, SQLite's among them)
            trail = len(board.maintenance.case_history("EX-0001"))
            with pytest.raises(Busy, match="another program"):
                board.cases.save(edited, version)
            # nothing written: the same version, value and audit trail (WAL readers are not
            # blocked by the other program's exclusive lock)
            assert board.cases.get_with_version("EX-0001") == (case, version)
            assert len(board.maintenance.case_history("EX-0001")) == trail
        finally:
            holder.stdin.write("go\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "released"
            holder.wait()
        saved = board.cases.save(edited, version)  # the retry succeeds
        assert saved.version == version + 1
        assert board.cases.get("EX-0001").patient.weight_kg == 58.25
        report = board.maintenance.check()
        assert report.ok, (report.problems, report.warnings)
