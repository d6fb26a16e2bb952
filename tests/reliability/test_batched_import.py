"""A folder import writes its files in batches (issue 21, B5): one INSERT per table for a
whole batch of files, not one per file, while each file stays all or nothing — a bad
file in the middle of a batch is refused with its reason and the others are stored; a
file the database refuses while the batch is written is refused alone (the batch is
retried file by file).  The audit trail is the one a file-by-file import leaves, row for
row, and `check` passes.  On SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import contextlib
import copy
import gc
import json
import re
import weakref
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from crlmboard.services import Board
from crlmboard.services.importing import FILES_PER_WRITE
from crlmboard.store import audit
from crlmboard.store.repositories import CaseRepository
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SIGNED = (
    Path(__file__).parents[1] / "services" / "fixtures" / "signed-review-engine-1.0.0.case.json"
)
SOURCES = [
    *(GOLDEN / f"{name}.json" for name in ("upfront-resection", "flr-after-chemotherapy")),
    GOLDEN / "conversion-ras-mutant.json",
    SIGNED,  # a signed review: its content hash and frozen evaluation
]
# every table a case file writes, and the trail (the stored engine comparison, audited too,
# is written case by case, each in a savepoint of its own: `comparisons.keep`)
WRITTEN = (*(n for n in audit.AUDITED_TABLES if n != "engine_comparison"), "audit_event")
# the times a write is made at (not audited: the wall clock), and their copies in the
# stored engine comparison
WALL_CLOCK = ("created_at", "updated_at", "case_created_at", "case_updated_at")


def open_board(where: str) -> Board:
    return Board.open(where, clock=lambda: TODAY, now=lambda: NOW)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Board]:
    where = (
        str(tmp_path / "board.sqlite3")
        if request.param == "sqlite"
        else request.getfixturevalue("own_postgres")
    )
    with open_board(where) as board:
        yield board


def case_document(n: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SOURCES[n % len(SOURCES)].read_text("utf-8"))
    data = copy.deepcopy(data)
    data["patient"]["mrn"] = f"BATCH-{n:03d}"
    return data


def folder_of_cases(folder: Path, count: int) -> Path:
    folder.mkdir()
    for n in range(count):
        (folder / f"case-{n:03d}.json").write_text(json.dumps(case_document(n)), "utf-8")
    return folder


@contextlib.contextmanager
def inserts(board: Board) -> Iterator[Counter[str]]:
    """The INSERT statements sent to the database, by table (each `executemany` once)."""
    counted: Counter[str] = Counter()
    pattern = re.compile(r'^\s*INSERT INTO "?(\w+)"?', re.IGNORECASE)

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        found = pattern.match(statement)
        if found:
            counted[found.group(1)] += 1

    engine = board.database.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def stored_mrns(board: Board) -> list[str]:
    return [entry.mrn for entry in board.cases.page(sort="mrn", limit=1000)]


def assert_checked(board: Board) -> None:
    report = board.maintenance.check()
    assert report.ok, report.problems
    with board.database.engine.connect() as connection:
        assert audit.verify_chain(connection).ok


def test_a_folder_is_written_with_one_insert_per_table_per_batch(
    store: Board, tmp_path: Path
) -> None:
    count = 24
    assert count <= FILES_PER_WRITE
    folder = folder_of_cases(tmp_path / "in", count)
    with inserts(store) as counted:
        summary = store.cases.import_path(folder)
    assert summary.ok and len(summary.imported) == count
    assert stored_mrns(store) == [f"BATCH-{n:03d}" for n in range(count)]
    assert counted["patient"] == 1 and counted["audit_event"] == 1
    assert {table: n for table, n in counted.items() if table in WRITTEN and n > 1} == {}
    for n in (0, 1, 3):  # read back whole, as written
        mrn = f"BATCH-{n:03d}"
        expected = case_document(n)
        assert store.cases.get(mrn).model_dump(mode="json") == store.cases.validate(
            store.cases.get(mrn)
        ).model_dump(mode="json")
        assert store.cases.get(mrn).patient.mrn == expected["patient"]["mrn"]
    assert_checked(store)


def test_more_files_than_a_batch_take_one_insert_per_table_per_batch(
    board: Board, tmp_path: Path
) -> None:
    count = FILES_PER_WRITE + 5
    folder = folder_of_cases(tmp_path / "in", count)
    with inserts(board) as counted:
        summary = board.cases.import_path(folder)
    assert summary.ok and len(summary.imported) == count
    assert counted["patient"] == 2 and counted["audit_event"] == 2
    assert max(n for table, n in counted.items() if table in WRITTEN) == 2
    assert_checked(board)


def audit_rows(board: Board) -> list[dict[str, Any]]:
    with board.database.engine.connect() as connection:
        return [
            {k: audit.t.unpack(v) for k, v in row._mapping.items()}
            for row in audit.raw_entries(connection)
        ]


def table_rows(board: Board) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored value but the times a write is made at (not audited: the wall clock)."""
    tables = audit.t.metadata.tables
    with board.database.engine.connect() as connection:
        return {
            name: [
                tuple(row)
                for row in connection.execute(
                    sa.select(
                        *(c for c in tables[name].columns if c.name not in WALL_CLOCK)
                    ).order_by(*tables[name].primary_key.columns)
                )
            ]
            for name in audit.AUDITED_TABLES
        }


