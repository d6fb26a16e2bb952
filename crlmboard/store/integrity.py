"""Integrity checks: SQLite's own checks, and the app's hashes that see what SQLite cannot.

`quick_check` runs at open; `crlmboard check` adds `integrity_check`, `foreign_key_check`,
the audit-chain verification, the content hashes of signed reviews, a comparison of every
clinical row — and of the derived rows people read: the case list's summary, the stored
older engines' comparison — with the state its audit trail describes (which catches a
value changed outside the app) and the presence of the append-only triggers.  Problems
name tables, row ids and fields, never patient names or MRNs.
"""

from __future__ import annotations

import contextlib
import json
import operator
import sqlite3
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crlmboard.store import audit
from crlmboard.store import tables as t
from crlmboard.store.database import (
    SQLITE_DATABASE_ERRORS,
    SQLITE_ERRORS,
    StoreError,
    connect_sqlite,
)
from crlmboard.store.sqlite_version import parse_version as parse_version
from crlmboard.store.sqlite_version import sqlite_version_warning as sqlite_version_warning
from crlmboard.store.sqlite_version import wal_reset_affected as wal_reset_affected

CORRUPT_ERRORS = ("file is not a database", "malformed", "disk image", "corrupt")


class DatabaseCorrupt(Exception):
    """SQLite found the file damaged (its message says how)."""


# -- SQLite's checks -----------------------------------------------------------------------


def _is_corruption(error: Exception) -> bool:
    text = str(error).lower()
    return any(word in text for word in CORRUPT_ERRORS)


def quick_check(path: Path) -> list[str]:
    """`PRAGMA quick_check` on a file (read-only); [] when it is sound.

    Raises DatabaseCorrupt when SQLite cannot even read it as a database."""
    try:
        connection = connect_sqlite(path, read_only=True)
    except SQLITE_DATABASE_ERRORS as error:
        if _is_corruption(error):
            raise DatabaseCorrupt(str(error)) from None
        raise
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
    except SQLITE_DATABASE_ERRORS as error:
        if _is_corruption(error):
            raise DatabaseCorrupt(str(error)) from None
        raise
    finally:
        connection.close()
    found = [str(r[0]) for r in rows]
    return [] if found == ["ok"] else found


class FileUnreadable(StoreError):
    """SQLite could not read the file for a reason other than damage (its message says)."""


def check_file(path: Path) -> list[str]:
    """`quick_check` for the layers above: [] when sound, the problems otherwise; raises
    DatabaseCorrupt when SQLite cannot read it as a database, FileUnreadable when it cannot
    read it at all (permissions, a lock, an I/O error)."""
    try:
        return quick_check(path)
    except SQLITE_ERRORS as error:
        raise FileUnreadable(str(error)) from None


def integrity_check(connection: sqlite3.Connection) -> list[str]:
    try:
        found = [str(r[0]) for r in connection.execute("PRAGMA integrity_check").fetchall()]
    except SQLITE_DATABASE_ERRORS as error:
        return [str(error)]
    return [] if found == ["ok"] else found


def foreign_key_check(connection: sqlite3.Connection) -> list[str]:
    """Rows whose parent is missing, as sentences ('lab_result row 7: no patient ...')."""
    problems = []
    for table, rowid, parent, _index in connection.execute("PRAGMA foreign_key_check"):
        problems.append(f"{table} row {rowid} refers to a {parent} row that does not exist")
    return problems


# -- the app's own checks ------------------------------------------------------------------


# Reading stored rows without trusting them: each value is converted on its own, so a
# malformed date or a damaged compressed value is one problem naming its table, row and
# field, never an exception that ends the check.


@dataclass(frozen=True)
class _Column:
    name: str  # the attribute (field) name
    column: sa.Column[Any]
    convert: Callable[[Any], Any] | None


def _columns(model: type[Any], names: Sequence[str], dialect: sa.Dialect) -> list[_Column]:
    mapper = sa.inspect(model)
    found = []
    for name in names:
        column = mapper.get_property(name).columns[0]
        convert = None
        if dialect.name == "sqlite":  # elsewhere the server's types hold and are read as such
            convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
        found.append(_Column(name, column, convert))
    return found


def _raw(column: _Column) -> Any:
    """A column selected as stored, without the type's conversion (done by `read_values`)."""
    if column.convert is None:
        return column.column.label(f"c_{column.column.name}")
    return sa.type_coerce(column.column, sa.types.NullType()).label(f"c_{column.column.name}")


