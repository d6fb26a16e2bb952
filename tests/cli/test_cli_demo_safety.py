"""Issue 23 item 1: `crlmboard demo --db X` never deletes real cases.  Demo data goes only
into a new file or one holding nothing but the packaged demo cases, under the writer lock,
after a backup."""

from __future__ import annotations

import getpass
import hashlib
import sqlite3
from pathlib import Path

import pytest

from crlmboard.cli import main
from crlmboard.services import Board
from crlmboard.store import backup
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def real(tmp_path: Path) -> Path:
    """A database with real (here: the golden) cases."""
    path = tmp_path / "board.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
    return path


def test_demo_refuses_a_database_with_real_cases(
    real: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sha256(real)
    assert main(["demo", "--no-open", "--db", str(real)]) == 2
    err = capsys.readouterr().err
    assert "not demo data" in err and "Traceback" not in err
    assert sha256(real) == before


def test_an_unaudited_demo_setting_does_not_make_real_cases_demo_data(
    real: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connection = sqlite3.connect(real)
    connection.execute("INSERT INTO setting (key, value) VALUES ('demo', '1')")
    connection.commit()
    connection.close()
    before = sha256(real)
    assert main(["demo", "--no-open", "--db", str(real)]) == 2
    assert "not demo data" in capsys.readouterr().err
    assert sha256(real) == before
    with Board.open(real, clock=lambda: TODAY) as board:
        assert board.cases.count() == 3


def test_a_demo_case_among_real_ones_does_not_make_it_demo_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--no-open", "--db", str(db)]) == 0
    with Board.open(db, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN / "upfront-resection.json").ok
    capsys.readouterr()
    before = sha256(db)
    assert main(["demo", "--no-open", "--db", str(db)]) == 2
    assert "not demo data" in capsys.readouterr().err
    assert sha256(db) == before


def test_a_demo_database_is_backed_up_before_it_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--no-open", "--db", str(db)]) == 0
    with Board.open(db, clock=lambda: TODAY) as board:
        count = board.cases.count()
        first = board.maintenance.database_id()
    capsys.readouterr()
    assert main(["demo", "--no-open", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "backed up" in out
    kept = [backup.verify_backup(p) for p in (db.parent / "backups").glob("*.sqlite3")]
    assert any(
        b.verified
        and b.reason == "before the demo replaced it"
        and b.manifest["database_id"] == first
        for b in kept
    )
    with Board.open(db, clock=lambda: TODAY) as board:
        assert board.cases.count() == count  # replaced, not doubled


def test_demo_waits_for_no_one_and_changes_nothing_while_the_app_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--no-open", "--db", str(db)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("CRLMBOARD_LOCK_WAIT", "0.2")
    with Board.open(db, clock=lambda: TODAY) as board:
        before = board.cases.count()
        assert main(["demo", "--no-open", "--db", str(db)]) == 1
        assert f"open for writing by {getpass.getuser()}" in capsys.readouterr().err
        assert board.cases.count() == before


def test_demo_refuses_an_emptied_file_that_has_backups(
    real: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Board.open(real, clock=lambda: TODAY) as board:
        board.maintenance.backup()
    real.write_bytes(b"")
    assert main(["demo", "--no-open", "--db", str(real)]) == 2
    assert "newest verified backup" in capsys.readouterr().err
    assert real.stat().st_size == 0
