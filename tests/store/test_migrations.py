"""Schema migrations: every released schema upgrades to head with its content intact (T29),
a failure at any step leaves the original untouched (T27, the minimum-six fault 3), a
database from a newer app is refused unchanged (T28), and migration 0002 works on
PostgreSQL in both directions."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import alembic.op
import pytest
import sqlalchemy as sa

from crlmboard.services import Board, BoardError
from crlmboard.store import audit, backup, migrate
from crlmboard.store.audit import verify_chain
from crlmboard.store.database import create_database_engine
from tests.conftest import TODAY, postgres_url

pytestmark = pytest.mark.db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# columns a migration may fill in, and derived text the first open refolds (search text
# form 2: accents folded for the case-list filter; not clinical data, not audited)
CHANGED_COLUMNS = {"review": {"content_sha256"}, "patient": {"search_text"}}


def fixture(revision: str, tmp_path: Path) -> Path:
    target = tmp_path / "board.sqlite3"
    shutil.copyfile(FIXTURES / f"schema-{revision}.sqlite3", target)
    return target


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def content(
    path: Path, columns_of: dict[str, set[str]] | None = None
) -> dict[str, tuple[int, str]]:
    """Row count and a hash of every column a migration must not change, per table (only
    `columns_of[table]` when given: columns a later revision adds are not compared)."""
    connection = sqlite3.connect(path)
    try:
        tables = [
            name
            for name in backup.table_hashes(connection)  # no full-text index
            if name not in ("alembic_version", "audit_event")
        ]
        result = {}
        for table in tables:
            columns = [
                r[1]
                for r in connection.execute(f'PRAGMA table_info("{table}")')
                if r[1] not in CHANGED_COLUMNS.get(table, set())
                and (columns_of is None or r[1] in columns_of.get(table, set()))
            ]
            if not columns:  # a table a later revision added
                continue
            names = ", ".join(f'"{c}"' for c in sorted(columns))
            # 0006 adds the database id; the first open records the search-text form
            skipped = "('database_id', 'search_text_form')"
            where = f" WHERE key NOT IN {skipped}" if table == "setting" else ""
            rows = connection.execute(
                f'SELECT {names} FROM "{table}"{where} ORDER BY rowid'
            ).fetchall()
            result[table] = (len(rows), hashlib.sha256(json.dumps(rows).encode()).hexdigest())
        return result
    finally:
        connection.close()


def table_columns(path: Path) -> dict[str, set[str]]:
    connection = sqlite3.connect(path)
    try:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {
            table: {r[1] for r in connection.execute(f'PRAGMA table_info("{table}")')}
            for table in tables
        }
    finally:
        connection.close()


def test_there_is_a_fixture_for_every_revision() -> None:
    missing = [r for r in migrate.revisions() if not (FIXTURES / f"schema-{r}.sqlite3").exists()]
    assert not missing, (
        "run `.venv/bin/python -m tests.fixtures.make_fixtures` and commit "
        f"the databases for {missing}"
    )


@pytest.mark.parametrize("revision", migrate.revisions())
def test_every_released_schema_upgrades_to_head(revision: str, tmp_path: Path) -> None:
    """T29."""
    path = fixture(revision, tmp_path)
    before = content(path)
    columns_of = table_columns(path)
    with Board.open(path, clock=lambda: TODAY) as board:
        assert migrate.current_revision(board.database.engine) == migrate.head_revision()
        report = board.maintenance.check()
        assert report.ok, report.problems
        assert board.cases.count() == 3
        reviews = board.cases.get("EX-0001").reviews
        assert [r.signed for r in reviews] == [True, False]
        with board.database.engine.connect() as connection:
            assert verify_chain(connection).ok
            events = [
                r[0]
                for r in connection.exec_driver_sql("SELECT action FROM audit_event ORDER BY seq")
            ]
    after = content(path, columns_of)
    for table, (count, digest) in before.items():
        assert after[table] == (count, digest), table
    if revision != migrate.head_revision():
        assert events[-1] == "migrate"
        taken = backup.list_backups(path)
        assert [b.schema for b in taken] == [revision]
        assert backup.verify_backup(taken[0].path, deep=True).verified
        assert not migrate.leftover_copies(path)


def _fail_at(monkeypatch: pytest.MonkeyPatch, step: int) -> list[str]:
    """Make the `step`-th schema operation of a migration raise (1-based)."""
    calls: list[str] = []
    for name in ("create_table", "execute", "batch_alter_table"):
        real = getattr(alembic.op, name)

        def wrapped(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            if len(calls) == step:
                raise RuntimeError(f"injected failure at step {step}")
            return _real(*args, **kwargs)

        monkeypatch.setattr(alembic.op, name, wrapped)
    return calls


@pytest.mark.parametrize("step", [1, 2, 3, 5, 6])
def test_a_migration_failing_half_way_leaves_the_original_unchanged(
    step: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T27 / minimum-six fault 3: a failure at step k of migration 0002."""
    path = fixture("0001", tmp_path)
    original = sha256(path)
    calls = _fail_at(monkeypatch, step)
    with pytest.raises(BoardError, match="left unchanged") as refused:
        Board.open(path, clock=lambda: TODAY)
    assert len(calls) == step
    assert sha256(path) == original
    assert "backup" in str(refused.value)
    assert not migrate.leftover_copies(path)
    assert migrate.file_revision(path) == "0001"  # the old app still opens it
    monkeypatch.undo()
    with Board.open(path, clock=lambda: TODAY) as board:  # and the retry succeeds
        assert board.cases.count() == 3