def _dialect(connection: sa.Connection | Session) -> sa.Dialect:
    return connection.get_bind().dialect if isinstance(connection, Session) else connection.dialect


def read_values(raw: Sequence[Any], columns: Sequence[_Column]) -> tuple[dict[str, Any], list[str]]:
    """A stored row's values as JSON data (as the audit trail records them), and the names
    of the fields whose stored value cannot be read."""
    values: dict[str, Any] = {}
    unreadable: list[str] = []
    for value, column in zip(raw, columns, strict=True):
        try:
            converted = value if column.convert is None or value is None else column.convert(value)
            # JSON data (text, numbers, parsed JSON) is kept as it is: walking a frozen
            # evaluation to convert nothing would be most of the check's time
            values[column.name] = (
                converted if isinstance(converted, _PLAIN) else audit.jsonable(converted)
            )
        except Exception:  # whatever the damage: this field is reported, the check goes on
            unreadable.append(column.name)
    return values, unreadable


_PLAIN = (str, int, float, dict, list, type(None))  # bool is an int


class Findings:
    """Problems found by the record checks, listed up to a limit and counted beyond it."""

    def __init__(self, limit: int = 200):
        self.limit = limit
        self.listed: list[str] = []
        self.count = 0
        self.warnings: list[str] = []

    def add(self, problem: str) -> None:
        self.count += 1
        if len(self.listed) < self.limit:
            self.listed.append(problem)

    def result(self) -> list[str]:
        more = self.count - len(self.listed)
        return self.listed + ([f"({more} more differences not listed)"] if more else [])


def signed_review_problems(connection: sa.Connection | Session) -> list[str]:
    """Signed reviews whose stored content no longer matches the hash taken at signing."""
    findings = Findings()
    _signed_reviews(connection, findings, None)
    return findings.result()


def _signed_review(
    review: str, values: dict[str, Any], unreadable: list[str], findings: Findings
) -> None:
    """A signed review's content against the hash taken at signing."""
    case = values.get("case_id", "?")
    if unreadable:
        findings.add(
            f"signed review {review} (case {case}): the stored value of "
            f"{', '.join(unreadable)} cannot be read (damaged)"
        )
    elif values.get("content_sha256") is None:
        findings.add(f"signed review {review} (case {case}) has no content hash")
    elif (
        audit.review_content_hash(
            {n: values.get(n) for n in audit.audited_fields(t.ReviewRow)}, json_ready=True
        )
        != values["content_sha256"]
    ):
        findings.add(
            f"signed review {review} (case {case}) was changed after "
            "it was signed: its content no longer matches its hash"
        )


def _signed_reviews(
    connection: sa.Connection | Session, findings: Findings, cases: tuple[int, int] | None
) -> None:
    model = t.ReviewRow
    names = audit.audited_fields(model)
    columns = _columns(model, ["id", *names], _dialect(connection))
    table = model.__table__  # type: ignore[attr-defined]
    query = sa.select(*(_raw(c) for c in columns)).where(table.c.signed_at.is_not(None))
    if cases is not None:
        query = query.where(table.c.case_id > cases[0], table.c.case_id <= cases[1])
    for raw in connection.execute(query.order_by(table.c.id)):
        values, unreadable = read_values(raw, columns)
        review, case = raw[0], values.get("case_id", "?")
        if unreadable:
            findings.add(
                f"signed review {review} (case {case}): the stored value of "
                f"{', '.join(unreadable)} cannot be read (damaged)"
            )
        elif values.get("content_sha256") is None:
            findings.add(f"signed review {review} (case {case}) has no content hash")
        elif (
            audit.review_content_hash({n: values[n] for n in names}, json_ready=True)
            != values["content_sha256"]
        ):
            findings.add(
                f"signed review {review} (case {case}) was changed after "
                "it was signed: its content no longer matches its hash"
            )


# -- clinical rows against their audit trail, one group of cases at a time -----------------

# Tables whose rows belong to no case: replayed from the audit rows without a case.
CASELESS = ("meeting", "meeting_attendee")
_SUMMARY = frozenset(audit.SUMMARY_FIELDS)  # the case list's summary, on the patient row


