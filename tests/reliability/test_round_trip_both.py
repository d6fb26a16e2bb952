"""T40 through the database, on both back ends: generated valid cases go in by
`import_text` and come back out by `export` unchanged and evaluate without error; generated
broken ones are refused with a message at their JSON path and change nothing stored."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crlmboard.domain.caseformat import normalised
from crlmboard.domain.validation import InvalidInput
from crlmboard.services import Board
from tests.conftest import TODAY
from tests.strategies import BREAKAGES, valid_case

pytestmark = [pytest.mark.db, pytest.mark.slow]

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Board]:
    """One board per test on each back end (each example imports under an MRN of its own)."""
    where = (
        str(tmp_path / "board.sqlite3")
        if request.param == "sqlite"
        else request.getfixturevalue("own_postgres")
    )
    with Board.open(where, clock=lambda: TODAY) as board:
        yield board


def stored_state(board: Board) -> tuple[int, Any]:
    """The cases and the audit head: what a refused import must leave as it was."""
    head = board.maintenance.check().audit_head
    return board.cases.count(), head


@given(document=valid_case)
@EXAMPLES
def test_generated_cases_round_trip_through_the_database(
    store: Board, tmp_path: Path, document: dict[str, Any]
) -> None:
    document = copy.deepcopy(document)
    document["patient"]["mrn"] = mrn = f"T40-{uuid.uuid4().hex[:10]}"
    store.cases.import_text(json.dumps(document))
    exported = store.cases.export(mrn, tmp_path / f"{mrn}.json")
    assert normalised(json.loads(exported.read_text("utf-8"))) == normalised(document)
    store.evaluation.evaluate(store.cases.get(mrn))


@given(document=valid_case, breakage=st.sampled_from(BREAKAGES))
@EXAMPLES
def test_generated_broken_cases_are_refused_and_change_nothing(
    store: Board, document: dict[str, Any], breakage: tuple[str, Any]
) -> None:
    document = copy.deepcopy(document)
    document["patient"]["mrn"] = f"T40-{uuid.uuid4().hex[:10]}"
    path, value = breakage
    parts = path.split(".")
    target = document
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
    before = stored_state(store)
    with pytest.raises(InvalidInput) as refused:
        store.cases.import_text(json.dumps(document))
    assert path in [p.path for p in refused.value.problems]
    assert stored_state(store) == before
