"""The store on a real SQLite file (and a real PostgreSQL server): set-up, schema, round
trips, versions and delete behaviour."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings

from crlmboard.domain.caseformat import case_from_dict, normalised
from crlmboard.store import migrate
from crlmboard.store.database import (
    StoreError,
    create_database_engine,
    database_url,
    read_session,
    write_session,
)
from crlmboard.store.repositories import (
    SEARCH_INDEX,
    CaseRepository,
    CaseSummary,
    ConflictError,
)
from crlmboard.store.tables import metadata
from tests.conftest import golden_cases, postgres_url
from tests.strategies import valid_case

pytestmark = pytest.mark.db
TODAY = date(2026, 11, 24)


def sqlite_engine(path: Path) -> sa.Engine:
    engine = create_database_engine(database_url(path))
    migrate.upgrade(engine)
    return engine


def _not_the_search_index(name: str | None, kind: str, _parent: Any) -> bool:
    """The case-list filter's full-text index (migration 0005: an FTS5 table and its shadow
    tables, SQLite only) is not a table model; nor are the users table of a PostgreSQL store
    (migration 0007: written only by server functions) and its audit key (0008: only the
    server's functions read it)."""
    if kind == "table" and name in ("board_user", "audit_key"):
        return False
    return not (kind == "table" and name is not None and name.startswith(SEARCH_INDEX))


def schema_diff(connection: sa.Connection) -> list[Any]:
    """What differs between a migrated database and the table models."""
    context = MigrationContext.configure(connection, opts={"include_name": _not_the_search_index})
    return list(compare_metadata(context, metadata))


def test_plain_path_means_sqlite_file(tmp_path: Path) -> None:
    assert database_url(tmp_path / "x.sqlite3") == f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_connection_pragmas(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "db.sqlite3")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_writes_begin_immediate(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "db.sqlite3")
    seen: list[str] = []
    sa.event.listen(
        engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: seen.append(statement)
    )
    with write_session(engine) as session:
        session.execute(sa.text("SELECT 1"))
    with read_session(engine) as session:
        session.execute(sa.text("SELECT 1"))
    assert seen == ["BEGIN IMMEDIATE", "SELECT 1", "BEGIN", "SELECT 1"]


def test_a_second_writer_waits_then_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    engine = sqlite_engine(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        fast = create_database_engine(database_url(path))
        sa.event.listen(fast, "connect", lambda c, _r: c.execute("PRAGMA busy_timeout = 100"))
        with pytest.raises(sa.exc.OperationalError, match="locked"), write_session(fast) as session:
            session.execute(sa.text("SELECT 1"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    with write_session(engine) as session:
        session.execute(sa.text("SELECT 1"))


def test_migrated_schema_matches_the_table_models(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "db.sqlite3")
    with engine.connect() as connection:
        diff = schema_diff(connection)
    assert diff == []
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_database_from_a_newer_app_is_refused(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "db.sqlite3")
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="newer version of crlmboard"):
        migrate.upgrade(engine)


def store_and_load(engine: sa.Engine, document: dict[str, Any]) -> dict[str, Any]:
    case = case_from_dict(document, TODAY)
    with write_session(engine) as session:
        CaseRepository(session).create(case, CaseSummary())
    with read_session(engine) as session:
        loaded = CaseRepository(session).get(case.mrn)
    assert loaded == case
    from crlmboard.domain.caseformat import case_to_dict

    return case_to_dict(loaded)


@pytest.mark.parametrize("path", golden_cases(), ids=lambda p: p.stem)
def test_golden_cases_round_trip_through_sqlite(tmp_path: Path, path: Path) -> None:
    engine = sqlite_engine(tmp_path / "db.sqlite3")
    document = json.loads(path.read_text("utf-8"))
    assert normalised(store_and_load(engine, document)) == normalised(document)


@given(valid_case)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_generated_cases_round_trip_through_sqlite(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    import uuid

    engine = sqlite_engine(tmp_path / f"db-{uuid.uuid4().hex}.sqlite3")  # one per example
    assert normalised(store_and_load(engine, document)) == normalised(document)
    engine.dispose()


def test_version_check_refuses_a_stale_save(tmp_path: Path, upfront: dict[str, Any]) -> None:
    engine = sqlite_engine(tmp_path / "db.sqlite3")
    case = case_from_dict(upfront, TODAY)
    with write_session(engine) as session:
        CaseRepository(session).create(case, CaseSummary())
    edited = case.model_copy(update={"labs": []})
    with write_session(engine) as session:
        assert CaseRepository(session).update(edited, 1, CaseSummary()) == 2
    with pytest.raises(ConflictError), write_session(engine) as session:
        CaseRepository(session).update(case, 1, CaseSummary())
    with read_session(engine) as session:
        assert CaseRepository(session).get(case.mrn).labs == []


def test_deleting_a_case_removes_its_records_but_never_a_review(
    tmp_path: Path, upfront: dict[str, Any]
) -> None:
    engine = sqlite_engine(tmp_path / "db.sqlite3")
    with write_session(engine) as session:
        CaseRepository(session).create(case_from_dict(upfront, TODAY), CaseSummary())
        CaseRepository(session).delete("EX-0001")
    with engine.connect() as connection:
        for table in ("lab_result", "imaging_timepoint", "lesion_measurement", "primary_tumour"):
            assert connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() == 0
    upfront["reviews"] = [{"meeting_date": "2025-02-04", "decision": "Resect."}]
    with write_session(engine) as session:
        CaseRepository(session).create(case_from_dict(upfront, TODAY), CaseSummary())
    with pytest.raises(sa.exc.IntegrityError), write_session(engine) as session:
        CaseRepository(session).delete("EX-0001")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM review").scalar() == 1


def test_foreign_keys_are_enforced_on_raw_sql(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "db.sqlite3")
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO lab_result (date, case_id, position) VALUES ('2025-01-01', 999, 0)"
        )


@pytest.mark.postgres
def test_postgresql_store_round_trip(upfront: dict[str, Any]) -> None:
    engine = create_database_engine(postgres_url())
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert schema_diff(connection) == []
    for path in golden_cases():
        document = json.loads(path.read_text("utf-8"))
        assert normalised(store_and_load(engine, document)) == normalised(document)
    case = case_from_dict(upfront, TODAY)
    with pytest.raises(ConflictError), write_session(engine) as session:
        CaseRepository(session).update(case, 7, CaseSummary())
    engine.dispose()
