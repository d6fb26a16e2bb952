"""Integrity checks: SQLite's own checks, and the app's hashes that see what SQLite cannot.

`quick_check` runs at open; `crlmboard check` adds `integrity_check`, `foreign_key_check`,
the audit-chain verification, the content hashes of signed reviews, a comparison of every
clinical row with the state its audit trail describes (which catches a value changed
outside the app) and the presence of the append-only triggers.  Problems name tables, row
ids and fields, never patient names or MRNs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crlmboard.store import audit
from crlmboard.store import tables as t
from crlmboard.store.database import connect_sqlite
from crlmboard.store.sqlite_version import parse_version as parse_version
from crlmboard.store.sqlite_version import sqlite_version_warning as sqlite_version_warning
from crlmboard.store.sqlite_version import wal_reset_affected as wal_reset_affected

CORRUPT_ERRORS = ("file is not a database", "malformed", "disk image", "corrupt")


class DatabaseCorrupt(Exception):
    """SQLite found the file damaged (its message says how)."""


# -- SQLite's checks -----------------------------------------------------------------------


def _is_corruption(error: sqlite3.DatabaseError) -> bool:
    text = str(error).lower()
    return any(word in text for word in CORRUPT_ERRORS)


def quick_check(path: Path) -> list[str]:
    """`PRAGMA quick_check` on a file (read-only); [] when it is sound.

    Raises DatabaseCorrupt when SQLite cannot even read it as a database."""
    try:
        connection = connect_sqlite(path, read_only=True)
    except sqlite3.DatabaseError as error:
        if _is_corruption(error):
            raise DatabaseCorrupt(str(error)) from None
        raise
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as error:
        if _is_corruption(error):
            raise DatabaseCorrupt(str(error)) from None
        raise
    finally:
        connection.close()
    found = [str(r[0]) for r in rows]
    return [] if found == ["ok"] else found


def integrity_check(connection: sqlite3.Connection) -> list[str]:
    try:
        found = [str(r[0]) for r in connection.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as error:
        return [str(error)]
    return [] if found == ["ok"] else found


def foreign_key_check(connection: sqlite3.Connection) -> list[str]:
    """Rows whose parent is missing, as sentences ('lab_result row 7: no patient ...')."""
    problems = []
    for table, rowid, parent, _index in connection.execute("PRAGMA foreign_key_check"):
        problems.append(f"{table} row {rowid} refers to a {parent} row that does not exist")
    return problems


# -- the app's own checks ------------------------------------------------------------------


def signed_review_problems(session: Session) -> list[str]:
    """Signed reviews whose stored content no longer matches the hash taken at signing."""
    problems = []
    rows = session.execute(
        sa.select(t.ReviewRow)
        .where(t.ReviewRow.signed_at.is_not(None))  # type: ignore[union-attr]
        .order_by(t.ReviewRow.id)  # type: ignore[arg-type]
    ).scalars()
    for row in rows:
        values = audit.record_values(row, t.ReviewRow)
        if row.content_sha256 is None:
            problems.append(f"signed review {row.id} (case {row.case_id}) has no content hash")
        elif audit.review_content_hash(values) != row.content_sha256:
            problems.append(
                f"signed review {row.id} (case {row.case_id}) was changed after "
                "it was signed: its content no longer matches its hash"
            )
    return problems


def replay_problems(session: Session, limit: int = 50) -> list[str]:
    """Clinical rows that differ from what their audit trail says (changed outside the app),
    rows with no audit history, and audited rows that are gone."""
    state = audit.replay(session)
    problems: list[str] = []
    for table, model in audit.AUDITED_TABLES.items():
        key = audit.primary_key_attribute(model)
        seen: set[str] = set()
        for row in session.execute(sa.select(model).order_by(getattr(model, key))).scalars():
            record = str(getattr(row, key))
            seen.add(record)
            expected = state.get((table, record))
            if expected is None:
                problems.append(
                    f"{table} row {record} has no audit history (written outside crlmboard)"
                )
                continue
            for name, value in audit.record_values(row, model).items():
                if expected.get(name) != value:
                    problems.append(
                        f"{table} row {record}, field {name}: the stored value "
                        "differs from its audit trail (changed outside crlmboard)"
                    )
        for other, record in state:
            if other == table and record not in seen:
                problems.append(
                    f"{table} row {record} is in the audit trail but missing "
                    "from the table (deleted outside crlmboard)"
                )
        if len(problems) >= limit:
            return [*problems[:limit], "(more differences not listed)"]
    return problems


EXPECTED_TRIGGERS = {
    "sqlite": {
        "audit_event_no_update",
        "audit_event_no_delete",
        "review_signed_no_update",
        "review_signed_no_delete",
    },
    "postgresql": {"audit_event_append_only", "audit_event_no_truncate", "review_signed_immutable"},
}


def trigger_problems(connection: sa.Connection | Session) -> list[str]:
    """The protective triggers that are missing."""
    dialect = (
        connection.get_bind().dialect.name
        if isinstance(connection, Session)
        else connection.dialect.name
    )
    expected = EXPECTED_TRIGGERS.get(dialect)
    if expected is None:
        return []
    if dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = (
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN "
            "('audit_event'::regclass, 'review'::regclass)"
        )
    present = {str(r[0]) for r in connection.execute(sa.text(query))}
    return [
        f"the protective trigger {name} is missing (someone removed it)"
        for name in sorted(expected - present)
    ]


Progress = Callable[[str, int, int], object]


def sqlite_checks(path: Path, progress: Progress | None = None) -> dict[str, list[str]]:
    """integrity_check and foreign_key_check of a SQLite file (read-only)."""
    results: dict[str, Any] = {}
    try:
        connection = connect_sqlite(path, read_only=True)
    except sqlite3.DatabaseError as error:
        return {"integrity": [str(error)], "foreign keys": []}
    try:
        if progress:
            progress("integrity_check", 0, 1)
        results["integrity"] = integrity_check(connection)
        if progress:
            progress("foreign_key_check", 0, 1)
        try:
            results["foreign keys"] = foreign_key_check(connection)
        except sqlite3.DatabaseError as error:
            results["foreign keys"] = [str(error)]
    finally:
        connection.close()
    return results
