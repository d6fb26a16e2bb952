"""Trusted reads (performance.md B3): a case read back from the store is built without
validating its records again, and is exactly what validating them would give — equal values
of the same types all the way down (an enumeration, not its text; a date, not an ISO
string; an aware UTC time) — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import case_from_dict
from crlmboard.store import migrate
from crlmboard.store.database import (
    create_database_engine,
    database_url,
    read_session,
    write_session,
)
from crlmboard.store.repositories import CaseRepository, CaseSummary, read_stamped
from tests.conftest import golden_cases
from tests.strategies import valid_case

pytestmark = pytest.mark.db
TODAY = date(2026, 11, 24)


def same(a: Any, b: Any, path: str = "case", *, fields_set: bool = True) -> None:
    """`a` and `b` equal, with the same type at every level (and, with `fields_set`, the
    same fields marked as given)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, BaseModel):
        if fields_set:
            assert a.model_fields_set == b.model_fields_set, path
        for name in type(a).model_fields:
            same(getattr(a, name), getattr(b, name), f"{path}.{name}", fields_set=fields_set)
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]", fields_set=fields_set)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            same(a[key], b[key], f"{path}.{key}", fields_set=fields_set)
    else:
        assert a == b, path
        if isinstance(a, Enum):
            assert a is b, path


def both_reads(engine: sa.Engine, case: Case) -> tuple[Case, Case]:
    """The case written, then read trusted (as an open reads it: `read_stamped`, on
    SQLite's own DBAPI connection) and validated; the trusted read in a session is the
    same as the open's."""
    with write_session(engine) as session:
        CaseRepository(session).create(case, CaseSummary())
    with read_session(engine) as session:
        in_session, stamp = CaseRepository(session).get_stamped(case.mrn)
        validated = CaseRepository(session, validate_reads=True).get(case.mrn)
    trusted, same_stamp = read_stamped(engine, case.mrn)
    assert same_stamp == stamp
    same(trusted, in_session)
    return trusted, validated


def signed(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its first review signed (a UTC time read back from the store)."""
    if document.get("reviews"):
        first = {**document["reviews"][0], "signed_by": "Dr Test Synthetic"}
        first["signed_at"] = "2025-03-04T10:11:12Z"
        document = {**document, "reviews": [first, *document["reviews"][1:]]}
    return document


@given(valid_case.map(signed) | valid_case)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_a_trusted_read_equals_a_validated_read(tmp_path: Path, document: dict[str, Any]) -> None:
    engine = create_database_engine(database_url(tmp_path / f"{uuid.uuid4().hex}.sqlite3"))
    migrate.upgrade(engine)
    case = case_from_dict(document, TODAY)
    trusted, validated = both_reads(engine, case)
    same(trusted, validated)
    same(trusted, case, fields_set=False)  # the file need not give every field
    engine.dispose()


@pytest.mark.parametrize("path", golden_cases(), ids=lambda p: p.stem)
def test_golden_cases_read_trusted_as_validated(path: Path, engine: sa.Engine) -> None:
    case = case_from_dict(signed(json.loads(path.read_text("utf-8"))), TODAY)
    trusted, validated = both_reads(engine, case)
    same(trusted, validated)
    same(trusted, case, fields_set=False)  # the file need not give every field


def test_an_open_reads_a_case_in_one_transaction_without_a_session(tmp_path: Path) -> None:
    """On SQLite the open's read (`read_stamped`) runs its statements on the pool's DBAPI
    connection inside one BEGIN … COMMIT (one snapshot of the case), with no SQLAlchemy
    connection or session begun around it (issue 21, B3); the connection goes back to the
    pool with no transaction open, also when the case is not there."""
    from crlmboard.store.repositories import NotFound

    engine = create_database_engine(database_url(tmp_path / "db.sqlite3"))
    migrate.upgrade(engine)
    case = case_from_dict(signed(json.loads(golden_cases()[0].read_text("utf-8"))), TODAY)
    with write_session(engine) as session:
        CaseRepository(session).create(case, CaseSummary())
    begun: list[int] = []
    sa.event.listen(engine, "begin", lambda _connection: begun.append(1))
    statements: list[str] = []
    with engine.connect() as connection:  # the pool's one connection, traced
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.set_trace_callback(statements.append)
    begun.clear()
    read, _stamp = read_stamped(engine, case.mrn)
    same(read, case, fields_set=False)
    assert begun == []
    words = [s.split()[0].upper() for s in statements]
    assert words[0] == "BEGIN" and words[-1] == "COMMIT"
    assert set(words[1:-1]) == {"SELECT"} and len(words) > 10
    statements.clear()
    with pytest.raises(NotFound):
        read_stamped(engine, "EX-NONE-9999")
    assert [s.split()[0].upper() for s in statements][-1] in ("COMMIT", "ROLLBACK")
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None and not raw.in_transaction
        raw.set_trace_callback(None)
    engine.dispose()
