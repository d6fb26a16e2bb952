"""Issue 23 item 13 (T13/T14 on a real read-only mount): a database on a read-only medium,
closed cleanly (no -wal, no -shm), opens read-only (SQLite's `immutable=1`, which is safe
only because nothing can write there); one not closed cleanly is refused naming the folder.
Mounting needs root (CI runs as root); the file's bytes never change."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from crlmboard.cli import main
from crlmboard.services import Board, BoardError
from tests.conftest import GOLDEN, TODAY
from tests.mounts import remount_read_only as read_only
from tests.mounts import tmpfs

pytestmark = [pytest.mark.db, pytest.mark.slow]


@pytest.fixture
def medium(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs that the test can remount read-only."""
    with tmpfs(tmp_path / "medium", "8m") as mount:
        yield mount


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_cleanly_closed_database_on_a_read_only_mount_opens_read_only(
    medium: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = medium / "board.sqlite3"
    with Board.open(db, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
    shutil.rmtree(medium / "backups")
    assert not Path(f"{db}-shm").exists() and not Path(f"{db}-wal").exists()
    read_only(medium)
    before = sha256(db)
    with Board.open(db, clock=lambda: TODAY, create=False) as board:
        assert board.read_only and "read-only" in (board.read_only_reason or "")
        assert board.cases.count() == 3
        assert board.cases.get("EX-0001").patient.mrn == "EX-0001"
        with pytest.raises(BoardError, match="read-only"):
            board.cases.import_path(GOLDEN, replace=True)
    capsys.readouterr()
    assert main(["list", "--db", str(db)]) == 0
    assert "3 of 3 cases" in capsys.readouterr().out
    assert main(["check", "-q", "--db", str(db)]) == 0
    assert sha256(db) == before
    assert sorted(p.name for p in medium.iterdir()) == [
        "board.sqlite3",
        "board.sqlite3.checkpoints",  # written at the close before the medium went read-only
        "board.sqlite3.lock",
    ]


def test_a_database_left_with_a_wal_on_a_read_only_mount_names_the_folder(
    medium: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = medium / "board.sqlite3"
    with Board.open(db, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
    wal = Path(f"{db}-wal")
    wal.write_bytes(b"\0" * 4096)  # as if it had not been closed cleanly
    read_only(medium)
    assert main(["list", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert str(medium) in err and "read-only" in err and "Traceback" not in err


def test_every_change_is_refused_on_a_read_only_mount_with_a_leftover_shm(
    medium: Path,
) -> None:
    """T13 with an -shm left beside the file (run with and without one: the test above has
    none): the database opens read-only and every kind of change — a save, an import, a new
    meeting, an agenda entry, a sign-off, a backup — is refused naming the reason; the
    file's bytes never change."""
    from datetime import timedelta

    db = medium / "board.sqlite3"
    with Board.open(db, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
        meeting = board.meetings.create(TODAY - timedelta(days=1)).meeting_id
        board.meetings.add_to_agenda(meeting, "EX-0001", "Resect first?")
    shutil.rmtree(medium / "backups")
    Path(f"{db}-shm").write_bytes(b"\0" * 32768)  # left by a reader that did not clean up
    read_only(medium)
    before = sha256(db)
    with Board.open(db, clock=lambda: TODAY, create=False) as board:
        assert board.read_only
        case, version = board.cases.get_with_version("EX-0001")
        draft = board.reviews.start(meeting, "EX-0001")
        attempts = {
            "save": lambda: board.cases.save(case, version),
            "import": lambda: board.cases.import_text(
                (GOLDEN / "upfront-resection.json").read_text("utf-8"), replace=True
            ),
            "meeting": lambda: board.meetings.create(TODAY),
            "agenda": lambda: board.meetings.add_to_agenda(meeting, "EX-0002", "Chemo?"),
            "sign": lambda: board.reviews.sign(draft, recommendation=None, decision="Resect"),
            "backup": lambda: board.maintenance.backup(),
        }
        for name, attempt in attempts.items():
            with pytest.raises(BoardError, match=r"(?i)read-only") as refused:
                attempt()
            assert "Traceback" not in str(refused.value), name
        assert board.cases.get_with_version("EX-0001") == (case, version)
    assert sha256(db) == before
