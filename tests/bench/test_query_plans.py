"""The case list, its filter, the opening of a case and the next-meeting subquery use
indexes: no full scan of a table that grows with the patients (EXPLAIN QUERY PLAN on a real
SQLite file).

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
from crlmboard.store import repositories

pytestmark = pytest.mark.db

PATIENTS = 60
TODAY = cohort.TODAY
# Tables that do not grow with the patients (a scan of them is fine).
SMALL_TABLES = {"meeting", "meeting_attendee", "setting", "alembic_version", "sqlite_master"}


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    path = tmp_path_factory.mktemp("plans") / "board.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as opened:
        opened.cases.import_many(list(cohort.texts(PATIENTS, seed=3)))
        cohort.add_meetings(opened, seed=3)
        yield opened


class Captured:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []

    def __enter__(self) -> Captured:
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        # a case's records are read on SQLite's own connection, past SQLAlchemy's events:
        # SQLite's trace sees those statements (with their parameters written in)
        sa.event.listen(self.engine, "checkout", self._trace)
        return self

    def __exit__(self, *_exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)
        sa.event.remove(self.engine, "checkout", self._trace)
        for connection in self._traced:
            connection.set_trace_callback(None)

    _traced: list[Any]

    def _trace(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not hasattr(self, "_traced"):
            self._traced = []
        self._traced.append(dbapi_connection)
        dbapi_connection.set_trace_callback(self._traced_statement)

    _through_sqlalchemy = False

    def _traced_statement(self, statement: str) -> None:
        # a statement SQLAlchemy runs is seen by both: its event's copy is kept (with its
        # parameters apart, as the statement was planned)
        if self._through_sqlalchemy:
            self._through_sqlalchemy = False
            return
        if statement.lstrip().upper().startswith("SELECT"):
            self.statements.append((statement, ()))

    def _seen(
        self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        self._through_sqlalchemy = True
        if statement.lstrip().upper().startswith("SELECT"):
            self.statements.append((statement, parameters))

    def plans(self) -> list[tuple[str, list[str]]]:
        """Each statement with its plan lines."""
        out = []
        with self.engine.connect() as connection:
            for statement, parameters in self.statements:
                rows = connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                ).all()
                out.append((statement, [str(row[3]) for row in rows]))
                LEVELS[statement] = [int(row[1]) for row in rows]
        return out


# each planned statement's lines' parents (EXPLAIN QUERY PLAN's tree): a sort is of the
# rows its own level reads
LEVELS: dict[str, list[int]] = {}


def is_match_lookup(line: str) -> bool:
    """An FTS5 table read through its index: only the rows its MATCH finds (`M` in the
    index string; a full scan of it has none)."""
    words = line.split()
    return "VIRTUAL TABLE INDEX" in line and ":M" in words[-1]


def full_scans(
    plans: list[tuple[str, list[str]]], *, allowed: frozenset[str] = frozenset()
) -> list[str]:
    """Plan lines that read a whole patient-sized table (or all its rows through an index
    that does not bound the reading), with their statement."""
    bad = []
    for statement, lines in plans:
        scanning = False  # the statement walks a patient-sized table or index
        # subqueries run as co-routines or materialised (their own lines are checked)
        subqueries = {
            line.split()[1]
            for line in lines
            if line.split()[:1] in (["CO-ROUTINE"], ["MATERIALIZE"])
        }
        for line in lines:
            words = line.split()
            if words[:1] == ["SCAN"] and len(words) > 1:
                table = words[1]
                if (
                    table in SMALL_TABLES
                    or table in allowed
                    or table in subqueries
                    or is_match_lookup(line)
                ):
                    continue
                scanning = True
                # an index walked in the list's order stops after the page (LIMIT)
                bounded = "USING INDEX" in line and "LIMIT" in statement.upper()
                if not bounded:
                    bad.append(f"{line}  ←  {statement[:160]}")
        parents = LEVELS.get(statement, [0] * len(lines))
        scanned_at = {  # the levels that walk a patient-sized table
            parent
            for line, parent in zip(lines, parents, strict=True)
            if line.split()[:1] == ["SCAN"]
            and line.split()[1] not in SMALL_TABLES | subqueries
            and not is_match_lookup(line)
        }
        for line, parent in zip(lines, parents, strict=True):
            # sorting rows found by key (one case's records, a page's rows found by id)
            # is fine; sorting a whole table's rows to show the first page is not
            if scanning and parent in scanned_at and "TEMP B-TREE" in line and "ORDER BY" in line:
                bad.append(f"{line}  ←  {statement[:160]}")
    return bad


def test_opening_a_case_reads_only_that_case(board: Board) -> None:
    mrn = cohort.mrn_of(0)  # a heavy case: every table has rows
    with Captured(board.database.engine) as seen:
        case, _version = board.cases.get_with_version(mrn)
    assert case.imaging and case.reviews
    plans = seen.plans()
    assert len(plans) >= 14  # the case row and every table of its records
    assert full_scans(plans) == []


def test_the_next_meeting_subquery_uses_the_agenda_index(board: Board) -> None:
    with Captured(board.database.engine) as seen:
        rows = board.cases.page("", sort="mrn", limit=50)
    assert any(r.next_meeting is not None for r in rows)
    ((statement, lines),) = [p for p in seen.plans() if "agenda_item" in p[0]]
    subquery = [line for line in lines if "agenda_item" in line]
    assert subquery and all(line.startswith("SEARCH") for line in subquery), lines
    assert full_scans([(statement, lines)]) == []


def test_the_case_list_sorted_by_mrn_walks_an_index(board: Board) -> None:
    with Captured(board.database.engine) as seen:
        board.cases.page("", sort="mrn", limit=50)
    assert full_scans(seen.plans()) == []


def test_the_default_case_list_walks_an_index(board: Board) -> None:
    with Captured(board.database.engine) as seen:
        board.cases.page("", limit=50)
    assert full_scans(seen.plans()) == []


def test_counting_the_list_reads_one_small_index(board: Board) -> None:
    with Captured(board.database.engine) as seen:
        assert board.cases.count("") == PATIENTS
    ((_statement, lines),) = seen.plans()
    assert len(lines) == 1 and "COVERING INDEX" in lines[0], lines


def patient_lines(plans: list[tuple[str, list[str]]]) -> list[str]:
    return [line for _s, lines in plans for line in lines if line.split()[1:2] == ["patient"]]


def test_the_filter_reads_only_the_matches_of_its_trigram_index(board: Board) -> None:
    """Words of three characters or more: the FTS5 trigram index (migration 0005) gives the
    matching ids; the count reads nothing else, the page reads those patients by id and
    sorts them (fewer than FEW_MATCHES of them: see the next tests for more)."""
    with Captured(board.database.engine) as seen:
        assert board.cases.count("bench-00001") == 10
        assert len(board.cases.page("bench-00001", limit=50)) == 10
    plans = seen.plans()
    assert full_scans(plans) == []
    assert any(is_match_lookup(line) for _s, lines in plans for line in lines), plans
    # by id; `SEARCH patient` alone is max(id), the size the page weighs the matches by
    assert all(
        line.startswith("SEARCH patient USING INTEGER PRIMARY KEY") or line == "SEARCH patient"
        for line in patient_lines(plans)
    ), plans


def test_a_short_filter_word_reads_the_search_text_index(board: Board) -> None:
    """A word of one or two characters has no trigram: its count reads the search-text
    index (not the patient rows); its page walks the list's order index, testing the
    search text held there (0011), until it has its rows — no sort of the matches."""
    with Captured(board.database.engine) as seen:
        board.cases.count("ka")
        board.cases.page("ka", limit=50)
    plans = seen.plans()
    assert full_scans(plans, allowed=frozenset({"patient"})) == []
    scans = [line for line in patient_lines(plans) if line.startswith("SCAN")]
    assert scans == [
        "SCAN patient USING COVERING INDEX ix_patient_search_text",
        "SCAN patient USING INDEX ix_patient_list_name",
    ], plans
    page = [(s, lines) for s, lines in plans if "ORDER BY" in s]
    assert full_scans(page) == []


def test_a_filter_matching_many_walks_the_list_order(
    board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the words match FEW_MATCHES patients or more, they are dense: the page walks the
    list's order index with LIKE on each entry until it has its rows (no sort of the
    matches); the count reads an index of the search text."""
    monkeypatch.setattr(repositories, "FEW_MATCHES", 8)
    monkeypatch.setattr(repositories, "SORT_MATCHES", 8)
    with Captured(board.database.engine) as seen:
        assert board.cases.count("bench") == PATIENTS
        assert len(board.cases.page("bench", limit=50)) == 50
    plans = seen.plans()
    assert full_scans(plans, allowed=frozenset({"patient"})) == []
    page = [(s, lines) for s, lines in plans if "ORDER BY" in s]
    # the page's ids by walking the order, then those rows by id
    assert patient_lines(page) == [
        "SEARCH patient USING INTEGER PRIMARY KEY (rowid=?)",
        "SCAN patient USING INDEX ix_patient_list_name",
    ], page
    assert full_scans(page) == []
    # the count reads an index holding the search text (either: both do since 0011), never
    # the patients' rows
    (count,) = [
        lines
        for s, lines in plans
        if s.startswith("SELECT count(*)") and "sqlite_master" not in s and "MATCH" not in s
    ]
    assert count in (
        ["SCAN patient USING COVERING INDEX ix_patient_search_text"],
        ["SCAN patient USING COVERING INDEX ix_patient_list_name"],
    ), plans


