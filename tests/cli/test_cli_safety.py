"""The data-safety commands: check, backup, backups, restore; the SQLite warning of
--version; a command-line write while the app holds the database."""

from __future__ import annotations

import getpass
import sqlite3
from pathlib import Path

import pytest

from crlmboard.cli import main
from crlmboard.services import Board
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = str(tmp_path / "cli.sqlite3")
    assert main(["init", "--db", path]) == 0
    assert main(["import", str(GOLDEN), "--db", path]) == 0
    capsys.readouterr()
    return path


def test_check_exit_status(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--db", db]) == 0
    captured = capsys.readouterr()
    assert (
        "No problems found." in captured.out and f"SQLite {sqlite3.sqlite_version}" in captured.out
    )
    assert "checking: audit chain" in captured.err
    with sqlite3.connect(db) as connection:  # the sqlite3 shell, in effect
        connection.execute("DROP TRIGGER audit_event_no_update")
        connection.execute("UPDATE audit_event SET app_user = 'mallory' WHERE seq = 3")
    connection.close()
    assert main(["check", "-q", "--db", db]) == 1
    captured = capsys.readouterr()
    assert "PROBLEM: audit chain broken at row 3" in captured.out
    assert "audit_event_no_update is missing" in captured.out and captured.err == ""


def test_backup_list_and_restore(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backup", "--db", db]) == 0
    made = capsys.readouterr().out
    assert "backup " in made and "3 patients" in made
    chosen = tmp_path / "copy.sqlite3"
    assert main(["backup", "-o", str(chosen), "--db", db]) == 0
    assert chosen.exists() and Path(f"{chosen}.manifest.json").exists()
    capsys.readouterr()
    assert main(["backups", "--db", db]) == 0
    listing = capsys.readouterr().out
    assert "verified" in listing and "2 backups" in listing  # at close, and on request
    with Board.open(db, clock=lambda: TODAY) as board:
        case, version = board.cases.get_with_version("EX-0001")
        board.cases.save(case.model_copy(update={"labs": []}), version)
    assert main(["restore", str(chosen), "--db", db]) == 0
    out = capsys.readouterr().out
    assert f"restored {chosen}" in out and "backed up as" in out
    with Board.open(db, clock=lambda: TODAY) as board:
        assert board.cases.get("EX-0001").labs
    assert main(["backups", "--db", db]) == 0
    assert "rotation paused" in capsys.readouterr().out


def test_restore_of_a_missing_file_is_an_error(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["restore", str(tmp_path / "nope.sqlite3"), "--db", db]) == 2
    assert "There is no backup file" in capsys.readouterr().err


def test_version_warns_about_an_affected_sqlite(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import crlmboard.services.about as about

    monkeypatch.setattr(about, "sqlite_library_version", lambda: "3.45.1")
    assert main(["--version"]) == 0
    assert "warning: SQLite 3.45.1 has the WAL-reset bug" in capsys.readouterr().out
    monkeypatch.setattr(about, "sqlite_library_version", lambda: "3.51.3")
    assert main(["--version"]) == 0
    assert "warning" not in capsys.readouterr().out


def test_a_command_write_waits_then_names_the_app_holding_the_database(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRLMBOARD_LOCK_WAIT", "0.2")
    with Board.open(db, clock=lambda: TODAY):
        assert main(["list", "--db", db]) == 0  # reading is fine
        assert main(["import", str(GOLDEN), "--replace", "--db", db]) == 1
        err = capsys.readouterr().err
        assert f"open for writing by {getpass.getuser()}" in err and "Traceback" not in err
    assert main(["import", str(GOLDEN), "--replace", "--db", db]) == 0


def test_a_corrupt_database_is_refused_naming_the_backup(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with open(db, "r+b") as stream:
        stream.write(b"\xff" * 16)
    assert main(["list", "--db", db]) == 1
    err = capsys.readouterr().err
    assert "is damaged" in err and "crlmboard restore" in err and "3 patients" in err


def test_an_upgrade_prints_its_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """T30: every step of an upgrade from the oldest released schema, on stderr."""
    import shutil

    from crlmboard.store import migrate

    path = tmp_path / "old.sqlite3"
    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    shutil.copyfile(fixtures / "schema-0001.sqlite3", path)
    assert main(["list", "--db", str(path)]) == 0
    lines = capsys.readouterr().err.splitlines()
    head = migrate.head_revision()
    pending = migrate.pending_revisions("0001", head)
    assert lines[0] == f"upgrade: upgrading from schema 0001 to {head}"
    assert [line for line in lines if line.startswith("upgrade: migration ")] == [
        f"upgrade: migration {r} ({n} of {len(pending)})" for n, r in enumerate(pending, 1)
    ]
    for step in (
        "backing up the database before the upgrade: 100 %",
        "copying the database: 100 %",
        "recording the existing records in the audit trail: 100 %",
        "recording the upgrade in the audit trail",
        "checking the upgraded copy",
        "putting the upgraded copy in place",
    ):
        assert f"upgrade: {step}" in lines, step
    assert main(["list", "--db", str(path)]) == 0
    assert "upgrade:" not in capsys.readouterr().err  # upgraded once