@dataclass
class ReplayStats:
    """How the records check went: groups of cases visited, and the most records held in
    memory at once (bounded by `cases_at_once` cases, not by the database)."""

    groups: int = 0
    cases: int = 0
    most_records_held: int = 0
    summary_not_recorded: int = 0
    rows_compared_as_stored: int = 0  # found equal by `_StoredForm`, without conversion


def replay_problems(connection: sa.Connection | Session, limit: int = 200) -> list[str]:
    """Clinical rows that differ from what their audit trail says (changed outside the app),
    rows with no audit history, audited rows that are gone, and case-list summaries that
    do not match (see `check_records`)."""
    findings = Findings(limit)
    check_records(connection, findings)
    return findings.result()


def check_records(
    connection: sa.Connection | Session,
    findings: Findings,
    *,
    cases_at_once: int = 200,
    unreadable_audit: set[int] | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> ReplayStats:
    """Compare every clinical row with the state its audit trail describes, `cases_at_once`
    case ids at a time (memory does not grow with the database), plus the rows of no case
    (meetings).  The case list's summary is compared with the trail like the rest; for a
    case saved before the summary was audited, its resectability with its surgical plan's
    (the counts depend on the day and profile of that save: not recomputed)."""
    stats = ReplayStats()
    dialect = _dialect(connection)
    unreadable_audit = unreadable_audit or set()
    plans = {
        model: _columns(
            model, [audit.primary_key_attribute(model), *audit.audited_fields(model)], dialect
        )
        for model in audit.AUDITED_TABLES.values()
    }
    reader = _RawReader.of(connection, plans)
    top = (
        connection.execute(
            sa.select(
                sa.func.max(t.CaseRow.id),
            )
        ).scalar()
        or 0
    )
    top_audit = connection.execute(sa.select(sa.func.max(audit.AUDIT.c.case_id))).scalar() or 0
    last = max(int(top), int(top_audit))
    low = 0
    while low < last:
        high = min(low + cases_at_once, last)
        _check_group(connection, findings, plans, stats, (low, high), unreadable_audit, reader)
        low = high
        if progress is not None:
            progress(low, last)
    _check_group(connection, findings, plans, stats, None, unreadable_audit, reader)
    if stats.summary_not_recorded:
        findings.warnings.append(
            f"{stats.summary_not_recorded} case(s) were last saved before the case list's "
            "summary was audited: their warning and critical counts are checked from their "
            "next save on (their resectability is checked now)"
        )
    return stats


def _check_group(
    connection: sa.Connection | Session,
    findings: Findings,
    plans: dict[type[Any], list[_Column]],
    stats: ReplayStats,
    cases: tuple[int, int] | None,
    unreadable_audit: set[int],
    reader: _RawReader | None = None,
) -> None:
    """One group: the cases with ids in (low, high], or (None) the records of no case."""
    stats.groups += 1
    where: sa.ColumnElement[bool]
    if cases is None:
        where = audit.AUDIT.c.case_id.is_(None)
    else:
        where = sa.and_(audit.AUDIT.c.case_id > cases[0], audit.AUDIT.c.case_id <= cases[1])
    state: dict[tuple[str, str], dict[str, Any]] = {}
    damaged_cases: set[int | None] = set()
    # cases inserted before the summary was audited: a later save records only the summary
    # fields it changed, so the others are unknown to the trail (not null)
    before_summary: set[str] = set()
    if cases is None:
        rows: Iterable[Any] = audit.raw_entries(connection, where=where)
    else:  # one group of cases, through the index on the case: bounded by the group
        stored = [sa.type_coerce(c, sa.types.NullType()).label(c.name) for c in audit.AUDIT.columns]
        # in the order of the trail, not case by case: a row id freed by a delete in one
        # case and given to a new record of another (SQLite reuses the highest id) must be
        # replayed delete-then-insert, or the record looks written outside crlmboard
        rows = connection.execute(sa.select(*stored).where(where).order_by(audit.AUDIT.c.seq))
    for row in rows:
        case_id = row.case_id
        if int(row.seq) in unreadable_audit or case_id in damaged_cases:
            damaged_cases.add(case_id)
            continue
        try:
            changes = audit.changes_of(row)
        except Exception:  # damaged: the chain check names the row
            damaged_cases.add(case_id)
            continue
        for action, table, record, after in changes:
            if cases is None and table not in CASELESS:
                continue
            key = (table, record)
            if action in ("insert", "baseline"):
                state[key] = after if after is not None else {}  # parsed for this row alone
                if table == "patient":
                    if "open_criticals" in state[key]:  # never null: the summary was audited
                        before_summary.discard(record)
                    else:
                        before_summary.add(record)
            elif action == "update":
                state.setdefault(key, {}).update(after or {})
            elif action == "delete":
                state.pop(key, None)
    stats.most_records_held = max(stats.most_records_held, len(state))
    for case_id in sorted(c for c in damaged_cases if c is not None):
        findings.add(
            f"case {case_id}: an audit row of it cannot be read, so its records were not "
            "compared with the trail"
        )
    if None in damaged_cases and cases is None:
        findings.add("an audit row of the meetings cannot be read; meetings were not compared")
        return
    plan_of: dict[int, Any] = {}
    summaries: list[tuple[str, dict[str, Any]]] = []
    for table, model in audit.AUDITED_TABLES.items():
        if (table in CASELESS) != (cases is None):
            continue
        columns = plans[model]
        same = reader.same[model] if reader is not None else None
        rows_of_table: Iterable[Any]
        if reader is not None:
            rows_of_table = reader.rows(model, cases)
        else:
            query = sa.select(*(_raw(c) for c in columns))
            if cases is not None:
                query = _in_cases(query, model, cases)
            rows_of_table = connection.execute(query)
        for raw in rows_of_table:
            record = str(raw[0])
            expected = state.pop((table, record), None)
            if (
                same is not None
                and expected is not None
                and (cases is None or raw[-1] not in damaged_cases)
                and (model is not t.CaseRow or record not in before_summary)
                and same.equal(raw, expected)
            ):
                # equal as stored: what the slow path below would conclude, without
                # converting each value (a signed review's hash is still recomputed)
                stats.rows_compared_as_stored += 1
                if same.signed_at is not None and raw[same.signed_at] is not None:
                    values, unreadable = read_values(raw[: len(columns)], columns)
                    _signed_review(record, values, unreadable, findings)
                if model is t.CaseRow:
                    stats.cases += 1
                elif model is t.SurgicalPlanRow:
                    plan_of[int(raw[same.case_id] or 0)] = raw[same.resectability]
                continue
            values, unreadable = read_values(raw[: len(columns)], columns)
            if model is t.ReviewRow and values.get("signed_at") is not None:
                _signed_review(record, values, unreadable, findings)
            if cases is not None and raw[-1] in damaged_cases:
                continue
            for name in unreadable:
                findings.add(f"{table} row {record}, field {name}: the stored value cannot be read")
            if expected is None:
                findings.add(
                    f"{table} row {record} has no audit history (written outside crlmboard)"
                )
                continue
            # a case inserted before the summary was audited has none of its fields in the
            # trail, or (after a save that changed some) a few: each is compared once recorded
            recorded_summary = record not in before_summary if model is t.CaseRow else False
            if (
                not unreadable
                and (recorded_summary or model is not t.CaseRow)
                and _same(values, expected, columns[0].name)
            ):
                if model is t.CaseRow:
                    stats.cases += 1
                elif model is t.SurgicalPlanRow:
                    plan_of[int(values.get("case_id") or 0)] = values.get("resectability")
                continue
            for name, value in values.items():
                if name in unreadable or name == columns[0].name:
                    continue
                if name in _SUMMARY and not recorded_summary and name not in expected:
                    continue  # never recorded for this record: unknown to the trail
                if expected.get(name) != value:
                    findings.add(
                        f"{table} row {record}, field {name}: the stored value "
                        "differs from its audit trail (changed outside crlmboard)"
                    )
            if model is t.CaseRow:
                stats.cases += 1
                if not recorded_summary:  # saved before the summary was audited
                    stats.summary_not_recorded += 1
                    if "resectability" not in expected:
                        summaries.append((record, values))
            elif model is t.SurgicalPlanRow:
                plan_of[int(values.get("case_id") or 0)] = values.get("resectability")
    for record, values in summaries:
        if values.get("resectability") != plan_of.get(int(record)):
            findings.add(
                f"patient row {record}, field resectability: the case list shows another "
                "resectability than the case's surgical plan (changed outside crlmboard)"
            )
    for table, record in state:
        findings.add(
            f"{table} row {record} is in the audit trail but missing "
            "from the table (deleted outside crlmboard)"
        )


def _same(values: dict[str, Any], expected: dict[str, Any], key: str) -> bool:
    """A row's values equal those its trail describes (a field the trail never set, or set
    to null, is null) — the fast path; a difference is then named field by field."""
    stored = {k: v for k, v in values.items() if v is not None and k != key}
    return stored == {k: v for k, v in expected.items() if v is not None}


# -- comparing rows as stored (SQLite) ------------------------------------------------------
#
# Most stored values are already the JSON data the trail records: text, numbers, dates as
# ISO text, booleans as 0/1 (equal to false/true).  A row is compared in that stored form
# first; only a row that differs so is read the slow way (`read_values`), which converts
# each value and names each field that differs or cannot be read — so the reports are the
# same, and the fast path can only say "equal" where the slow path says so too.

_STORED = "stored"  # the stored value is the trail's value
_TIME = "time"  # 'YYYY-MM-DD HH:MM:SS.ffffff' stored; ISO with a T in the trail
_JSON = "json"  # JSON text as SQLAlchemy writes it (json.dumps)
_PACKED = "packed"  # `PackedJSON`: compact JSON, compressed when long


def _stored_kind(column: _Column) -> str | None:
    """How a column's stored value relates to its value in the trail; None when no cheap
    comparison is known (the table is then compared the slow way)."""
    if column.convert is None:
        return _STORED  # read as stored by the slow path too
    kind = column.column.type
    if isinstance(kind, t.PackedJSON):
        return _PACKED
    if isinstance(kind, sa.JSON):
        return _JSON
    impl = kind.impl if isinstance(kind, sa.types.TypeDecorator) else kind
    if isinstance(impl, sa.DateTime):
        return _TIME
    if type(impl) in (sa.Date, sa.Boolean) or type(kind) in (sa.Date, sa.Boolean):
        return _STORED  # 'YYYY-MM-DD' as the trail writes it; 0/1 equal to false/true
    return None


class _StoredForm:
    """One table's fast comparison of a stored row with its trail (see above)."""

    def __init__(self, model: type[Any], columns: Sequence[_Column]):
        names = [c.name for c in columns]
        kinds = [_stored_kind(c) for c in columns[1:]]
        if None in kinds:
            raise ValueError(model)
        self.fields = frozenset(names[1:])
        plain = [i for i, k in enumerate(kinds, 1) if k == _STORED]
        self.plain_names = tuple(names[i] for i in plain)
        self._plain = operator.itemgetter(*plain) if len(plain) > 1 else None
        self._one = plain[0] if len(plain) == 1 else None
        self.special = [(i, names[i], k) for i, k in enumerate(kinds, 1) if k != _STORED]
        self.signed_at = names.index("signed_at") if model is t.ReviewRow else None
        self.case_id = names.index("case_id") if model is t.SurgicalPlanRow else 0
        self.resectability = names.index("resectability") if model is t.SurgicalPlanRow else 0

    def equal(self, raw: Sequence[Any], expected: dict[str, Any]) -> bool:
        """Whether `read_values` + `_same` would find the row equal to `expected` (False
        may also mean "not known this way": the row is then compared the slow way)."""
        if not expected.keys() <= self.fields:
            return False
        get = expected.get
        if self._plain is not None:
            if self._plain(raw) != tuple(map(get, self.plain_names)):
                return False
        elif self._one is not None and raw[self._one] != get(self.plain_names[0]):
            return False
        for index, name, kind in self.special:
            stored, value = raw[index], get(name)
            if value is None:  # SQLAlchemy's JSON stores none as 'null', read back as none
                if stored is None or (stored == "null" and kind != _TIME):
                    continue
                return False
            if stored is None:
                return False
            if kind == _TIME:
                if not (
                    type(stored) is str
                    and len(stored) == 26
                    and stored[10] == " "
                    and value == stored[:10] + "T" + stored[11:]
                ):
                    return False
            elif kind == _JSON:
                if type(stored) is not str or stored != json.dumps(value):
                    return False
            else:  # _PACKED: compact JSON in the writer's key order; parsed to compare
                try:
                    if json.loads(t.unpack(stored)) != value:
                        return False
                except (zlib.error, UnicodeDecodeError, ValueError, TypeError):
                    return False
        return True


class _RawReader:
    """Reads each table's rows of a group of cases through SQLite's own cursor (one
    compiled statement per table, no per-row objects or conversions)."""

    def __init__(
        self,
        driver: sqlite3.Connection,
        dialect: sa.Dialect,
        plans: dict[type[Any], list[_Column]],
    ):
        self.driver = driver
        self.same: dict[type[Any], _StoredForm] = {}
        self.statements: dict[tuple[type[Any], bool], tuple[str, tuple[str, ...]]] = {}
        for model, columns in plans.items():
            with contextlib.suppress(ValueError):
                self.same[model] = _StoredForm(model, columns)
            selected = [sa.type_coerce(c.column, sa.types.NullType()) for c in columns]
            caseless = model.__tablename__ in CASELESS
            for grouped in (False,) if caseless else (False, True):
                query = sa.select(*selected)
                if grouped:
                    query = _in_cases(query, model, (sa.bindparam("low"), sa.bindparam("high")))
                compiled = query.compile(dialect=dialect)
                self.statements[(model, grouped)] = (
                    str(compiled),
                    tuple(compiled.positiontup or ()),
                )

    @classmethod
    def of(
        cls, connection: sa.Connection | Session, plans: dict[type[Any], list[_Column]]
    ) -> _RawReader | None:
        """A reader on the connection's SQLite driver connection (same transaction), or
        None on another back end (whose driver converts as the slow path expects)."""
        dialect = _dialect(connection)
        if dialect.name != "sqlite":
            return None
        bound = connection.connection() if isinstance(connection, Session) else connection
        driver = bound.connection.driver_connection
        if not isinstance(driver, sqlite3.Connection):
            return None
        return cls(driver, dialect, plans)

    def rows(self, model: type[Any], cases: tuple[int, int] | None) -> Iterable[Any]:
        sql, order = self.statements[(model, cases is not None)]
        if cases is None:
            return self.driver.execute(sql)
        bounds = {"low": cases[0], "high": cases[1]}
        return self.driver.execute(sql, [bounds[name] for name in order])


def _in_cases(query: Any, model: type[Any], cases: tuple[Any, Any]) -> Any:
    """`query` limited to the rows of the cases with ids in (low, high], through the index
    on the case (lesions through their timepoint), with that case id as the last column."""
    table = model.__table__
    if model is t.CaseRow:
        column = table.c.id
    elif model is t.LesionMeasurementRow:
        timepoints = t.ImagingTimepointRow.__table__  # type: ignore[attr-defined]
        query = query.select_from(timepoints.join(table, table.c.timepoint_id == timepoints.c.id))
        column = timepoints.c.case_id
    else:
        column = table.c.case_id
    return query.add_columns(column.label("case_of")).where(column > cases[0], column <= cases[1])


EXPECTED_TRIGGERS = {
    "sqlite": {
        "audit_event_no_update",
        "audit_event_no_delete",
        "review_signed_no_update",
        "review_signed_no_delete",
    },
    "postgresql": {"audit_event_append_only", "audit_event_no_truncate", "review_signed_immutable"},
}


def trigger_problems(connection: sa.Connection | Session) -> list[str]:
    """The protective triggers that are missing."""
    dialect = (
        connection.get_bind().dialect.name
        if isinstance(connection, Session)
        else connection.dialect.name
    )
    expected = EXPECTED_TRIGGERS.get(dialect)
    if expected is None:
        return []
    if dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = (
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN "
            "('audit_event'::regclass, 'review'::regclass)"
        )
    present = {str(r[0]) for r in connection.execute(sa.text(query))}
    return [
        f"the protective trigger {name} is missing (someone removed it)"
        for name in sorted(expected - present)
    ]


Progress = Callable[[str, int, int], object]


def sqlite_checks(path: Path, progress: Progress | None = None) -> dict[str, list[str]]:
    """integrity_check and foreign_key_check of a SQLite file (read-only)."""
    results: dict[str, Any] = {}
    try:
        connection = connect_sqlite(path, read_only=True)
    except SQLITE_DATABASE_ERRORS as error:
        return {"integrity": [str(error)], "foreign keys": []}
    try:
        if progress:
            progress("integrity_check", 0, 1)
        results["integrity"] = integrity_check(connection)
        if progress:
            progress("foreign_key_check", 0, 1)
        try:
            results["foreign keys"] = foreign_key_check(connection)
        except SQLITE_DATABASE_ERRORS as error:
            results["foreign keys"] = [str(error)]
    finally:
        connection.close()
    return results
