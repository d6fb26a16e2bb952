"""Schema migrations (Alembic), run automatically when a database is opened.

A database written by a newer app is refused.  An upgrade records a 'migrate' audit event
(and, coming from a schema without an audit trail, a 'baseline' event per existing record)
in the same transaction.  A SQLite file is never migrated in place: `upgrade_file` migrates
a copy made with the backup API, checks it, and only then renames it over the original, so
a failure (or a kill) at any step leaves the original as it was.  PostgreSQL runs the whole
upgrade in one transaction (its schema changes are transactional).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crlmboard.store import audit
from crlmboard.store.database import (
    DATABASE_ID_KEY,
    StoreError,
    connect_sqlite,
    create_database_engine,
    create_private_file,
    database_id,
    new_sqlite_file,
)
from crlmboard.store.revisions import MIGRATIONS_DIR as MIGRATIONS_DIR
from crlmboard.store.revisions import head_revision as head_revision
from crlmboard.store.revisions import script_revisions as _script_revisions

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (and its import, a quarter of a second) is needed only when a migration runs: the
# revisions a database is checked against at every opening are read from the scripts' own
# `revision = ` and `down_revision = ` lines (Alembic's answer when they are not plain), in
# store/revisions.py.
COPY_MARK = ".migrating-"

# An upgrade's progress (T30): `progress(step, done, total)` — the step in words ("schema
# 0007 (2 of 4)", "copying the database"), and how far it is (pages, records; 0 of 0 when
# it cannot say).  The command line prints it; the app shows it in the window.
Progress = Callable[[str, int, int], object]
COPY_PAGES = 4096  # pages copied per step of the backup API (each step reports progress)


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def alembic_head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def revisions() -> list[str]:
    """Every schema revision, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def current_revision(engine: Engine) -> str | None:
    """The schema revision of a database (None when it has no schema yet)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def refuse_newer(revision: str | None) -> None:
    """Raise when a database's revision is unknown to this app (written by a newer one)."""
    if revision is None:
        return
    scripts = _script_revisions()
    if scripts is not None and revision in scripts:
        return
    from alembic.script import ScriptDirectory

    try:
        ScriptDirectory.from_config(_config()).get_revision(revision)
    except Exception:
        raise StoreError(
            f"This database was written by a newer version of crlmboard (schema {revision});"
            " install that version to open it."
        ) from None


def pending_revisions(before: str | None, after: str) -> list[str]:
    """The revisions an upgrade from `before` to `after` applies, in order."""
    order = revisions()
    start = 0 if before is None else order.index(before) + 1
    return order[start : order.index(after) + 1]


def upgrade(
    engine: Engine,
    actor: audit.Actor | None = None,
    target: str = "head",
    progress: Progress | None = None,
) -> tuple[str | None, str]:
    """Bring a database to `target` in one transaction; refuse one written by a newer app.

    An upgrade of a database that had a schema records its audit events in the same
    transaction (when `target` is the head).  `progress` hears of each migration before it
    runs, and of the audit baseline's records (a schema without an audit trail)."""
    before = current_revision(engine)
    refuse_newer(before)
    after = head_revision() if target == "head" else target
    if before != after:
        from alembic import command

        config = _config()
        steps = pending_revisions(before, after) if progress is not None else [target]
        with engine.execution_options(crlmboard_write=True).begin() as connection:
            had_id = before is not None and database_id(connection) is not None
            config.attributes["connection"] = connection
            for number, revision in enumerate(steps, start=1):
                if progress is not None:
                    progress(f"migration {revision} ({number} of {len(steps)})", 0, 0)
                command.upgrade(config, revision)
            if before is not None and after == head_revision():
                with Session(bind=connection) as session:
                    session.info["actor"] = actor or audit.Actor.current()
                    if progress is None:
                        audit.baseline(session)
                    else:
                        audit.baseline(
                            session,
                            lambda done, total: progress(
                                "recording the existing records in the audit trail", done, total
                            ),
                        )
                        progress("recording the upgrade in the audit trail", 0, 0)
                    given = database_id(session)
                    if not had_id and given is not None:
                        audit.AuditLog.of(session).record(
                            "setting",
                            "setting",
                            DATABASE_ID_KEY,
                            case_id=None,
                            before={DATABASE_ID_KEY: None},
                            after={DATABASE_ID_KEY: given},
                        )
                    audit.AuditLog.of(session).record(
                        "migrate",
                        "alembic_version",
                        None,
                        case_id=None,
                        before={"schema": before},
                        after={"schema": after},
                    )
                    audit.flush_session(session)
    return before, after


