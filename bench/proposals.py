"""Measure proposed store changes on a cohort without changing the product or the cache.

    python -m bench.proposals list [--patients N]    # case-list indexes and filter variants
    python -m bench.proposals open [--patients N]    # case-open: batched lesion query
    python -m bench.proposals write                  # case create: bulk inserts

`list` copies the tables the case list reads (patient, meeting, agenda_item, with their
indexes) out of the cached cohort into a temporary file, then times the case list's count
and first page for the 50 keystrokes of B2 (bench/probe.py) with the repository's own
statements, under each variant:

- current: the schema as migrated;
- +name index: `CREATE INDEX ix_patient_list_name ON patient (lower(family_name),
  lower(given_name), mrn)`;
- +keyed name index: the same order written `lower(x) IS NULL, lower(x)` (what `NULLS LAST`
  means) with an index on exactly those expressions, which serves the order whole;
- +fts: that, and an FTS5 trigram index of `patient.search_text` (filter words of three or
  more characters go through it; shorter ones keep LIKE).

The store changes themselves belong to a migration (the lead's); this only measures them.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from bench import cache, cohort
from bench.probe import KEYS

NAME_INDEX = ("CREATE INDEX ix_patient_list_name ON patient "
              "(lower(family_name), lower(given_name), mrn)")
FTS = [
    "CREATE VIRTUAL TABLE patient_search USING fts5(search_text, content='patient', "
    "content_rowid='id', tokenize='trigram')",
    "INSERT INTO patient_search(patient_search) VALUES ('rebuild')",
    # kept in step by triggers (what a migration would add):
    "CREATE TRIGGER patient_search_ai AFTER INSERT ON patient BEGIN INSERT INTO "
    "patient_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER patient_search_ad AFTER DELETE ON patient BEGIN INSERT INTO "
    "patient_search(patient_search, rowid, search_text) VALUES ('delete', old.id, "
    "old.search_text); END",
    "CREATE TRIGGER patient_search_au AFTER UPDATE OF search_text ON patient BEGIN INSERT INTO "
    "patient_search(patient_search, rowid, search_text) VALUES ('delete', old.id, "
    "old.search_text); INSERT INTO patient_search(rowid, search_text) VALUES (new.id, "
    "new.search_text); END",
]
LIST_TABLES = ("patient", "meeting", "agenda_item")


def list_copy(source: Path, target: Path) -> None:
    """The case list's tables (schema, indexes, rows) of `source` in a new file."""
    connection = sqlite3.connect(target)
    connection.execute("ATTACH DATABASE ? AS src", (f"file:{source}?mode=ro",))
    names = ", ".join(f"'{t}'" for t in LIST_TABLES)
    ddl = connection.execute(
        f"SELECT type, name, sql FROM src.sqlite_master WHERE tbl_name IN ({names}) "
        "AND sql IS NOT NULL ORDER BY type = 'index'").fetchall()
    for kind, _name, sql in ddl:
        if kind == "table":
            connection.execute(sql.replace("REFERENCES", "-- REFERENCES", 0))
    for table in LIST_TABLES:
        connection.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table}")
    for kind, _name, sql in ddl:
        if kind == "index":
            connection.execute(sql)
    connection.commit()
    connection.execute("DETACH DATABASE src")
    connection.close()


@contextmanager
def fts_filter() -> Iterator[None]:
    """The repository's filter with words of 3+ characters matched by the FTS index."""
    import sqlalchemy as sa

    from crlmboard.store import repositories

    original = repositories.CaseRepository._filtered
    case = repositories._CASE

    def filtered(statement: Any, query: str) -> Any:
        short = []
        for word in query.casefold().split():
            if len(word) >= 3:
                escaped = word.replace('"', '""')
                statement = statement.where(case.id.in_(sa.text(
                    "SELECT rowid FROM patient_search WHERE patient_search MATCH "
                    f"'\"{escaped}\"'")))
            else:
                short.append(word)
        return original(statement, " ".join(short))

    repositories.CaseRepository._filtered = staticmethod(filtered)  # type: ignore[method-assign]
    try:
        yield
    finally:
        repositories.CaseRepository._filtered = original  # type: ignore[method-assign]


NULLS_LAST = ("ORDER BY lower(patient.family_name) ASC NULLS LAST, "
              "lower(patient.given_name) ASC NULLS LAST")
NULL_KEYS = ("ORDER BY lower(patient.family_name) IS NULL, lower(patient.family_name), "
             "lower(patient.given_name) IS NULL, lower(patient.given_name)")
KEYED_INDEX = ("CREATE INDEX ix_patient_list_name ON patient (lower(family_name) IS NULL, "
               "lower(family_name), lower(given_name) IS NULL, lower(given_name), mrn)")


