"""Stored engine comparisons: what today's engine reads differently in a case's reviews
signed with older engines, kept per case (`tables.EngineComparisonRow`, migrations 0012 and
0013).

Derived data, not clinical: a row is only ever used when every part of its key matches the
case as it was read (its stamp: id, creation time, version, time of the save) and the
engine and profile in force; anything else is read as "not stored" and the comparison is
made afresh.  But surgeons read it at an open, so it is audited like the case list's
summary: every write of a row (at a case's write, at an open's background step, in the
background pass) appends its values to the audit trail in the same transaction, by the
same actor, and `crlmboard check` compares each stored row with its trail — a note hidden
or changed in the database file, or its key moved to another save, is a problem there.
An open does not verify the row against the trail (that is `check`'s work, as for every
audited record).  A row that cannot be stored never costs the write it goes with (`keep`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crlmboard.store import tables as t
from crlmboard.store.audit import AuditLog, audited_fields, canonical, jsonable
from crlmboard.store.repositories import CaseStamp

log = logging.getLogger(__name__)
TABLE = t.metadata.tables["engine_comparison"]
_PATIENT = t.metadata.tables["patient"]
_C = TABLE.c
_P = _PATIENT.c
_SQLITE_READ = (
    "SELECT changes, case_created_at, case_updated_at FROM engine_comparison "
    "WHERE case_id = ? AND case_version = ? AND engine_version = ? AND profile_key = ?"
)


def read(
    engine: sa.Engine, stamp: CaseStamp, engine_version: str, profile_key: str
) -> list[dict[str, Any]] | None:
    """The comparison stored for the case and save `stamp`, engine and profile (None when
    there is none for exactly these).  One statement; on SQLite on the pool's own DBAPI
    connection, its times read with the same result processor as the case's."""
    dialect = engine.dialect
    if dialect.name == "sqlite":
        pooled = engine.raw_connection()
        try:
            cursor = pooled.driver_connection.execute(  # type: ignore[union-attr]
                _SQLITE_READ, (stamp.case_id, stamp.version, engine_version, profile_key)
            )
            rows = cursor.fetchall()  # (the statement run to its end: no read left open)
            cursor.close()
        finally:
            pooled.close()
        if not rows:
            return None
        found = rows[0]
        process = _C.case_created_at.type._cached_result_processor(dialect, None)
        created, updated = (process(found[1]), process(found[2])) if process else found[1:]
        if (created, updated) != (stamp.created_at, stamp.updated_at):
            return None
        changes = json.loads(found[0]) if isinstance(found[0], str) else found[0]
        return list(changes)
    query = sa.select(_C.changes).where(
        _C.case_id == stamp.case_id,
        _C.case_created_at == stamp.created_at,
        _C.case_version == stamp.version,
        _C.case_updated_at == stamp.updated_at,
        _C.engine_version == engine_version,
        _C.profile_key == profile_key,
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else list(row[0])


def current_stamp(session: Session, mrn: str) -> CaseStamp | None:
    """The stamp of case `mrn` as it is in this transaction (None: no such case)."""
    row = (
        session.connection()
        .execute(sa.select(_P.id, _P.created_at, _P.version, _P.updated_at).where(_P.mrn == mrn))
        .first()
    )
    return None if row is None else CaseStamp(row[0], row[1], int(row[2]), row[3])


def put(
    session: Session,
    mrn: str,
    engine_version: str,
    profile_key: str,
    changes: list[dict[str, Any]],
    stamp: CaseStamp | None = None,
) -> bool:
    """Store the comparison of case `mrn` in the caller's write transaction, keyed by the
    case as it is now in it (replacing the case's row), with its audit row.  With `stamp`
    (the case it was computed from), only if the case is still that save.  True when it
    was stored."""
    now = current_stamp(session, mrn)
    if now is None or (stamp is not None and now != stamp):
        return False
    connection = session.connection()
    values = {
        "case_created_at": now.created_at,
        "case_version": now.version,
        "case_updated_at": now.updated_at,
        "engine_version": engine_version,
        "profile_key": profile_key,
        # in the trail's key order: `check` then finds the stored text equal as it is
        "changes": json.loads(canonical(changes)),
    }
    before = _audited(connection, now.case_id)
    if before is None:
        connection.execute(sa.insert(TABLE).values(case_id=now.case_id, **values))
    else:
        connection.execute(sa.update(TABLE).where(_C.case_id == now.case_id).values(**values))
    # the values as the database keeps them (its times), as `check` reads them back
    after = _audited(connection, now.case_id)
    assert after is not None
    log = AuditLog.of(session)
    if before is None:
        log.record("insert", TABLE.name, now.case_id, case_id=now.case_id, after=after)
    else:
        changed = [k for k in after if before.get(k) != after[k]]
        if changed:
            log.record(
                "update",
                TABLE.name,
                now.case_id,
                case_id=now.case_id,
                before={k: before.get(k) for k in changed},
                after={k: after[k] for k in changed},
            )
    return True


_AUDITED = [TABLE.c[name] for name in audited_fields(t.EngineComparisonRow)]


def _audited(connection: sa.Connection, case_id: int) -> dict[str, Any] | None:
    """The stored row of a case as the audit trail records it (None: there is none)."""
    row = connection.execute(sa.select(*_AUDITED).where(_C.case_id == case_id)).first()
    if row is None:
        return None
    return {c.name: jsonable(v) for c, v in zip(_AUDITED, row, strict=True)}


def keep(
    session: Session,
    mrn: str,
    engine_version: str,
    profile_key: str,
    changes: list[dict[str, Any]],
    stamp: CaseStamp | None = None,
) -> bool:
    """`put` inside a savepoint of the caller's write: a comparison that cannot be stored
    (derived data) never costs the clinical write it goes with; it is then made again at
    the next open.  Its audit row is only recorded once its statements went through, so a
    refused row leaves none.  True when it was stored."""
    try:
        with session.begin_nested():
            return put(session, mrn, engine_version, profile_key, changes, stamp)
    except sa.exc.DBAPIError as error:
        log.warning("an engine comparison was not stored: %s", type(error.orig).__name__)
        return False


def stored_for(
    session: Session, stamps: Iterable[CaseStamp], engine_version: str, profile_key: str
) -> set[int]:
    """The case ids among `stamps` whose comparison is stored for exactly that save, engine
    and profile (the background pass skips them)."""
    wanted = {s.case_id: s for s in stamps}
    if not wanted:
        return set()
    query = sa.select(_C.case_id, _C.case_created_at, _C.case_version, _C.case_updated_at).where(
        _C.case_id.in_(list(wanted)),
        _C.engine_version == engine_version,
        _C.profile_key == profile_key,
    )
    return {
        row[0]
        for row in session.connection().execute(query)
        if CaseStamp(row[0], row[1], int(row[2]), row[3]) == wanted[row[0]]
    }
