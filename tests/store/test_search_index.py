"""The filter's trigram index follows the database file between SQLite libraries: opened
where the tokenizer is missing, its triggers go (every save would fail otherwise); opened
again where it exists, the index is built again, with what changed meanwhile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crlmboard.services import Board
from crlmboard.store import search_index
from crlmboard.store.database import read_session
from crlmboard.store.repositories import CaseRepository
from tests.conftest import TODAY

pytestmark = pytest.mark.db


def case_text(upfront: dict[str, Any], mrn: str, family: str) -> str:
    return json.dumps(
        {**upfront, "patient": {**upfront["patient"], "mrn": mrn, "family_name": family}}
    )


def uses_index(board: Board) -> bool:
    with read_session(board.database.engine) as session:
        return CaseRepository(session).has_search_index()


def test_the_index_is_dropped_where_unusable_and_built_again_where_usable(
    db_path: Path, upfront: dict[str, Any]
) -> None:
    with Board.open(db_path, clock=lambda: TODAY) as board:
        if not uses_index(board):
            pytest.skip("this SQLite has no trigram tokenizer")
        board.cases.import_text(case_text(upfront, "IDX-1", "Quenneville"))
        assert search_index.keep_usable(board.database.engine) is None  # healthy: nothing to do
        # as an older SQLite would find it at open
        assert search_index.keep_usable(board.database.engine, available=False) is not None
        with board.database.engine.connect() as connection:
            assert search_index.present(connection) == {search_index.TABLE}
        assert not uses_index(board)
        # saves go on, and the filter still finds them (a test on every row)
        board.cases.import_text(case_text(upfront, "IDX-2", "Rautavaara"))
        assert [e.mrn for e in board.cases.page("rautav")] == ["IDX-2"]
    with Board.open(db_path, clock=lambda: TODAY) as board:  # a library with the tokenizer
        assert uses_index(board)
        with board.database.engine.connect() as connection:
            assert search_index.present(connection) == {search_index.TABLE, *search_index.TRIGGERS}
            connection.exec_driver_sql(
                "INSERT INTO patient_search(patient_search, rank) VALUES ('integrity-check', 1)"
            )
        assert [e.mrn for e in board.cases.page("rautav")] == ["IDX-2"]
        assert [e.mrn for e in board.cases.page("quennev")] == ["IDX-1"]
        assert board.cases.count("vaara") == 1
        assert board.maintenance.check().ok
