"""A backup can be stopped while its pages are copied (File ▸ Back up's Cancel): its
`progress` answers False, and nothing is left of it — no file, no temporary file, no lock —
while the database and every earlier backup stay as they were.  Not stopped, it is made and
verified as always."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crlmboard import __version__
from crlmboard.services import Board
from crlmboard.store import backup
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db

LATER = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)  # after the first backup
FILLER_ROWS = 700  # 16 KB each: about 2,800 pages of 4 KB, three steps of the backup API


def _database(tmp_path: Path) -> Path:
    """The golden cases, one backup of them, and enough (synthetic) pages that copying
    takes several steps."""
    path = tmp_path / "board.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
        board.maintenance.backup()
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE test_filler (b BLOB)")
        connection.executemany(
            "INSERT INTO test_filler VALUES (randomblob(16384))", [()] * FILLER_ROWS
        )
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _folder(path: Path) -> dict[str, str]:
    return {p.name: _digest(p) for p in sorted(backup.backup_dir(path).iterdir())}


def test_a_backup_stopped_after_its_first_step_leaves_nothing(tmp_path: Path) -> None:
    path = _database(tmp_path)
    before, earlier = _folder(path), _digest(path)
    asked: list[tuple[int, int]] = []

    def stop(done: int, total: int) -> bool:
        asked.append((done, total))
        return False

    with pytest.raises(backup.BackupCancelled, match="nothing written"):
        backup.create_backup(
            path,
            reason="on request",
            now=LATER,
            app_version=__version__,
            progress=stop,
        )
    assert len(asked) == 1, "the backup went on after its progress said stop"
    done, total = asked[0]
    assert 0 < done < total, "the copy is not several steps long: the test proves nothing"
    assert _folder(path) == before  # no new file, no temporary file, old backups intact
    assert _digest(path) == earlier
    assert backup.cleanup_unfinished(path) == []
    assert [b.verified for b in backup.list_backups(path)] == [True]


def test_a_backup_not_stopped_is_made_and_verified(tmp_path: Path) -> None:
    path = _database(tmp_path)
    asked: list[tuple[int, int]] = []

    def going_on(done: int, total: int) -> bool:
        asked.append((done, total))
        return True

    info = backup.create_backup(
        path,
        reason="on request",
        now=LATER,
        app_version=__version__,
        progress=going_on,
    )
    assert info.verified and info.path.is_file()
    assert len(asked) >= 3 and asked[-1][0] == asked[-1][1]
    deep = backup.verify_backup(info.path, deep=True)
    assert deep.verified, deep.problem
    assert deep.patients == 3
    assert len(backup.list_backups(path)) == 2
    assert [p.name for p in backup.backup_dir(path).iterdir() if ".tmp-" in p.name] == []