def downgrade(engine: Engine, target: str) -> None:
    """Take a database back to an older revision (fixtures and tests only)."""
    from alembic import command

    config = _config()
    with engine.execution_options(crlmboard_write=True).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, target)


def url_revision(url: str) -> str | None:
    """The schema revision of the database at a URL (None: no crlmboard tables)."""
    engine = create_database_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def file_revision(path: Path) -> str | None:
    """The schema revision of a SQLite file, read without changing it."""
    connection = connect_sqlite(path, read_only=True)
    try:
        found = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if found is None:
            return None
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else str(row[0])
    finally:
        connection.close()


def copy_path(database: Path) -> Path:
    return database.with_name(f"{database.name}{COPY_MARK}{os.getpid()}")


def leftover_copies(database: Path) -> list[Path]:
    """Copies an interrupted upgrade left behind (with their -wal/-shm)."""
    return sorted(database.parent.glob(f"{database.name}{COPY_MARK}*"))


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def upgrade_file(
    database: Path,
    actor: audit.Actor,
    check: Callable[[Path], list[str]] | None = None,
    progress: Progress | None = None,
) -> tuple[str | None, str]:
    """Upgrade a SQLite file on a copy that replaces the original only on success.

    The caller holds the writer lock and has taken a verified backup.  `check(copy)` may
    return problems that refuse the upgraded copy.  `progress` hears of every step: the
    copy (page by page), each migration, the check, the swap."""

    def step(what: str, done: int = 0, total: int = 0) -> None:
        if progress is not None:
            progress(what, done, total)

    def copied(_status: int, remaining: int, total: int) -> None:
        step("copying the database", total - remaining, total)

    original = connect_sqlite(database, wal=False)  # the original must not change
    try:
        mode = original.execute("PRAGMA journal_mode").fetchone()[0]
        busy = mode == "wal" and original.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy:
            raise StoreError(
                "The database is in use by another program; close it and open "
                "the database again to upgrade it."
            )
        copy = copy_path(database)
        _remove_with_sidecars(copy)
        create_private_file(copy)
        target = new_sqlite_file(copy, like=database)
        try:
            step("copying the database")
            original.backup(target, pages=COPY_PAGES, progress=copied)
        finally:
            target.close()
    finally:
        original.close()
    try:
        engine = create_database_engine(_sqlite_url(copy))
        try:
            before, after = upgrade(engine, actor, progress=progress)
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
        if check is not None:
            step("checking the upgraded copy")
        problems = check(copy) if check is not None else []
        if problems:
            raise StoreError("the upgraded copy failed its check: " + "; ".join(problems[:3]))
        _fsync(copy)
        wal = Path(f"{database}-wal")
        if wal.exists() and wal.stat().st_size > 0:  # someone wrote after the checkpoint
            raise StoreError("The database changed during its upgrade; open it again.")
        step("putting the upgraded copy in place")
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        os.replace(copy, database)
        _fsync(database.parent)
    except BaseException:
        _remove_with_sidecars(copy)
        raise
    finally:
        for suffix in ("-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
    return before, after


def _remove_with_sidecars(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    if path.is_dir() and os.name == "nt":  # pragma: no cover
        return
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if path.is_dir() else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def upgrade_server(
    engine: Engine, actor: audit.Actor | None, where: str, progress: Progress | None = None
) -> None:
    """`upgrade` for a server database opened by someone who may not own its schema."""
    from crlmboard.store.database import SchemaNotOwned, is_permission_error

    try:
        upgrade(engine, actor, progress=progress)
    except sa.exc.ProgrammingError as error:
        if is_permission_error(error):
            raise SchemaNotOwned(
                f"The database {where} has an older schema than this app; its owner must "
                "open it once to upgrade it (your login may not change the schema)."
            ) from None
        raise