def test_a_batched_import_leaves_the_trail_a_file_by_file_import_leaves(
    tmp_path: Path,
) -> None:
    """The same files, once as a folder (batched) and once one file at a time: the same
    records with the same ids, and the same audit rows to the last hash."""
    folder = folder_of_cases(tmp_path / "in", 9)
    with open_board(str(tmp_path / "batched.sqlite3")) as batched:
        assert batched.cases.import_path(folder).ok
        batched_trail, batched_tables = audit_rows(batched), table_rows(batched)
        assert_checked(batched)
    with open_board(str(tmp_path / "one-by-one.sqlite3")) as single:
        for file in sorted(folder.iterdir()):
            assert single.cases.import_path(file).ok
        single_trail, single_tables = audit_rows(single), table_rows(single)
    assert len(batched_trail) == 9  # one `changes` row per case
    assert batched_trail == single_trail
    assert batched_tables == single_tables


def test_bad_files_in_the_middle_of_a_batch_are_refused_alone(store: Board, tmp_path: Path) -> None:
    folder = folder_of_cases(tmp_path / "in", 10)
    (folder / "case-003.json").write_text("{ not json", "utf-8")
    invalid = case_document(6)
    invalid["patient"]["ecog"] = 9
    (folder / "case-006.json").write_text(json.dumps(invalid), "utf-8")
    (folder / "case-008.json").write_text(json.dumps(case_document(1)), "utf-8")  # MRN again
    with inserts(store) as counted:
        summary = store.cases.import_path(folder)
    refused = {Path(file).name: problems for file, problems in summary.refused}
    assert list(refused) == ["case-003.json", "case-006.json", "case-008.json"]
    assert "ecog" in " ".join(p.path for p in refused["case-006.json"])
    assert "already exists" in refused["case-008.json"][0].message
    good = [n for n in range(10) if n not in (3, 6, 8)]
    assert [mrn for _, mrn in summary.imported] == [f"BATCH-{n:03d}" for n in good]
    assert stored_mrns(store) == [f"BATCH-{n:03d}" for n in good]
    assert counted["patient"] == 1 and counted["audit_event"] == 1
    assert_checked(store)


def refuse_labs_of(board: Board, mrn: str) -> None:
    """A trigger that makes the database refuse the lab results of one case (a failure
    the validation cannot foresee, in the middle of that case's rows)."""
    with board.database.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_labs BEFORE INSERT ON lab_result WHEN NEW.case_id = "
                f"(SELECT id FROM patient WHERE mrn = '{mrn}') "
                "BEGIN SELECT RAISE(ABORT, 'lab results refused for the test'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse_labs() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.case_id = (SELECT id FROM patient WHERE mrn = '{mrn}') THEN "
                "RAISE EXCEPTION 'lab results refused for the test' USING ERRCODE = '23514'; "
                "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_labs BEFORE INSERT ON lab_result "
                "FOR EACH ROW EXECUTE FUNCTION refuse_labs()"
            )


def drop_refusal(board: Board) -> None:
    with board.database.engine.begin() as connection:
        connection.exec_driver_sql(
            "DROP TRIGGER refuse_labs"
            + ("" if connection.dialect.name == "sqlite" else " ON lab_result")
        )
        if connection.dialect.name != "sqlite":
            connection.exec_driver_sql("DROP FUNCTION refuse_labs()")


def test_a_write_failure_in_one_file_of_a_batch_refuses_that_file_only(
    store: Board, tmp_path: Path
) -> None:
    folder = folder_of_cases(tmp_path / "in", 12)
    refuse_labs_of(store, "BATCH-005")
    summary = store.cases.import_path(folder)
    assert [Path(file).name for file, _ in summary.refused] == ["case-005.json"]
    (problem,) = summary.refused[0][1]
    assert "the database refused the case" in problem.message
    assert "lab results refused for the test" in problem.message
    good = [f"BATCH-{n:03d}" for n in range(12) if n != 5]
    assert [mrn for _, mrn in summary.imported] == good
    assert stored_mrns(store) == good  # nothing of BATCH-005, not even its patient row
    drop_refusal(store)
    assert_checked(store)
    # the refused file goes in once the database takes it, with the trail whole
    assert store.cases.import_path(folder / "case-005.json").ok
    assert "BATCH-005" in stored_mrns(store)
    assert_checked(store)


