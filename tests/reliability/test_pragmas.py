"""T5 on the connect event: every SQLite connection the app makes, by whatever path (the
pool, Alembic, backups, check, restore, the upgrade of an older file), has the pragmas
before its first statement — checked on the driver's connections themselves, not on the
app's own pragma function (which a new path could forget to call)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from crlmboard.services import Board
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db

FIXTURES = Path(__file__).parents[1] / "fixtures"


class Seen:
    """What each connection's pragmas were at its first statement that is not a PRAGMA."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, int, int, str]] = []

    def note(self, connection: sqlite3.Connection) -> None:
        raw = sqlite3.Connection.execute
        name = raw(connection, "PRAGMA database_list").fetchone()[2]
        self.rows.append(
            (
                name,
                raw(connection, "PRAGMA busy_timeout").fetchone()[0],
                raw(connection, "PRAGMA foreign_keys").fetchone()[0],
                raw(connection, "PRAGMA synchronous").fetchone()[0],
                raw(connection, "PRAGMA journal_mode").fetchone()[0],
            )
        )


def spying(seen: Seen) -> Any:
    """A sqlite3.Connection class that reports its pragmas at its first real statement."""

    def first_statement(connection: Any, sql: object) -> None:
        if connection.noted:
            return
        text = str(sql).lstrip().upper()
        if text.startswith(("PRAGMA", "BEGIN", "SELECT SQLITE_VERSION")):
            return  # setting up (the pragmas themselves, or the transaction that holds them)
        connection.noted = True
        seen.note(connection)

    class Cursor(sqlite3.Cursor):
        def execute(self, sql: str, *args: Any) -> Any:  # type: ignore[override]
            first_statement(self.connection, sql)
            return super().execute(sql, *args)

        def executemany(self, sql: str, *args: Any) -> Any:  # type: ignore[override]
            first_statement(self.connection, sql)
            return super().executemany(sql, *args)

    class Connection(sqlite3.Connection):
        noted = False

        def cursor(self, factory: Any = Cursor) -> Any:  # type: ignore[override]
            return super().cursor(factory)

        def execute(self, sql: str, *args: Any) -> Any:  # type: ignore[override]
            first_statement(self, sql)
            return super().execute(sql, *args)

        def executemany(self, sql: str, *args: Any) -> Any:  # type: ignore[override]
            first_statement(self, sql)
            return super().executemany(sql, *args)

        def backup(self, target: Any, **options: Any) -> Any:  # type: ignore[override]
            first_statement(self, "backup")
            return super().backup(target, **options)

    return Connection


def test_every_connection_has_the_pragmas_before_its_first_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = Seen()
    real = sqlite3.connect
    factory = spying(seen)

    def connect(*args: Any, **options: Any) -> sqlite3.Connection:
        options.setdefault("factory", factory)
        return real(*args, **options)

    monkeypatch.setattr(sqlite3, "connect", connect)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", connect)
    path = tmp_path / "board.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as board:
        board.cases.import_path(GOLDEN)
        case, version = board.cases.get_with_version("EX-0001")
        board.cases.save(case, version)
        info = board.maintenance.backup()
        board.maintenance.check()
        board.maintenance.restore(info.path)
    older = tmp_path / "older.sqlite3"
    shutil.copyfile(FIXTURES / "schema-0005.sqlite3", older)
    with Board.open(older, clock=lambda: TODAY) as board:  # upgraded by Alembic
        assert board.cases.count() >= 1
    assert len(seen.rows) >= 8, seen.rows
    live: dict[Path, list[str]] = {}
    for name, busy, keys, synchronous, journal in seen.rows:
        assert busy >= 5000 and synchronous == 2, (name, busy, synchronous)
        file = Path(name)
        if file.parent.name == "backups" and file.name.startswith("."):
            continue  # the target of the backup API, page copies: its checks only read
        assert keys == 1, name
        if file in (path, older):
            live.setdefault(file, []).append(journal)
    # WAL is the file's own setting, made when it is created (or upgraded from a file an
    # older crlmboard made): once in WAL, every later connection finds it so
    for file, journals in live.items():
        assert "delete" not in journals[journals.index("wal") :], (file, journals)
    assert set(live) == {path, older}