def test_an_upgraded_copy_that_fails_its_check_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crlmboard.services.database as database

    path = fixture("0001", tmp_path)
    original = sha256(path)
    monkeypatch.setattr(database, "_copy_problems", lambda copy: ["injected problem"])
    with pytest.raises(BoardError, match="injected problem"):
        Board.open(path, clock=lambda: TODAY)
    assert sha256(path) == original


def test_a_database_from_a_newer_app_is_refused_unchanged(tmp_path: Path) -> None:
    """T28."""
    path = fixture("0002", tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()
    before = sha256(path)
    with pytest.raises(BoardError, match=r"newer version of crlmboard \(schema 9999\)"):
        Board.open(path, clock=lambda: TODAY)
    assert sha256(path) == before
    assert backup.list_backups(path) == []


@pytest.mark.postgres
def test_migration_0002_on_postgresql_upgrades_with_a_baseline_and_downgrades() -> None:
    engine = create_database_engine(postgres_url())
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        migrate.upgrade(engine, target="0001")
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO patient (id, mrn, version, created_at, updated_at, open_warnings, "
                "open_criticals, search_text) VALUES (1, 'PG-1', 1, now(), now(), 0, 0, '')"
            )
            connection.exec_driver_sql(
                "INSERT INTO review (case_id, position, meeting_date, decision, signed_by, "
                "signed_at) VALUES (1, 0, '2025-02-04', 'Resect.', 'Dr A', now())"
            )
        migrate.upgrade(engine)
        with engine.connect() as connection:
            assert verify_chain(connection).ok
            actions = [
                e.action
                for e in audit.expanded(
                    iter(connection.execute(sa.select(audit.AUDIT).order_by(audit.AUDIT.c.seq)))
                )
            ]
            assert actions == ["baseline", "baseline", "setting", "migrate"]
            assert (
                connection.exec_driver_sql("SELECT content_sha256 FROM review").scalar() is not None
            )
        with (
            pytest.raises(sa.exc.DatabaseError, match="signed review"),
            engine.begin() as connection,
        ):
            connection.exec_driver_sql("UPDATE review SET decision = 'No.'")
        migrate.downgrade(engine, "0001")
        assert migrate.current_revision(engine) == "0001"
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE review SET decision = 'No.'")
    finally:
        engine.dispose()


def test_an_upgrade_reports_each_migration_and_its_long_steps_by_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T30: the copy reports every batch of pages, the audit baseline (a schema without an
    audit trail) every batch of records, and each migration before it runs."""
    path = fixture("0001", tmp_path)
    monkeypatch.setattr(migrate, "COPY_PAGES", 4)
    monkeypatch.setattr(audit, "BASELINE_STEP", 10)
    with sqlite3.connect(path) as connection:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
    heard: list[tuple[str, int, int]] = []
    migrate.upgrade_file(path, audit.Actor.current(), progress=lambda *step: heard.append(step))
    copy = [(done, total) for step, done, total in heard if step == "copying the database"]
    assert copy[0] == (0, 0) and copy[-1] == (pages, pages)
    assert len(copy) == 1 + -(-pages // 4)  # one report per batch of 4 pages
    baseline = [
        (done, total)
        for step, done, total in heard
        if step == "recording the existing records in the audit trail"
    ]
    records = baseline[-1][1]
    assert records > 10 and baseline[-1] == (records, records)
    # at the start, every 10 records, and at the end
    assert [done for done, _ in baseline] == [0, *range(10, records + 1, 10), records]
    pending = migrate.pending_revisions("0001", migrate.head_revision())
    assert [s for s, _, _ in heard if s.startswith("migration ")] == [
        f"migration {r} ({n} of {len(pending)})" for n, r in enumerate(pending, 1)
    ]
    assert migrate.file_revision(path) == migrate.head_revision()