def raw_rows(connection: sa.Connection, table: sa.Table, order: list[str]) -> list[tuple[Any, ...]]:
    """A table's rows as the driver gives them, no type processing (on SQLite with each
    value's storage class: text, integer, real or blob)."""
    columns = [c.name for c in table.columns]
    if connection.dialect.name == "sqlite":
        shown = ", ".join(f'typeof("{c}"), "{c}"' for c in columns)
    else:
        shown = ", ".join(f'"{c}"' for c in columns)
    by = ", ".join(f'"{c}"' for c in order)
    query = f'SELECT {shown} FROM "{table.name}" ORDER BY {by}'
    return [tuple(row) for row in connection.exec_driver_sql(query)]


def test_the_rows_stored_are_the_rows_sqlalchemys_insert_stores(
    store: Board, tmp_path: Path
) -> None:
    """The batch's rows go to the driver without SQLAlchemy's per-row statement work: each
    table's stored rows, read back through their column types and inserted again by
    SQLAlchemy's own `insert` (into a copy of the table with the same column types), are
    stored the same, value for value and (on SQLite) storage class for storage class."""
    folder = folder_of_cases(tmp_path / "in", 12)
    assert store.cases.import_path(folder).ok
    tables = audit.t.metadata.tables
    copies = sa.MetaData()
    written = set()
    with store.database.engine.begin() as connection:
        for name in WRITTEN:
            table = tables[name]
            order = [c.name for c in table.primary_key.columns]
            copy_of = sa.Table(
                f"copy_of_{name}", copies, *(sa.Column(c.name, c.type) for c in table.columns)
            )
            copy_of.create(connection)
            typed = [dict(row._mapping) for row in connection.execute(sa.select(table))]
            if typed:
                written.add(name)
                connection.execute(sa.insert(copy_of), typed)
            assert raw_rows(connection, copy_of, order) == raw_rows(connection, table, order)
            copy_of.drop(connection)
    assert {
        "patient",
        "primary_tumour",
        "lab_result",
        "chemotherapy_cycle",
        "imaging_timepoint",
        "lesion_measurement",
        "review",
        "audit_event",
    } <= written


def test_a_cases_audit_row_lists_each_stored_record_as_the_audit_log_records_an_insert(
    board: Board, tmp_path: Path
) -> None:
    """The import makes each case's `changes` row itself (no pending entry per record):
    its entries are the inserts `AuditLog.inserted` records for the rows as stored, read
    back through SQLAlchemy, one for each row of the case, and its `fields` the tables."""
    folder = folder_of_cases(tmp_path / "in", 4)
    assert board.cases.import_path(folder).ok
    with board.database.read() as session:
        for n in range(4):
            case_id = CaseRepository(session).id_of(f"BATCH-{n:03d}")
            log = audit.AuditLog(session, audit.Actor.current())
            for model in audit.AUDITED_TABLES.values():
                for row in session.scalars(sa.select(model)):
                    if audit._case_of(session, model, row) == case_id:
                        log.inserted(model, row, case_id)
            expected = {(e.table, e.record_id): e.after for e in log._pending}
            (stored,) = [
                row for row in audit.raw_entries(session.connection()) if row.case_id == case_id
            ]
            changes = json.loads(audit.t.unpack(stored.after_json))
            assert stored.action == audit.CHANGES
            assert {(c["table"], c["record"]): c["after"] for c in changes} == expected
            assert len(changes) == len(expected) > 5
            assert json.loads(stored.fields) == sorted({table for table, _ in expected})
            assert all(set(c) == {"action", "table", "record", "after"} for c in changes)


def test_the_garbage_collector_runs_between_batches_only_and_is_given_back(
    board: Board, tmp_path: Path
) -> None:
    """While a folder is imported the collector does not run on its own (each run walked
    the batch in hand again); it collects once after each batch written, and afterwards
    it is as it was: on, same thresholds, nothing left frozen.  Cyclic garbage made
    during a batch is gone after it."""
    folder = folder_of_cases(tmp_path / "in", 2 * FILES_PER_WRITE + 3)
    runs: list[int] = []
    made: list[weakref.ref[Any]] = []

    def collected(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    def progress(done: int, total: int) -> bool:
        if done == 5:  # a cycle made in the first batch: collected after that batch
            cycle: dict[str, Any] = {}
            cycle["self"] = cycle
            made.append(weakref.ref(_Cyclic(cycle)))
        if done == FILES_PER_WRITE + 5:
            assert made[0]() is None
        return True

    threshold = gc.get_threshold()
    gc.collect()
    gc.callbacks.append(collected)
    try:
        summary = board.cases.import_path(folder, progress=progress)
    finally:
        gc.callbacks.remove(collected)
    assert summary.ok and len(summary.imported) == 2 * FILES_PER_WRITE + 3
    assert runs == [1, 1]  # after the first two batches (the last one is followed by none)
    assert gc.isenabled() and gc.get_threshold() == threshold and gc.get_freeze_count() == 0


class _Cyclic:
    def __init__(self, holds: dict[str, Any]) -> None:
        self.holds = holds
        holds["owner"] = self
