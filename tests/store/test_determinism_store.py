"""T47: the evaluation is byte-identical whatever the back end, time zone or locale."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa

from crlmboard.domain.caseformat import loads_case
from crlmboard.domain.engine import evaluate, evaluation_to_json
from crlmboard.services.evaluation import default_profile
from crlmboard.store.database import read_session, write_session
from crlmboard.store.repositories import CaseRepository, CaseSummary
from tests.conftest import GOLDEN, golden_cases

AS_OF = date(2025, 3, 20)


@pytest.fixture
def zones() -> Iterator[list[dict[str, str]]]:
    saved = {k: os.environ.get(k) for k in ("TZ", "LANG", "LC_ALL")}
    yield [
        {"TZ": "Pacific/Kiritimati"},
        {"TZ": "America/Adak"},
        {"LANG": "tr_TR.UTF-8", "LC_ALL": "tr_TR.UTF-8"},
    ]
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    time.tzset()


def test_t47_evaluation_identical_across_backends_zones_and_locales(
    engine: sa.Engine, zones: list[dict[str, str]]
) -> None:
    profile = default_profile()
    for path in golden_cases():
        from_file = loads_case(path.read_text("utf-8"), date(2026, 11, 24))
        expected = evaluation_to_json(evaluate(from_file, AS_OF, profile))
        with write_session(engine) as session:
            CaseRepository(session).create(from_file, CaseSummary())
        for env in zones:
            os.environ.update(env)
            time.tzset()
            for _twice in range(2):
                with read_session(engine) as session:
                    stored = CaseRepository(session).get(from_file.mrn)
                assert evaluation_to_json(evaluate(stored, AS_OF, profile)) == expected
    assert GOLDEN.exists()
