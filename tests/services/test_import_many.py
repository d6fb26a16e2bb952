"""`board.cases.import_many`: many case files in one transaction, all or nothing, checked and
audited exactly as one `import_text` each."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from crlmboard.domain.validation import InvalidInput
from crlmboard.services import Board
from crlmboard.store import tables as t

pytestmark = pytest.mark.db


def text(document: dict[str, Any], mrn: str) -> str:
    return json.dumps({**document, "patient": {**document["patient"], "mrn": mrn}})


def rows(board: Board, table: Any) -> int:
    with board.database.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_many_cases_are_stored_like_single_imports(
    board: Board, upfront: dict[str, Any], tmp_path: Any
) -> None:
    imported = board.cases.import_many([text(upfront, f"MANY-{i}") for i in range(3)])
    assert imported.mrns == ("MANY-0", "MANY-1", "MANY-2")
    assert imported.changes.cases == set(imported.mrns)
    single = Board.open(tmp_path / "single.sqlite3", clock=board.today)
    try:
        single.cases.import_text(text(upfront, "MANY-0"))
        assert single.cases.get("MANY-0") == board.cases.get("MANY-0")
        entry = board.cases.page("MANY-0")[0]
        assert single.cases.page("MANY-0")[0].open_warnings == entry.open_warnings
        # the same audit rows per case
        assert rows(board, t.AuditEventRow) == 3 * rows(single, t.AuditEventRow)
    finally:
        single.close()


def test_one_bad_file_refuses_the_whole_batch(board: Board, upfront: dict[str, Any]) -> None:
    bad = {**upfront, "patient": {**upfront["patient"], "ecog": 9}}
    with pytest.raises(InvalidInput) as refused:
        board.cases.import_many([text(upfront, "OK-1"), text(bad, "BAD-1")])
    assert [p.path for p in refused.value.problems] == ["[1].patient.ecog"]
    assert board.cases.count() == 0 and rows(board, t.AuditEventRow) == 0


def test_a_repeated_or_stored_mrn_refuses_the_batch(board: Board, upfront: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match="given twice"):
        board.cases.import_many([text(upfront, "TWICE"), text(upfront, "TWICE")])
    board.cases.import_text(text(upfront, "STORED"))
    with pytest.raises(InvalidInput, match="already exists"):
        board.cases.import_many([text(upfront, "NEW"), text(upfront, "STORED")])
    assert board.cases.count() == 1
