"""The audit trail and signed-review immutability in the store, on SQLite and PostgreSQL:
audit rows in the same transaction with field diffs, the hash chain and its verification,
append-only triggers (T33), signed reviews refused and hashed (T34), tampering (T32 a–c),
replay of the trail reproducing the stored state (T31)."""

from __future__ import annotations

import copy
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import case_from_dict
from crlmboard.store import audit, migrate
from crlmboard.store import tables as t
from crlmboard.store.database import (
    create_database_engine,
    database_url,
    read_session,
    write_session,
)
from crlmboard.store.integrity import (
    replay_problems,
    signed_review_problems,
    trigger_problems,
)
from crlmboard.store.repositories import CaseRepository, CaseSummary, SignedReviewChanged
from tests.strategies import valid_case

pytestmark = pytest.mark.db
TODAY = date(2026, 11, 24)
SIGNED = {
    "meeting_date": "2025-02-04",
    "decision": "Resect segments 6 and 7.",
    "recommendation": "upfront_resection",
    "signed_by": "Dr Lind",
    "signed_at": "2025-02-04T13:00:00Z",
    "attendees": [{"name": "Dr Lind", "role": "hepatobiliary_surgeon"}],
}


def make_case(upfront: dict[str, Any], **changes: Any) -> Case:
    document = copy.deepcopy(upfront)
    document.update(changes)
    return case_from_dict(document, TODAY)


def create(engine: sa.Engine, case: Case) -> int:
    with write_session(engine) as session:
        return CaseRepository(session).create(case, CaseSummary())


def update(engine: sa.Engine, case: Case, version: int) -> int:
    with write_session(engine) as session:
        return CaseRepository(session).update(case, version, CaseSummary())


def rows(engine: sa.Engine, after: int = 0) -> list[audit.AuditEntry]:
    with read_session(engine) as session:
        return list(
            audit.expanded(
                iter(
                    session.execute(
                        sa.select(audit.AUDIT)
                        .where(audit.AUDIT.c.seq > after)
                        .order_by(audit.AUDIT.c.seq)
                    )
                )
            )
        )


def head(engine: sa.Engine) -> int:
    with read_session(engine) as session:
        found = audit.read_head(session)
    return found.seq if found else 0


def verify(engine: sa.Engine) -> audit.ChainReport:
    with engine.connect() as connection:
        return audit.verify_chain(connection)