def time_list(path: Path, today: date, runs: int = 3, *,
              null_keys: bool = False) -> dict[str, Any]:
    """count + first page for each keystroke's text (median of `runs`).  `null_keys`: the
    name order written as `x IS NULL, x` (the same order as `x NULLS LAST`, which an index
    on those expressions serves whole)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from crlmboard.store.database import create_database_engine, read_only_url
    from crlmboard.store.repositories import CaseRepository

    engine = create_database_engine(read_only_url(path), read_only=True)
    if null_keys:
        @sa.event.listens_for(engine, "before_cursor_execute", retval=True)
        def _order(_conn: Any, _cursor: Any, statement: str, parameters: Any,
                   _context: Any, _many: bool) -> tuple[str, Any]:
            return statement.replace(NULLS_LAST, NULL_KEYS), parameters

    text, per_key, counts = "", [], []
    with Session(engine) as session:
        repository = CaseRepository(session)
        repository.page("", today=today)  # warm the page cache
        for key in KEYS:
            text = text[:-1] if key == "\b" else text + key
            query = text.strip()
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                count = repository.count(query)
                page = repository.page(query, today=today, limit=200)
                samples.append(time.perf_counter() - started)
            per_key.append(statistics.median(samples) * 1000)
            counts.append((count, [entry.mrn for entry in page]))
        default = []
        for _ in range(runs):
            started = time.perf_counter()
            repository.page("", today=today, offset=0, limit=200)
            default.append(time.perf_counter() - started)
        deep, middle = [], repository.count("") // 2
        for _ in range(runs):
            started = time.perf_counter()
            repository.page("", today=today, offset=middle, limit=200)
            deep.append(time.perf_counter() - started)
    engine.dispose()
    return {"keystroke_median_ms": round(statistics.median(per_key), 2),
            "keystroke_max_ms": round(max(per_key), 2),
            "first_page_ms": round(statistics.median(default) * 1000, 2),
            "page_half_way_ms": round(statistics.median(deep) * 1000, 2),
            "keystrokes_ms": [round(k, 1) for k in per_key], "answers": counts}


def list_variants(patients: int, seed: int) -> dict[str, Any]:
    source, _ = cache.cohort_db(patients, seed)
    folder = Path(tempfile.mkdtemp(prefix="proposals-"))
    try:
        path = folder / "list.sqlite3"
        list_copy(source, path)
        results = {"current": time_list(path, cohort.TODAY)}
        connection = sqlite3.connect(path)
        connection.execute(NAME_INDEX)
        connection.commit()
        results["+name index"] = time_list(path, cohort.TODAY)
        connection.execute("DROP INDEX ix_patient_list_name")
        connection.execute(KEYED_INDEX)
        connection.commit()
        results["+keyed name index"] = time_list(path, cohort.TODAY, null_keys=True)
        for statement in FTS:
            connection.execute(statement)
        connection.commit()
        connection.close()
        with fts_filter():
            results["+keyed index +fts"] = time_list(path, cohort.TODAY, null_keys=True)
        results["bytes"] = {"file": path.stat().st_size}
        answers = [r.pop("answers") for r in results.values() if "answers" in r]
        results["same answers"] = {"all variants": all(a == answers[0] for a in answers)}
        return results
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- writing a new case: one INSERT … RETURNING per table, no ORM objects ------------------


@contextmanager
def bulk_inserts() -> Iterator[None]:
    """`CaseRepository._sync` inserting a new case's rows with one executemany per table
    (Core `INSERT … RETURNING`, ids in order) instead of one ORM object and flush each; the
    audit rows are the same (made from the same values)."""
    from types import SimpleNamespace

    import sqlalchemy as sa

    from crlmboard.store import repositories
    from crlmboard.store.audit import primary_key_attribute

    original = repositories.CaseRepository._sync

    def sync(self: Any, model: type[Any], stored: Any, wanted: Any, case_id: int) -> list[Any]:
        if stored or not wanted:
            return original(self, model, stored, wanted, case_id)
        mapper = sa.inspect(model)
        column_of = {attr.key: attr.columns[0].key for attr in mapper.column_attrs}
        key = primary_key_attribute(model)
        table = model.__table__
        defaults = {name: None if field.is_required() else field.get_default(
            call_default_factory=True) for name, field in model.model_fields.items()
            if name != key}
        full = [{**defaults, **values} for values in wanted]  # what the ORM would insert
        ids = self.session.execute(
            sa.insert(table).returning(table.c[column_of[key]], sort_by_parameter_order=True),
            [{column_of[k]: v for k, v in values.items()} for values in full]
        ).scalars().all()
        rows = [SimpleNamespace(**values, **{key: id_}) for values, id_ in zip(
            full, ids, strict=True)]
        for row in rows:
            self.audit.inserted(model, row, case_id)
        return rows

    repositories.CaseRepository._sync = sync  # type: ignore[method-assign]
    try:
        yield
    finally:
        repositories.CaseRepository._sync = original  # type: ignore[method-assign]


def write_variants(patients: int, seed: int) -> dict[str, Any]:
    """Import the same cases (one transaction per 50) with the repository as it is and with
    `bulk_inserts`; checks both databases hold the same cases and audit values."""
    from crlmboard.services import Board

    texts = list(cohort.texts(patients, seed))
    folder = Path(tempfile.mkdtemp(prefix="proposals-"))
    results: dict[str, Any] = {}
    try:
        for name, variant in (("current", None), ("bulk inserts", bulk_inserts)):
            board = Board.open(folder / f"{len(results)}.sqlite3", clock=lambda: cohort.TODAY,
                               user="bench")
            try:
                started = time.perf_counter()
                with variant() if variant else _nothing():
                    for start in range(0, len(texts), 50):
                        board.cases.import_many(texts[start:start + 50])
                seconds = time.perf_counter() - started
                sample = [board.cases.get(cohort.mrn_of(i)) for i in (0, patients - 1)]
                with board.engine.connect() as connection:
                    audit = connection.exec_driver_sql(
                        "SELECT action, table_name, record_id, after_json FROM audit_event "
                        "ORDER BY seq").all()
            finally:
                board.close()
            results[name] = {"ms_per_case": round(seconds / patients * 1000, 2),
                             "sample": sample, "audit": audit}
        same = (results["current"]["sample"] == results["bulk inserts"]["sample"]
                and results["current"]["audit"] == results["bulk inserts"]["audit"])
        return {name: {"ms_per_case": r["ms_per_case"]} for name, r in results.items()} | {
            "same cases and audit rows": same}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


# -- opening a case: the lesions of every timepoint in one query -------------------------


@contextmanager
def batched_lesions() -> Iterator[None]:
    """`CaseRepository._case` reading a case's lesion measurements with one query (ordered
    by timepoint and position) instead of one query per imaging timepoint: the statement
    for one timepoint is answered from that one result."""
    import sqlalchemy as sa
    from sqlmodel import col

    from crlmboard.store import repositories
    from crlmboard.store import tables as t

    original_case = repositories.CaseRepository._case
    lesion = t.LesionMeasurementRow

    class _Answered:
        def __init__(self, rows: list[Any]):
            self.rows = rows

        def scalars(self) -> _Answered:
            return self

        def all(self) -> list[Any]:
            return self.rows

    def case(self: Any, row: Any) -> Any:
        timepoints = [tp.id for tp in self._children(t.ImagingTimepointRow, row.id)]
        found: dict[int, list[Any]] = {tp: [] for tp in timepoints}
        if timepoints:
            for item in self.session.execute(
                    sa.select(lesion).where(col(lesion.timepoint_id).in_(timepoints))
                    .order_by(col(lesion.position))).scalars():
                found[item.timepoint_id].append(item)
        session = self.session
        real = session.execute
        pending = iter(timepoints)

        def execute(statement: Any, *args: Any, **kwargs: Any) -> Any:
            # the per-timepoint lesion statements come in timepoint order
            if getattr(statement, "column_descriptions", None) and \
                    statement.column_descriptions[0].get("entity") is lesion:
                return _Answered(found[next(pending)])
            return real(statement, *args, **kwargs)

        session.execute = execute
        try:
            return original_case(self, row)
        finally:
            del session.execute

    repositories.CaseRepository._case = case  # type: ignore[method-assign]
    try:
        yield
    finally:
        repositories.CaseRepository._case = original_case  # type: ignore[method-assign]


def open_variants(patients: int, seed: int) -> dict[str, Any]:
    """`board.cases.get` of heavy cases, as it is and with `batched_lesions`."""
    from crlmboard.services import Board

    db, _ = cache.cohort_db(patients, seed)
    mrns = [cohort.mrn_of(i) for i in cohort.heavy_indexes(patients)[:5]]
    board = Board.open(db, clock=lambda: cohort.TODAY, exclusive=False)
    results: dict[str, Any] = {}
    try:
        reference = [board.cases.get(mrn) for mrn in mrns]
        for name, variant in (("current", _nothing), ("batched lesions", batched_lesions),
                              ("current again", _nothing)):
            with variant():
                assert [board.cases.get(mrn) for mrn in mrns] == reference
                samples = []
                for k in range(100):
                    started = time.perf_counter()
                    board.cases.get(mrns[k % len(mrns)])
                    samples.append(time.perf_counter() - started)
            results[name] = {"get_ms": round(statistics.median(samples) * 1000, 2)}
    finally:
        board.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.proposals")
    parser.add_argument("what", choices=["list", "write", "open"])
    parser.add_argument("--patients", type=int, default=None,
                        help="cohort size (list: 100,000; write: 300)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    runner: Callable[[int, int], dict[str, Any]] = {
        "list": list_variants, "write": write_variants, "open": open_variants}[args.what]
    patients = args.patients or {"list": 100_000, "write": 300, "open": 10_000}[args.what]
    results = runner(patients, args.seed)
    if args.what != "list":
        print(results)
        return 0
    print(f"same counts and first pages in every variant: "
          f"{results['same answers']['all variants']}")
    for name, figures in results.items():
        if isinstance(figures, dict) and "keystroke_median_ms" in figures:
            print(f"{name:22} keystroke median {figures['keystroke_median_ms']:7.1f} ms  "
                  f"max {figures['keystroke_max_ms']:7.1f} ms  first page "
                  f"{figures['first_page_ms']:7.1f} ms  page half-way "
                  f"{figures['page_half_way_ms']:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
