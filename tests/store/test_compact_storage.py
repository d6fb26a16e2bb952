"""Large values are compressed on SQLite (the audit trail's `changes` rows, a signed
review's frozen evaluation); they read back exactly, hash the same, and rows written before
compression read as they were."""

from __future__ import annotations

import copy
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from crlmboard.domain.caseformat import case_from_dict
from crlmboard.store import audit, backup, migrate
from crlmboard.store import tables as t
from crlmboard.store.database import (
    create_database_engine,
    database_url,
    read_session,
    write_session,
)
from crlmboard.store.integrity import replay_problems, signed_review_problems
from crlmboard.store.repositories import CaseRepository, CaseSummary
from tests.conftest import TODAY

pytestmark = pytest.mark.db

EVALUATION = {
    "schema": "crlmboard.evaluation/1",
    "findings": [{"rule": f"RULE.{i}", "message": "ž" * 60} for i in range(40)],
}


def signed_case(upfront: dict[str, Any]) -> Any:
    document = copy.deepcopy(upfront)
    document["reviews"] = [
        {
            "meeting_date": "2025-02-04",
            "decision": "Resect.",
            "recommendation": "upfront_resection",
            "signed_by": "Dr Lind",
            "signed_at": "2025-02-04T13:00:00Z",
            "attendees": [{"name": "Dr Lind", "role": "hepatobiliary_surgeon"}],
            "evaluation": EVALUATION,
        }
    ]
    return case_from_dict(document, TODAY)


def test_large_values_are_compressed_on_sqlite_and_read_back_exactly(
    tmp_path: Path, upfront: dict[str, Any]
) -> None:
    path = tmp_path / "db.sqlite3"
    engine = create_database_engine(database_url(path))
    migrate.upgrade(engine)
    case = signed_case(upfront)
    with write_session(engine) as session:
        CaseRepository(session).create(case, CaseSummary())
    with read_session(engine) as session:
        assert CaseRepository(session).get(case.mrn) == case
        assert signed_review_problems(session) == [] and replay_problems(session) == []
    with engine.connect() as connection:
        assert audit.verify_chain(connection).ok
    engine.dispose()
    connection = sqlite3.connect(path)
    try:
        kinds = connection.execute("SELECT action, typeof(after_json) FROM audit_event").fetchall()
        assert kinds == [(audit.CHANGES, "blob")]
        assert connection.execute("SELECT typeof(evaluation) FROM review").fetchone() == ("blob",)
        # what a backup checks reads the stored bytes directly
        assert backup.chain_verifies(connection)
    finally:
        connection.close()


def test_values_stored_as_text_before_still_read(tmp_path: Path) -> None:
    engine = create_database_engine(database_url(tmp_path / "db.sqlite3"))
    migrate.upgrade(engine)
    text = '{"a":"' + "x" * 5000 + '"}'
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO patient (id, mrn, version, created_at, updated_at, open_warnings, "
            "open_criticals, search_text) VALUES (1, 'OLD-1', 1, '2025-01-01 00:00:00', "
            "'2025-01-01 00:00:00', 0, 0, 'old-1')"
        )
        connection.exec_driver_sql(
            "INSERT INTO review (case_id, position, meeting_date, decision, evaluation) "
            f"VALUES (1, 0, '2025-02-04', 'Resect.', '{text}')"
        )
    with engine.connect() as connection:
        stored = connection.execute(sa.select(t.ReviewRow.__table__.c.evaluation)).scalar()
    assert stored == {"a": "x" * 5000}
    assert t.unpack(t.pack(text, "sqlite")) == text and t.pack(text, "postgresql") == text
    engine.dispose()
