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

import pydantic
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
from tests.strategies import text, valid_case

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


# -- every kind of stored value, on each back end (issue 21: rows built by position) --------

letters = st.characters(blacklist_categories=["Cs", "Cc"])
# any JSON value of the case format's texts: what a frozen evaluation may hold (long
# enough, some, to be stored compressed on SQLite: tables.PACK_FROM_BYTES)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
    | st.text(letters, min_size=600, max_size=1400),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=24,
)
evaluations = st.fixed_dictionaries(
    {"format": st.just("crlmboard.evaluation/1")}, optional={"facts": json_values}
)


def with_evaluations(document: dict[str, Any], frozen: list[Any]) -> dict[str, Any]:
    reviews = [
        {**review, "evaluation": evaluation} if evaluation is not None else review
        for review, evaluation in zip(document.get("reviews", []), frozen, strict=False)
    ]
    return {**document, "reviews": reviews} if reviews else document


@given(
    st.builds(
        with_evaluations,
        valid_case.map(signed) | valid_case,
        st.lists(st.none() | evaluations, max_size=2),
    )
)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_every_kind_of_value_reads_trusted_as_validated_on_each_back_end(
    engine: sa.Engine, document: dict[str, Any]
) -> None:
    """Dates, UTC times, enumerations, flags, numbers, texts, JSON lists of records and of
    values, frozen evaluations of any JSON (compressed or not), None in any optional
    field, and no children at all: built from the rows by position, as validating gives."""
    document = {**document, "patient": {**document["patient"], "mrn": uuid.uuid4().hex[:20]}}
    case = case_from_dict(document, TODAY)
    trusted, validated = both_reads(engine, case)
    same(trusted, validated)
    same(trusted, case, fields_set=False)


def golden_case(*, sign: bool = True) -> Case:
    """A golden case (with two imaging timepoints) and two reviews, the first signed
    when `sign`."""
    document = json.loads(golden_cases()[-1].read_text("utf-8"))
    review = {
        "meeting_date": "2025-02-03",
        "question": "Resect now?",
        "actions": [{"text": "Book a CT", "owner": "Coordinator", "due": "2025-02-10"}],
        "attendees": [{"name": "Dr Test Synthetic", "role": "hepatobiliary_surgeon"}],
        "follow_up": {"status": "pending", "recorded_on": "2025-02-04"},
        "evaluation": {"format": "crlmboard.evaluation/1", "facts": {"bmi": 24.5}},
    }
    document["reviews"] = [review, {**review, "meeting_date": "2025-03-03"}]
    return case_from_dict(signed(document) if sign else document, TODAY)


def test_older_stored_forms_read_trusted_as_validated(engine: sa.Engine) -> None:
    """A review's actions and attendees stored as null read as empty lists, and a
    follow-up kept inside the review row (before migration 0003) is its follow-up."""
    case = golden_case(sign=False)
    assert case.reviews and case.reviews[0].follow_up is not None
    with write_session(engine) as session:
        case_id = CaseRepository(session).create(case, CaseSummary())
    first = case.reviews[0]
    inside = first.follow_up.model_dump(mode="json")  # type: ignore[union-attr]
    with engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM review_follow_up WHERE case_id = :id"), {"id": case_id}
        )
        connection.execute(
            sa.text(
                "UPDATE review SET actions = NULL, attendees = NULL, follow_up = :inside "
                "WHERE case_id = :id AND position = 0"
            ).bindparams(sa.bindparam("inside", type_=sa.JSON)),
            {"id": case_id, "inside": inside},
        )
    with read_session(engine) as session:
        validated = CaseRepository(session, validate_reads=True).get(case.mrn)
    trusted, _stamp = read_stamped(engine, case.mrn)
    same(trusted, validated)
    assert trusted.reviews[0].actions == [] and trusted.reviews[0].attendees == []
    assert trusted.reviews[0].follow_up == first.follow_up


def test_a_stored_value_outside_its_enumeration_is_refused_not_shown(engine: sa.Engine) -> None:
    """A stored text that is none of its field's values (a damaged or foreign row) is
    refused on reading, as before rows were built by position: never read as another
    value or as missing."""
    case = golden_case()
    with write_session(engine) as session:
        CaseRepository(session).create(case, CaseSummary())
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE patient SET sex = 'X-NOT-A-SEX' WHERE mrn = :mrn"), {"mrn": case.mrn}
        )
    with pytest.raises(ValueError, match="X-NOT-A-SEX"):
        read_stamped(engine, case.mrn)


def test_trusted_records_are_edited_and_copied_as_validated_ones(engine: sa.Engine) -> None:
    """Records built from the rows share one fields set per class (every field is set),
    which never changes: assigning a field and `model_copy(update=…)` work as on a
    validated record and change no other record."""
    case = golden_case()
    with write_session(engine) as session:
        CaseRepository(session).create(case, CaseSummary())
    with read_session(engine) as session:
        validated = CaseRepository(session, validate_reads=True).get(case.mrn)
    trusted, _stamp = read_stamped(engine, case.mrn)
    assert len(trusted.imaging) >= 2
    for read in (trusted, validated):
        first, second = read.imaging[0], read.imaging[1]
        fields_before = set(second.model_fields_set)
        first.flr_percent = 41.5
        assert first.flr_percent == 41.5 and first.model_fields_set == fields_before
        assert second.model_fields_set == fields_before
        copied = second.model_copy(update={"flr_percent": 12.0})
        assert type(copied.model_fields_set) is set
        copied.model_fields_set.discard("flr_percent")
        assert "flr_percent" in second.model_fields_set
        with pytest.raises(pydantic.ValidationError):
            first.flr_percent = -1.0
    same(trusted, validated)
    if type(trusted.imaging[0].model_fields_set) is not set:  # shared: never changed
        with pytest.raises(TypeError):
            trusted.imaging[0].model_fields_set.discard("date")


@given(json_values)
@settings(max_examples=300, deadline=None)
def test_json_columns_parse_as_json_loads(value: Any) -> None:
    """The JSON columns are parsed by pydantic's parser on SQLite: the same values, of
    the same types, as `json.loads` gives (SQLAlchemy's own parser)."""
    from pydantic_core import from_json

    for stored in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
        same(from_json(stored), json.loads(stored), "value")


def test_an_open_builds_every_record_from_its_row(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An open builds each record from its row by the table's compiled function: none
    goes through the slower path by name (`construct`), which is kept for the rows those
    functions cannot take (a stored value outside its enumeration)."""
    from crlmboard.store import repositories

    by_name: list[str] = []
    slower = repositories.construct

    def counted(model: Any, values: Any, **options: Any) -> Any:
        by_name.append(model.__name__)
        return slower(model, values, **options)

    monkeypatch.setattr(repositories, "construct", counted)
    case = golden_case()
    with write_session(engine) as session:
        CaseRepository(session).create(case, CaseSummary())
    read, _stamp = read_stamped(engine, case.mrn)
    same(read, case, fields_set=False)
    assert by_name == []
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE patient SET sex = 'X-NOT-A-SEX' WHERE mrn = :mrn"), {"mrn": case.mrn}
        )
    with pytest.raises(ValueError, match="X-NOT-A-SEX"):
        read_stamped(engine, case.mrn)
    assert by_name == ["Patient"]
