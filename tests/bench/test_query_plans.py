"""The case list, the opening of a case and the next-meeting subquery use indexes: no full
scan of a table that grows with the patients (EXPLAIN QUERY PLAN on a real SQLite file).

The statements checked are the ones the services really send (captured from the engine), so
a change to a query or an index shows here.  SQLite plans without statistics (the app never
runs ANALYZE), so a small file gets the plans a 100,000-patient one gets.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from bench import cohort
from crlmboard.services import Board

pytestmark = pytest.mark.db

PATIENTS = 60
TODAY = cohort.TODAY
# Tables that do not grow with the patients (a scan of them is fine).
SMALL_TABLES = {"meeting", "meeting_attendee", "setting", "alembic_version"}


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    path = tmp_path_factory.mktemp("plans") / "board.sqlite3"
    with Board.open(path, clock=lambda: TODAY, user="bench") as opened:
        opened.cases.import_many(list(cohort.texts(PATIENTS, seed=3)))
        cohort.add_meetings(opened, seed=3)
        yield opened


class Captured:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []

    def __enter__(self) -> Captured:
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any,
              _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.statements.append((statement, parameters))

    def plans(self) -> list[tuple[str, list[str]]]:
        """Each statement with its plan lines."""
        out = []
        with self.engine.connect() as connection:
            for statement, parameters in self.statements:
                rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                  parameters).all()
                out.append((statement, [str(row[3]) for row in rows]))
        return out


def full_scans(plans: list[tuple[str, list[str]]], *,
               allowed: frozenset[str] = frozenset()) -> list[str]:
    """Plan lines that read a whole patient-sized table (or all its rows through an index
    that does not bound the reading), with their statement."""
    bad = []
    for statement, lines in plans:
        scanning = False  # the statement walks a patient-sized table or index
        for line in lines:
            words = line.split()
            if words[:1] == ["SCAN"] and len(words) > 1:
                table = words[1]
                if table in SMALL_TABLES or table in allowed:
                    continue
                scanning = True
                # an index walked in the list's order stops after the page (LIMIT)
                bounded = "USING INDEX" in line and "LIMIT" in statement.upper()
                if not bounded:
                    bad.append(f"{line}  ←  {statement[:160]}")
        for line in lines:
            # sorting rows found by key (one case's records) is fine; sorting a whole
            # table's rows to show the first page is not
            if scanning and "TEMP B-TREE" in line and "ORDER BY" in line:
                bad.append(f"{line}  ←  {statement[:160]}")
    return bad


def test_opening_a_case_reads_only_that_case(board: Board) -> None:
    mrn = cohort.mrn_of(0)  # a heavy case: every table has rows
    with Captured(board.engine) as seen:
        case, _version = board.cases.get_with_version(mrn)
    assert case.imaging and case.reviews
    plans = seen.plans()
    assert len(plans) >= 5
    assert full_scans(plans) == []


def test_the_next_meeting_subquery_uses_the_agenda_index(board: Board) -> None:
    with Captured(board.engine) as seen:
        rows = board.cases.page("", sort="mrn", limit=50)
    assert any(r.next_meeting is not None for r in rows)
    (statement, lines), = [p for p in seen.plans() if "agenda_item" in p[0]]
    subquery = [line for line in lines if "agenda_item" in line]
    assert subquery and all(line.startswith("SEARCH") for line in subquery), lines
    assert full_scans([(statement, lines)]) == []


def test_the_case_list_sorted_by_mrn_walks_an_index(board: Board) -> None:
    with Captured(board.engine) as seen:
        board.cases.page("", sort="mrn", limit=50)
    assert full_scans(seen.plans()) == []


def test_the_default_case_list_walks_an_index(board: Board) -> None:
    with Captured(board.engine) as seen:
        board.cases.page("", limit=50)
    assert full_scans(seen.plans()) == []


def test_counting_the_list_reads_one_small_index(board: Board) -> None:
    with Captured(board.engine) as seen:
        assert board.cases.count("") == PATIENTS
    (_statement, lines), = seen.plans()
    assert len(lines) == 1 and "COVERING INDEX" in lines[0], lines


def test_the_filtered_list_scans_only_the_patient_search_text(board: Board) -> None:
    """`LIKE '%word%'` cannot use a b-tree index: the filter reads every patient's
    search_text (and nothing else of patient-sized size).  bench/README.md measures it at
    100,000 patients and gives the FTS5 trigram alternative."""
    with Captured(board.engine) as seen:
        board.cases.count("ka")
        board.cases.page("ka", limit=50)
    plans = seen.plans()
    assert len(plans) == 2
    assert full_scans(plans, allowed=frozenset({"patient"})) == []
    assert all(any("patient" in line for line in lines) for _s, lines in plans)


def test_cohort_meetings_are_on_the_agenda(board: Board) -> None:
    with board.engine.connect() as connection:
        upcoming = connection.exec_driver_sql(
            "SELECT count(*) FROM meeting WHERE date >= ?", (date.isoformat(TODAY),)).scalar()
    assert upcoming == cohort.UPCOMING_MEETINGS