def test_a_short_page_of_dense_matches_walks_the_list_order(board: Board) -> None:
    """Fewer than FEW_MATCHES matches, but so dense that walking the order finds a short page
    sooner than sorting them all."""
    with Captured(board.database.engine) as seen:
        assert len(board.cases.page("bench", limit=5)) == 5
    page = [(s, lines) for s, lines in seen.plans() if "ORDER BY" in s]
    assert patient_lines(page) == [
        "SEARCH patient USING INTEGER PRIMARY KEY (rowid=?)",
        "SCAN patient USING INDEX ix_patient_list_name",
    ], page
    assert full_scans(page) == []


def search_text_read_from(engine: sa.Engine, statement: str, parameters: Any) -> set[str]:
    """Where each substring test (`instr`) of a statement reads the text it tests: the
    table or index whose cursor the value comes from (EXPLAIN's bytecode: the `Column`
    loading the function's argument, and the `OpenRead` of its cursor).  EXPLAIN QUERY
    PLAN cannot tell: it names the index walked, not whether each entry passed needs its
    table row."""
    with engine.connect() as connection:
        roots = {
            int(root): str(name)
            for name, root in connection.exec_driver_sql(
                "SELECT name, rootpage FROM sqlite_master WHERE rootpage IS NOT NULL"
            )
        }
        program = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
    cursors = {row[2]: roots.get(row[3], "?") for row in program if row[1] == "OpenRead"}
    loaded = {row[4]: cursors.get(row[2], "?") for row in program if row[1] == "Column"}
    # instr(text, word): the text is the first of the function's argument registers
    return {
        loaded.get(row[3], "not a column")
        for row in program
        if row[1] in ("Function", "PureFunc") and str(row[5]).startswith("instr")
    }


