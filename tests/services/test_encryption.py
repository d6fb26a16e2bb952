"""Encryption at rest of a laptop's SQLite database with SQLCipher (issue 20, T38): real
encrypted files, read back with plain sqlite3 and a `strings` scan."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crlmboard.cli import main
from crlmboard.domain.validation import InvalidInput
from crlmboard.services import Board, BoardError
from crlmboard.services.maintenance import (
    DatabaseCorrupt,
    PassphraseRequired,
    WrongPassphrase,
    encrypt_database,
    rekey_database,
    restore_database,
)
from crlmboard.store import backup as store_backup
from crlmboard.store import encryption, migrate
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db

PASSPHRASE = "synthetic correct horse battery"
NEW_PASSPHRASE = "another synthetic passphrase"
SENTINEL = "Zzyxsentinelname"  # a synthetic family name that must not appear in clear
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _forget_passphrases() -> Iterator[None]:
    """Each test starts with no passphrase known to the process."""
    encryption._passphrases.clear()
    yield
    encryption._passphrases.clear()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def strings(path: Path) -> str:
    """What `strings` prints: runs of four or more printable ASCII characters (also UTF-16
    would not help: names are stored as UTF-8)."""
    return "\n".join(m.decode() for m in re.findall(rb"[\x20-\x7e]{4,}", path.read_bytes()))


def with_sentinel(folder: Path, upfront: dict[str, Any]) -> Path:
    upfront["patient"]["family_name"] = SENTINEL
    upfront["patient"]["mrn"] = "EX-SENT"
    target = folder / "sentinel.json"
    target.write_text(json.dumps(upfront), "utf-8")
    return target


@pytest.fixture
def plain(db_path: Path, tmp_path: Path, upfront: dict[str, Any]) -> Path:
    """A plain database with the golden cases and a sentinel case, and a backup of it."""
    with Board.open(db_path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
        assert board.cases.import_path(with_sentinel(tmp_path, upfront)).ok
        board.maintenance.backup()
    assert SENTINEL in strings(db_path) or any(
        SENTINEL in strings(b.path) for b in store_backup.list_backups(db_path)
    )
    return db_path


def _files_of(path: Path) -> list[Path]:
    found = [path, *(b.path for b in store_backup.list_backups(path))]
    found += [Path(f"{path}{s}") for s in ("-wal", "-shm") if Path(f"{path}{s}").exists()]
    return found


def test_encrypt_by_command_then_nothing_is_readable_without_the_passphrase(
    plain: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSPHRASE + "\n"))
    assert main(["encrypt", "--passphrase-stdin", "--db", str(plain)]) == 0
    out, err = capsys.readouterr()
    assert "encrypted the database and 1 backups" in out
    assert "no recovery" in err  # said before it can happen (T38)
    assert PASSPHRASE not in out + err
    encryption._passphrases.clear()
    # T38: not a SQLite header, plain sqlite3 cannot read it, no name in clear anywhere
    assert plain.read_bytes()[:16] != b"SQLite format 3\x00"
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(plain).execute("SELECT count(*) FROM patient").fetchall()
    encryption.remember(plain, PASSPHRASE)  # the backups are listed as the app does, unlocked
    files = _files_of(plain)
    encryption._passphrases.clear()
    assert len(files) >= 2
    for file in files:
        text = strings(file)
        assert SENTINEL not in text and "EX-SENT" not in text, file
        assert file.stat().st_mode & 0o777 == 0o600, file
    # every backup is encrypted, its manifest says so and still verifies
    for info in store_backup.list_backups(plain):
        assert encryption.is_encrypted(info.path) and info.manifest["encrypted"] is True
        assert info.verified, info.problem
    # the passphrase is nowhere on disk (config, logs, database folder)
    home = plain.parent
    for file in [*home.rglob("*"), *Path(str(plain.parent.parent)).glob("home*/**/*")]:
        if file.is_file():
            assert PASSPHRASE.encode() not in file.read_bytes(), file
    # without it, the command asks for it and changes nothing; with it, all is there
    before = sha256(plain)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["list", "--db", str(plain)]) == 2
    assert "encrypted; its passphrase is needed" in capsys.readouterr().err
    assert sha256(plain) == before
    monkeypatch.setenv("CRLMBOARD_PASSPHRASE", PASSPHRASE)
    assert main(["list", "--db", str(plain), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["mrn"] for r in listed} == {"EX-0001", "EX-0002", "EX-0003", "EX-SENT"}
    assert main(["check", "-q", "--db", str(plain)]) == 0
    assert "No problems found." in capsys.readouterr().out


def test_a_wrong_passphrase_is_refused_with_its_own_message_and_changes_nothing(
    plain: Path,
) -> None:
    encrypt_database(plain, PASSPHRASE)
    encryption._passphrases.clear()
    before = sha256(plain)
    with pytest.raises(WrongPassphrase) as wrong:
        Board.open(plain, passphrase="not the passphrase at all")
    with pytest.raises(PassphraseRequired):
        Board.open(plain)
    assert sha256(plain) == before
    assert "passphrase does not open" in str(wrong.value)
    assert "damaged" not in str(wrong.value)
    # a damaged encrypted file gets the damage message instead, naming the backup
    with plain.open("r+b") as stream:
        stream.seek(4096 * 3)
        stream.write(b"\0" * 4096)
    with pytest.raises(DatabaseCorrupt, match="damaged"):
        Board.open(plain, passphrase=PASSPHRASE)


def test_encrypt_rekey_backup_restore_round_trip_keeps_every_case_and_the_chain(
    plain: Path,
) -> None:
    with Board.open(plain, clock=lambda: TODAY) as board:
        cases = {mrn: board.cases.export_text(mrn) for mrn in _mrns(board)}
        head = board.maintenance.audit_head()
    assert encrypt_database(plain, PASSPHRASE) == 1
    encryption._passphrases.clear()
    with pytest.raises(InvalidInput):
        rekey_database(plain, PASSPHRASE, "short")
    with pytest.raises(WrongPassphrase):
        rekey_database(plain, "wrong passphrase here", NEW_PASSPHRASE)
    assert rekey_database(plain, PASSPHRASE, NEW_PASSPHRASE) == 1
    encryption._passphrases.clear()
    with pytest.raises(WrongPassphrase):
        Board.open(plain, passphrase=PASSPHRASE)  # the old one no longer opens it
    for info in store_backup.list_backups(plain):
        assert not encryption.opens(info.path, PASSPHRASE)
        assert encryption.opens(info.path, NEW_PASSPHRASE) and info.verified
    with Board.open(plain, clock=lambda: TODAY, passphrase=NEW_PASSPHRASE) as board:
        taken = board.maintenance.backup()
        assert encryption.is_encrypted(taken.path) and taken.verified
        assert SENTINEL not in strings(taken.path)
        events = [e.action for e in board.maintenance.case_history("EX-0001")]
        assert events  # the history is readable
    encryption._passphrases.clear()
    result = restore_database(plain, taken.path, passphrase=NEW_PASSPHRASE)
    assert result.safety_backup is not None and encryption.is_encrypted(result.safety_backup)
    encryption._passphrases.clear()
    with Board.open(plain, clock=lambda: TODAY, passphrase=NEW_PASSPHRASE) as board:
        assert {mrn: board.cases.export_text(mrn) for mrn in _mrns(board)} == cases
        report = board.maintenance.check()
        assert report.ok, report.problems
        assert report.audit_head is not None and head is not None
        assert report.audit_head.seq > head.seq  # encrypt, rekey and restore are audited
        actions = [e.action for e in _database_events(board)]
        assert actions[-3:] == ["encrypt", "rekey", "restore"]
    assert encryption.is_encrypted(plain) and SENTINEL not in strings(plain)


def _mrns(board: Board) -> list[str]:
    return sorted(r.mrn for r in board.cases.page())


def _database_events(board: Board) -> list[Any]:
    from crlmboard.store import audit
    from crlmboard.store.database import read_session

    with read_session(board.database.engine) as session:
        return [e for e in audit.expanded(audit.entries(session)) if e.table == "database"]


def test_an_older_encrypted_database_is_upgraded_on_an_encrypted_copy(tmp_path: Path) -> None:
    """Migrations work on encrypted files: the copy the upgrade runs on is encrypted too."""
    path = tmp_path / "old.sqlite3"
    shutil.copy(FIXTURES / "schema-0005.sqlite3", path)
    encrypt_database(path, PASSPHRASE)
    encryption._passphrases.clear()
    assert migrate.head_revision() != "0005"
    with Board.open(path, clock=lambda: TODAY, passphrase=PASSPHRASE) as board:
        assert any("upgraded from schema 0005" in note for note in board.notes)
        assert board.cases.count() == 3
        assert board.maintenance.check().ok
    assert encryption.is_encrypted(path)
    leftovers = [p.name for p in tmp_path.iterdir() if "migrating" in p.name]
    assert leftovers == []
    for info in store_backup.list_backups(path):
        assert encryption.is_encrypted(info.path), info.path  # the backup before the upgrade


def test_signing_on_an_encrypted_database_asks_for_the_passphrase_again(plain: Path) -> None:
    encrypt_database(plain, PASSPHRASE)
    with Board.open(plain, clock=lambda: TODAY, passphrase=PASSPHRASE) as board:
        meeting = board.meetings.create("2026-11-24", "16:00", "Room 3").meeting_id
        board.meetings.add_to_agenda(meeting, "EX-0001", "Resect now?")
        draft = board.reviews.start(meeting, "EX-0001")
        assert board.reviews.needs_password
        with pytest.raises(InvalidInput, match="re-enter"):
            board.reviews.sign(draft, recommendation=None, decision="Resect.")
        with pytest.raises(InvalidInput, match="not right"):
            board.reviews.sign(draft, recommendation=None, decision="Resect.", password="nope")
        index = board.reviews.sign(
            draft, recommendation=None, decision="Resect.", password=PASSPHRASE
        ).index
        assert board.cases.get("EX-0001").reviews[index].signed


def test_encrypting_twice_or_a_missing_file_is_refused(plain: Path, tmp_path: Path) -> None:
    encrypt_database(plain, PASSPHRASE)
    with pytest.raises(BoardError, match="already encrypted"):
        encrypt_database(plain, NEW_PASSPHRASE)
    with pytest.raises(BoardError, match="no database"):
        encrypt_database(tmp_path / "none.sqlite3", PASSPHRASE)
    with pytest.raises(InvalidInput, match="at least"):
        rekey_database(plain, PASSPHRASE, "x")


def test_command_line_refusals_change_nothing(
    plain: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sha256(plain)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSPHRASE + "\n"))
    # no OS keyring on this machine: --remember is refused before anything is done
    assert main(["encrypt", "--remember", "--passphrase-stdin", "--db", str(plain)]) == 2
    assert "no OS keyring" in capsys.readouterr().err
    assert sha256(plain) == before and not encryption.is_encrypted(plain)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["encrypt", "--passphrase-stdin", "--db", str(plain)]) == 2
    assert "at least" in capsys.readouterr().err and sha256(plain) == before
    encrypt_database(plain, PASSPHRASE)
    encryption._passphrases.clear()
    encrypted = sha256(plain)
    monkeypatch.setenv("CRLMBOARD_PASSPHRASE", "a wrong synthetic passphrase")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["list", "--db", str(plain)]) == 2
    err = capsys.readouterr().err
    assert "passphrase does not open" in err and "Traceback" not in err
    assert sha256(plain) == encrypted