def clinical_rows(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return sum(
            int(connection.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())
            for model in audit.AUDITED_TABLES.values()
        )


def test_a_new_case_audits_every_record_in_one_chain_row(
    engine: sa.Engine, upfront: dict[str, Any]
) -> None:
    case_id = create(engine, make_case(upfront, reviews=[SIGNED]))
    written = rows(engine)
    assert len(written) == clinical_rows(engine)
    assert {e.action for e in written} == {"insert"}
    assert {e.case_id for e in written} == {case_id}
    patient = next(e for e in written if e.table == "patient")
    assert patient.record_id == str(case_id)
    assert patient.after is not None and patient.after["mrn"] == "EX-0001"
    for entry in written:
        assert entry.at.tzinfo is not None
        assert entry.app_user and entry.os_login and entry.host and entry.app_version
        assert entry.record_id is not None and "EX-0001" not in entry.record_id
    report = verify(engine)
    assert report.ok and report.rows == 1  # the case's records share one `changes` row
    with engine.connect() as connection:
        stored = connection.execute(sa.select(audit.AUDIT)).one()
    assert stored.action == audit.CHANGES and stored.case_id == case_id
    assert json.loads(stored.fields) == sorted({e.table for e in written})


def test_an_edit_audits_only_what_changed(engine: sa.Engine, upfront: dict[str, Any]) -> None:
    case = make_case(upfront)
    create(engine, case)
    start = head(engine)
    assert update(engine, case, 1) == 2
    assert rows(engine, start) == []  # an unchanged save writes no audit row

    patient = case.patient.model_copy(update={"weight_kg": 70.5})
    timepoint = case.imaging[0].model_copy(
        update={
            "lesions": [
                *case.imaging[0].lesions,
                case.imaging[0].lesions[0].model_copy(update={"id": "L9"}),
            ]
        }
    )
    edited = case.model_copy(
        update={
            "patient": patient,
            "labs": case.labs[1:],
            "imaging": [timepoint, *case.imaging[1:]],
        }
    )
    update(engine, edited, 2)
    changes = rows(engine, start)
    assert ("update", "patient", ["weight_kg"]) in [(e.action, e.table, e.fields) for e in changes]
    weight = next(e for e in changes if e.table == "patient")
    assert weight.before == {"weight_kg": case.patient.weight_kg}
    assert weight.after == {"weight_kg": 70.5}
    assert ("insert", "lesion_measurement") in [(e.action, e.table) for e in changes]
    # labs move up one place: the trail says which values changed and which row went
    assert [e.action for e in changes if e.table == "lab_result"][-1] == "delete"
    assert {e.table for e in changes} <= {"patient", "lab_result", "lesion_measurement"}
    with read_session(engine) as session:
        assert CaseRepository(session).get("EX-0001") == edited
        assert replay_problems(session) == []
    assert verify(engine).ok


def test_audit_rows_share_the_transaction_of_the_change(
    engine: sa.Engine, upfront: dict[str, Any]
) -> None:
    with pytest.raises(RuntimeError), write_session(engine) as session:
        CaseRepository(session).create(make_case(upfront), CaseSummary())
        assert audit.read_head(session) is not None  # written, not yet committed
        raise RuntimeError("stop before commit")
    assert head(engine) == 0
    assert clinical_rows(engine) == 0


def test_deleting_a_case_audits_every_record(engine: sa.Engine, upfront: dict[str, Any]) -> None:
    case_id = create(engine, make_case(upfront))
    count = clinical_rows(engine)
    start = head(engine)
    with write_session(engine) as session:
        CaseRepository(session).delete("EX-0001")
    deleted = rows(engine, start)
    assert len(deleted) == count and {e.action for e in deleted} == {"delete"}
    assert {e.case_id for e in deleted} == {case_id}
    with read_session(engine) as session:
        assert audit.replay(session) == {}
        assert replay_problems(session) == []


def test_history_of_a_case(engine: sa.Engine, upfront: dict[str, Any]) -> None:
    case = make_case(upfront)
    case_id = create(engine, case)
    other = make_case(upfront, patient={**upfront["patient"], "mrn": "EX-0002"})
    create(engine, other)
    update(engine, case.model_copy(update={"labs": []}), 1)
    with read_session(engine) as session:
        entries = audit.history(session, case_id)
    assert entries and {e.case_id for e in entries} == {case_id}
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    assert entries[-1].action == "delete" and entries[-1].table == "lab_result"


def test_the_audit_table_is_append_only(engine: sa.Engine, upfront: dict[str, Any]) -> None:
    """T33: UPDATE and DELETE on the audit table raise, through the app's own connection."""
    create(engine, make_case(upfront))
    for statement in (
        "UPDATE audit_event SET action = 'x' WHERE seq = 1",
        "DELETE FROM audit_event WHERE seq = 1",
        "DELETE FROM audit_event",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as connection:
            connection.exec_driver_sql(statement)
    if engine.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as connection:
            connection.exec_driver_sql("TRUNCATE audit_event")
    assert verify(engine).ok
    with engine.connect() as connection:
        assert trigger_problems(connection) == []


def test_a_signed_review_cannot_be_changed(engine: sa.Engine, upfront: dict[str, Any]) -> None:
    """T34: the update path refuses it, the database refuses it, and a change made behind
    the triggers' back is found by its content hash; an amendment is a new review."""
    case = make_case(upfront, reviews=[SIGNED])
    create(engine, case)
    with read_session(engine) as session:
        stored = CaseRepository(session).get("EX-0001")
        assert signed_review_problems(session) == []
    review = stored.reviews[0]
    for reviews in ([review.model_copy(update={"decision": "Do not resect."})], []):
        with pytest.raises(SignedReviewChanged), write_session(engine) as session:
            CaseRepository(session).update(
                stored.model_copy(update={"reviews": reviews}), 1, CaseSummary()
            )
    for statement in ("UPDATE review SET decision = 'Do not resect.'", "DELETE FROM review"):
        with (
            pytest.raises(sa.exc.DatabaseError, match="signed review"),
            engine.begin() as connection,
        ):
            connection.exec_driver_sql(statement)

    amendment = review.model_copy(
        update={
            "decision": "Resect segment 6 only.",
            "amends": 0,
            "signed_at": None,
            "signed_by": None,
        }
    )
    update(engine, stored.model_copy(update={"reviews": [review, amendment]}), 1)
    with read_session(engine) as session:
        reviews_now = CaseRepository(session).get("EX-0001").reviews
    assert reviews_now[0] == review and reviews_now[1].amends == 0
    # the draft amendment may still change, then be signed
    signed_amendment = amendment.model_copy(
        update={"signed_by": "Dr Lind", "signed_at": review.signed_at}
    )
    update(engine, stored.model_copy(update={"reviews": [review, signed_amendment]}), 2)
    with read_session(engine) as session:
        assert signed_review_problems(session) == []
        assert replay_problems(session) == []

    with engine.begin() as connection:
        _disable_review_triggers(connection)
        connection.exec_driver_sql(
            "UPDATE review SET decision = 'Never resect.' WHERE position = 0"
        )
    with read_session(engine) as session:
        problems = signed_review_problems(session)
        assert len(problems) == 1 and "changed after it was signed" in problems[0]
        assert any("field decision" in p for p in replay_problems(session))


def _disable_review_triggers(connection: sa.Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("DROP TRIGGER review_signed_no_update")
    else:
        connection.exec_driver_sql("ALTER TABLE review DISABLE TRIGGER USER")


def _disable_audit_triggers(connection: sa.Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("DROP TRIGGER audit_event_no_update")
        connection.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
    else:
        connection.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")


@pytest.mark.parametrize("tamper", ["edit", "edit-packed", "delete", "swap"])
def test_tampering_reports_the_first_broken_link(
    engine: sa.Engine, upfront: dict[str, Any], tamper: str
) -> None:
    """T32 a–c (d and e are caught by the backup anchor: tests/services).  Rows 1–3 are
    whole cases (`changes` rows, compressed on SQLite), rows 4–7 single-field edits."""
    case = make_case(upfront)
    create(engine, case)
    for n in (2, 3):
        create(engine, make_case(upfront, patient={**upfront["patient"], "mrn": f"EX-000{n}"}))
    for version in range(1, 5):
        patient = case.patient.model_copy(update={"weight_kg": 100.0 + version})
        update(engine, case.model_copy(update={"patient": patient}), version)
    assert head(engine) == 7
    with engine.begin() as connection:
        _disable_audit_triggers(connection)
        if tamper == "edit":
            connection.exec_driver_sql(
                "UPDATE audit_event SET after_json = replace(after_json, '101', '109') "
                "WHERE seq = 4"
            )
            expected = 4
        elif tamper == "edit-packed":  # as stored: expand, change the MRN, store again
            stored = connection.execute(
                sa.text("SELECT after_json FROM audit_event WHERE seq = 1")
            ).scalar_one()
            text = t.unpack(stored).replace('"EX-0001"', '"EX-9999"')
            assert "EX-9999" in text
            connection.execute(
                sa.text("UPDATE audit_event SET after_json = :v WHERE seq = 1"),
                {"v": t.pack(text, connection.dialect.name)},
            )
            expected = 1
        elif tamper == "delete":
            connection.exec_driver_sql("DELETE FROM audit_event WHERE seq = 5")
            expected = 5
        else:
            connection.exec_driver_sql("UPDATE audit_event SET seq = -1 WHERE seq = 4")
            connection.exec_driver_sql("UPDATE audit_event SET seq = 4 WHERE seq = 6")
            connection.exec_driver_sql("UPDATE audit_event SET seq = 6 WHERE seq = -1")
            expected = 4
    report = verify(engine)
    assert not report.ok
    assert report.first_broken == expected, report.problem


def test_the_chain_survives_many_saves_quickly(engine: sa.Engine, upfront: dict[str, Any]) -> None:
    """Auditing keeps a save fast: per-field diffs, one transaction."""
    case = make_case(upfront)
    create(engine, case)
    started = time.perf_counter()
    for version in range(1, 21):
        patient = case.patient.model_copy(update={"weight_kg": 100.0 + version})
        update(engine, case.model_copy(update={"patient": patient}), version)
    elapsed = (time.perf_counter() - started) / 20
    assert elapsed < 0.25, f"{elapsed * 1000:.0f} ms per save"
    report = verify(engine)
    assert report.ok
    assert [e.fields for e in rows(engine)[-20:]] == [["weight_kg"]] * 20


@given(documents=st.lists(valid_case, min_size=1, max_size=4), data=st.data())
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_replaying_the_trail_reproduces_the_stored_state(
    tmp_path_factory: pytest.TempPathFactory, documents: list[dict[str, Any]], data: st.DataObject
) -> None:
    """T31 (in part): after any sequence of creates, edits and deletes, every clinical row
    equals the state its audit rows describe, and the chain verifies."""
    engine = create_database_engine(database_url(tmp_path_factory.mktemp("replay") / "db.sqlite3"))
    migrate.upgrade(engine)
    try:
        versions: dict[str, int] = {}
        for document in documents:
            document = json.loads(json.dumps(document))
            document["patient"]["mrn"] = data.draw(st.sampled_from(["A-1", "A-2", "A-3"]))
            case = case_from_dict(document, TODAY)
            action = data.draw(st.sampled_from(["save", "delete"]))
            with write_session(engine) as session:
                repository = CaseRepository(session)
                if case.mrn not in versions:
                    repository.create(case, CaseSummary())
                    versions[case.mrn] = 1
                elif action == "delete" and not repository.get(case.mrn).reviews:
                    repository.delete(case.mrn)
                    del versions[case.mrn]
                else:
                    stored = repository.get(case.mrn)
                    case = case.model_copy(
                        update={"reviews": stored.reviews + case.reviews[len(stored.reviews) :]}
                    )
                    versions[case.mrn] = repository.update(case, versions[case.mrn], CaseSummary())
        with read_session(engine) as session:
            assert replay_problems(session) == []
            assert signed_review_problems(session) == []
        assert verify(engine).ok
    finally:
        engine.dispose()


def test_a_clock_that_went_back_is_reported(tmp_path: Path, upfront: dict[str, Any]) -> None:
    """T23 (the audit half): a row dated over 5 minutes before the previous one warns; the
    chain still verifies."""
    from datetime import UTC, datetime, timedelta

    engine = create_database_engine(database_url(tmp_path / "db.sqlite3"))
    migrate.upgrade(engine)
    moments = iter(
        [
            datetime(2026, 11, 24, 12, tzinfo=UTC),
            datetime(2026, 11, 24, 12, tzinfo=UTC) - timedelta(days=365),
        ]
    )
    case = make_case(upfront)
    for version, moment in enumerate(moments):
        with write_session(engine) as session:
            session.info["clock"] = lambda moment=moment: moment
            repository = CaseRepository(session)
            if version == 0:
                repository.create(case, CaseSummary())
            else:
                repository.update(case.model_copy(update={"labs": []}), 1, CaseSummary())
    report = verify(engine)
    engine.dispose()
    assert report.ok
    assert len(report.warnings) == 1 and "clock went back" in report.warnings[0]


_json_data = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    outer=st.dictionaries(st.text(), _json_data, max_size=5),
    inner=st.lists(_json_data, min_size=1, max_size=3),
)
def test_canonical_text_with_values_encoded_before_is_the_canonical_text(
    outer: dict[str, Any], inner: list[Any]
) -> None:
    """A frozen evaluation is encoded once and its text written where it stands (in the
    review's content hash and its audit row): the text is the canonical JSON of the same
    data, whatever the data and wherever the encoded values are — texts that look like
    the placeholder included."""
    placed = {**outer, "items": [{"value": audit.Encoded(audit.canonical(v))} for v in inner]}
    plain = {**outer, "items": [{"value": v} for v in inner]}
    assert audit.canonical_spliced(placed) == audit.canonical(plain)
    assert audit.canonical_spliced(plain) == audit.canonical(plain)
    token = audit._SPLICE + "0"  # a text that looks like a placeholder is data like any other
    for text in (token, f'say "{token}"', token + "1"):
        assert audit.canonical_spliced([text, audit.Encoded("[1]")]) == audit.canonical([text, [1]])