@pytest.mark.parametrize("query", ["ka", "ka e", "bench"])
def test_walking_the_list_order_tests_each_entry_in_the_index(
    board: Board, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21, B2: a page that walks the list's order with a filter (short words; many
    matches) tests each entry's search text in the order index itself (migration 0011: the
    text is its last column), so a patient's row is read only for the page's rows.  Before,
    each patient passed was read from the table: matches bunched late in the order ("tan…",
    a family name) walked 80,000 rows of the 100,000-patient file, 120 ms."""
    monkeypatch.setattr(repositories, "FEW_MATCHES", 8)
    monkeypatch.setattr(repositories, "SORT_MATCHES", 8, raising=False)
    engine = board.database.engine
    with Captured(engine) as seen:
        assert board.cases.page(query, limit=5)
    walks = [(s, p) for s, p in seen.statements if "ORDER BY" in s and "instr" in s]
    assert walks, seen.statements
    for statement, parameters in walks:
        assert search_text_read_from(engine, statement, parameters) == {"ix_patient_list_name"}, (
            statement
        )


def test_cohort_meetings_are_on_the_agenda(board: Board) -> None:
    with board.database.engine.connect() as connection:
        upcoming = connection.exec_driver_sql(
            "SELECT count(*) FROM meeting WHERE date >= ?", (date.isoformat(TODAY),)
        ).scalar()
    assert upcoming == cohort.UPCOMING_MEETINGS


@pytest.mark.parametrize(
    ("query", "reads"),
    [
        ("bench", "the trigram index"),
        ("bench b", "the trigram index"),
        ("b", "SCAN patient USING COVERING INDEX ix_patient_search_text"),
    ],
)
def test_a_broad_filter_is_counted_no_further_than_the_cap(
    board: Board, query: str, reads: str
) -> None:
    """Issue 21, B2: a filter matching more cases than the cap is counted up to cap + 1
    (a LIMIT inside the count), from the trigram index's matches (each looked up by id for
    a short word) or the search-text index — never a sort, never every row."""
    with Captured(board.database.engine) as seen:
        assert board.cases.count(query, cap=10) == 11
    ((statement, lines),) = [
        p for p in seen.plans() if "count(" in p[0].lower() and "sqlite_master" not in p[0]
    ]
    assert "LIMIT" in statement.upper(), statement
    assert full_scans([(statement, lines)], allowed=frozenset({"patient"})) == []
    if reads == "the trigram index":
        assert any(is_match_lookup(line) for line in lines), lines
        assert all(
            line.startswith("SEARCH patient USING INTEGER PRIMARY KEY")
            for line in patient_lines([(statement, lines)])
        ), lines
    else:
        assert reads in lines, lines
    assert not any("TEMP B-TREE" in line for line in lines), lines
