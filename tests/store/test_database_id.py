"""Every database has an id of its own (migration 0006, AUDIT-DESIGN.md): made when the
database is created, given once (and audited) to a database from an older schema, kept by
copies and backups, and different for two databases."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from crlmboard.services import Board
from crlmboard.store import audit, migrate
from crlmboard.store.audit import verify_chain
from crlmboard.store.database import create_database_engine, database_id, database_url
from tests.conftest import TODAY

pytestmark = pytest.mark.db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _is_uuid4(text: str | None) -> bool:
    assert text is not None
    return uuid.UUID(text).version == 4


def test_a_new_database_has_an_id_readable_every_way(engine: sa.Engine) -> None:
    found = database_id(engine)
    assert _is_uuid4(found)
    with engine.connect() as connection:
        assert database_id(connection) == found
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        assert database_id(session) == found
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        assert path is not None
        plain = sqlite3.connect(path)
        try:
            assert database_id(plain) == found
        finally:
            plain.close()


def test_two_databases_have_different_ids(tmp_path: Path) -> None:
    ids = set()
    for name in ("board.sqlite3", "board.db"):
        engine = create_database_engine(database_url(tmp_path / name))
        migrate.upgrade(engine)
        ids.add(database_id(engine))
        engine.dispose()
    assert len(ids) == 2


def test_a_database_without_a_schema_has_no_id(tmp_path: Path) -> None:
    engine = create_database_engine(database_url(tmp_path / "empty.sqlite3"))
    try:
        assert database_id(engine) is None
    finally:
        engine.dispose()


@pytest.mark.parametrize("revision", ["0001", "0002", "0005"])
def test_an_older_database_gets_its_id_once_and_audited(revision: str, tmp_path: Path) -> None:
    path = tmp_path / "board.sqlite3"
    shutil.copyfile(FIXTURES / f"schema-{revision}.sqlite3", path)
    with Board.open(path, clock=lambda: TODAY) as board:
        given = database_id(board.database.engine)
        assert _is_uuid4(given)
        with board.database.engine.connect() as connection:
            assert verify_chain(connection).ok
            rows = connection.execute(
                sa.select(audit.AUDIT).where(audit.AUDIT.c.action == "setting")
            ).all()
        assert len(rows) == 1
        assert rows[0].record_id == "database_id"
        entry = next(e for e in audit.expanded(iter(rows)) if e.action == "setting")
        assert entry.before == {"database_id": None}
        assert entry.after == {"database_id": given}
        assert board.maintenance.check().ok
    with Board.open(path, clock=lambda: TODAY) as board:  # opened again: the same id
        assert database_id(board.database.engine) == given
        with board.database.engine.connect() as connection:
            count = connection.execute(
                sa.select(sa.func.count()).where(audit.AUDIT.c.action == "setting")
            ).scalar()
        assert count == 1


def test_a_backup_keeps_the_id(tmp_path: Path) -> None:
    path = tmp_path / "board.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as board:
        given = database_id(board.database.engine)
        info = board.maintenance.backup()
    plain = sqlite3.connect(info.path)
    try:
        assert database_id(plain) == given
    finally:
        plain.close()


def test_downgrading_removes_the_id(tmp_path: Path) -> None:
    engine = create_database_engine(database_url(tmp_path / "board.sqlite3"))
    try:
        migrate.upgrade(engine)
        assert database_id(engine) is not None
        migrate.downgrade(engine, "0005")
        assert database_id(engine) is None
    finally:
        engine.dispose()
