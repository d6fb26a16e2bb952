"""Repositories: read and write whole cases and the case list; they return domain objects.

A case is written whole inside the caller's transaction: its records are brought to the
edited state (only what differs is written, each change with its audit row), its version is
bumped only if it still has the version the editor started from (optimistic concurrency),
and a signed review is never changed or removed.
"""

from __future__ import annotations

import contextlib
import functools
import operator
import sqlite3
import typing
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic_core import from_json
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, UTCDateTime, col

from crlmboard.domain import models as m
from crlmboard.domain.case import Case, ImagingTimepoint, Treatment
from crlmboard.domain.meeting import Review
from crlmboard.domain.trusted import Stored, builder, construct
from crlmboard.store import bulk, search_index
from crlmboard.store import tables as t
from crlmboard.store.audit import (
    AuditLog,
    Encoded,
    audited_fields,
    canonical,
    insert_changes,
    jsonable,
    primary_key_attribute,
    record_values,
    review_content_hash,
)
from crlmboard.store.database import read_session, read_transaction
from crlmboard.store.first_page import CaseListEntry as CaseListEntry


class ConflictError(Exception):
    """The case changed since it was opened (someone else saved it)."""


class NotFound(LookupError):
    """No such case."""


class Stopped(Exception):
    """A read ended early because its caller no longer wants it (`CaseRepository.stopping`:
    a newer filter asked while the older one's exact count ran)."""


class SignedReviewChanged(Exception):
    """An edit would change or remove a signed review (refused; amend it instead)."""

    def __init__(
        self, case_id: int, review_id: int | None, position: int, signed_at: datetime | None
    ):
        super().__init__(f"review {review_id} of case {case_id} is signed")
        self.case_id = case_id
        self.review_id = review_id
        self.position = position
        self.signed_at = signed_at


@dataclass(frozen=True)
class CaseSummary:
    """What the case list shows about a case besides its identity (from the engine)."""

    resectability: str | None = None
    current_response: str | None = None
    open_warnings: int = 0
    open_criticals: int = 0


@dataclass(frozen=True)
class CaseStamp:
    """Which stored case, as of which save: the row's id and the time the case was made
    (a case removed and made again under the same MRN is another case, even when it gets
    the same id back), its version and the time of that save (a version number alone may
    come again after a restore)."""

    case_id: int
    created_at: datetime
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class _FewMatches:
    """The cases a filter matches, when they are few: how many (`exact`, or else an upper
    bound), and the conditions on the case table that select them by id."""

    count: int
    where: tuple[Any, ...]
    exact: bool = True


SORT_KEYS = ("mrn", "name", "age", "next_meeting", "resectability", "response", "warnings")

_CHILDREN: tuple[type[BaseModel], ...] = (
    t.PrimaryTumourRow,
    t.MolecularProfileRow,
    t.SurgicalPlanRow,
    t.ExtrahepaticDiseaseRow,
    t.LabResultRow,
    t.ChemotherapyCycleRow,
    t.ImmunotherapyDoseRow,
    t.ProcedureRow,
    t.SurgeryOutcomeRow,
)

_TREATMENT_ROWS: dict[type[Any], type[Any]] = {
    m.ChemotherapyCycle: t.ChemotherapyCycleRow,
    m.ImmunotherapyDose: t.ImmunotherapyDoseRow,
    m.Procedure: t.ProcedureRow,
}


# Types whose values are JSON data as they are (`jsonable` gives them back): the plain
# ones, and each text enumeration once seen (`_json_value`).
_AS_IS: set[type] = {str, int, float, bool}


def _json_value(value: Any) -> Any:
    """`jsonable(value)`, the types of a case's fields first: a date as ISO text, a text
    enumeration as itself (remembered, so its next values skip this call)."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is date:
        return value.isoformat()
    if issubclass(kind, StrEnum):
        _AS_IS.add(kind)
        return value
    return jsonable(value)


_CASE_TABLE = t.metadata.tables["patient"]
_CASE = _CASE_TABLE.c  # typed columns of the case table, for SQL expressions
R = TypeVar("R", bound=BaseModel)


@functools.cache
def _column_keys(model: type[BaseModel]) -> dict[str, str]:
    """Attribute name -> column key of a table model (a lesion's `id` is column `label`)."""
    mapper = sa.inspect(model)
    return {prop.key: prop.columns[0].key for prop in mapper.column_attrs}


@functools.cache
def _audited(model: type[SQLModel]) -> frozenset[str]:
    return frozenset(audited_fields(model))


@functools.cache
def _attribute_names(model: type[BaseModel]) -> dict[str, str]:
    """Column key -> attribute name of a table model."""
    return {column: name for name, column in _column_keys(model).items()}


@dataclass(frozen=True)
class _Reading:
    """One of a case's reading statements.  On SQLite it is compiled once and run on the
    DBAPI connection, its rows fetched as stored (B3): records are built from them by
    position (`build`), each column decoded as SQLAlchemy's type would (`stored`), and
    SQLite's result processors serve the validated read and the rare row a build refuses.
    Elsewhere (PostgreSQL, whose processors depend on the result's column types)
    SQLAlchemy runs it and its rows come processed."""

    statement: Any
    sql: str
    positional: bool
    names: tuple[str, ...]  # attribute name of each column read, in order
    processors: tuple[tuple[int, Any], ...]  # (column index, processor) where one applies
    stored: tuple[Stored | None, ...]  # how each column's stored value is decoded (SQLite)
    direct: bool  # run on the DBAPI connection
    builders: dict[tuple[Any, ...], Callable[..., Any]] = field(default_factory=dict)

    def fetch(self, session: Session, raw: Any, key: Any) -> list[Sequence[Any]]:
        """The rows for `key`, as stored (SQLite) or processed (elsewhere); `raw`: the
        session's DBAPI connection (SQLite)."""
        if not self.direct:
            return list(session.connection().execute(self.statement, {"key": key}))
        found: list[Any] = raw.execute(
            self.sql, (key,) if self.positional else {"key": key}
        ).fetchall()
        return found

    def processed(self, row: Sequence[Any]) -> Sequence[Any]:
        """A fetched row with SQLAlchemy's result processing (what a Result gives)."""
        if not self.direct or not self.processors:
            return row
        values = list(row)
        for i, process in self.processors:
            values[i] = process(values[i])
        return values

    def value(self, row: Sequence[Any], name: str) -> Any:
        """One column's value of a fetched row, processed."""
        i = self.names.index(name)
        if self.direct:
            for j, process in self.processors:
                if j == i:
                    return process(row[i])
        return row[i]

    def values(self, row: Sequence[Any], model: type[BaseModel], count: int) -> dict[str, Any]:
        """A fetched row's first `count` values by attribute name, processed, for a
        `model` record (a stored null of a list it never holds as None: empty)."""
        found = dict(zip(self.names[:count], self.processed(row), strict=False))
        for name in _empty_when_null(model):
            if name in found and found[name] is None:
                found[name] = []
        return found

    def build(self, model: type[R], given: tuple[str, ...] = ()) -> Callable[..., R]:
        """The function making a `model` record of a fetched row (`trusted.builder`),
        with the fields `given` after the row; its leading columns are `model`'s other
        fields.  A row it cannot take (a stored value outside its enumeration, say) is
        processed by SQLAlchemy and given to `construct`: refused or read as before."""
        key = (model, given)
        found = self.builders.get(key)
        if found is None:
            count = len(model.model_fields) - len(given)
            names = self.names[:count]
            stored = list(self.stored[:count] if self.direct else (None,) * count)
            for i, name in enumerate(names):
                if name in _empty_when_null(model):
                    stored[i] = _or_empty(stored[i])

            def refused(row: Sequence[Any], *values: Any) -> R:
                found = self.values(row, model, count)
                found.update(zip(given, values, strict=True))
                return construct(model, found, owned=True)

            found = builder(model, names, stored, given, refused)
            self.builders[key] = found
        return found


@functools.cache
def _empty_when_null(model: type[BaseModel]) -> frozenset[str]:
    """The list fields of `model` that are never None (empty by default: a review's
    actions and attendees), whose JSON columns may hold null: read as empty."""
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if typing.get_origin(info.annotation) is list and info.default_factory is list
    )


def _or_empty(stored: Stored | None) -> Stored:
    decode = stored.decode if stored is not None else None

    def empty_when_null(value: Any) -> Any:
        if value is not None and decode is not None:
            value = decode(value)
        return [] if value is None else value

    return Stored(empty_when_null, nulls=True)


def _utc_text(value: str) -> datetime:
    """SQLite's stored text of a UTC time (UTC without an offset) as an aware time."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _packed_json(value: Any) -> Any:
    """A PackedJSON column's stored value as data (compressed on SQLite when long)."""
    if isinstance(value, bytes | memoryview):
        value = zlib.decompress(value)
    return from_json(value)


def _stored(column: sa.Column[Any], dialect: sa.Dialect) -> Stored | None:
    """How a SQLite column's stored value is decoded: as its SQLAlchemy type's result
    processor does, in one call (None: taken as it is).  JSON is parsed by pydantic's
    parser (the same values as `json.loads`, in one call; a text it refuses goes to
    SQLAlchemy's `json.loads`: `_Reading.build`)."""
    kind = column.type
    custom = dialect._json_deserializer  # (none is set: SQLAlchemy's json.loads)
    if isinstance(kind, t.PackedJSON):
        return Stored(_packed_json if custom is None else lambda v: custom(t.unpack(v)))
    if isinstance(kind, sa.JSON):
        return Stored(from_json if custom is None else custom)
    if isinstance(kind, UTCDateTime):
        return Stored(_utc_text, final=True)
    if isinstance(kind, sa.DateTime | sa.Time):
        pass  # (none in a case's tables: SQLAlchemy's processor below)
    elif isinstance(kind, sa.Date):
        return Stored(date.fromisoformat, final=True)
    elif isinstance(kind, sa.Boolean):
        return Stored(bool, final=True)
    process = kind._cached_result_processor(dialect, None)
    return None if process is None else Stored(process, nulls=True)


_READINGS: dict[tuple[Any, ...], _Reading] = {}


def _reading(
    model: type[BaseModel],
    dialect: sa.Dialect,
    by: str = "case_id",
    fields: tuple[str, ...] | None = None,
) -> _Reading:
    """The statement reading a table's rows whose `by` column is a key — a case's rows (in
    their order), a case by MRN, or a case's lesions (through their timepoints) — with the
    columns of `fields` (attribute names; every column when None); made once per kind of
    database connection (not per database opened)."""
    key = (model, type(dialect), dialect.paramstyle, by, fields)
    found = _READINGS.get(key)
    if found is None:
        found = _READINGS[key] = _new_reading(model, dialect, by, fields)
    return found


def _new_reading(
    model: type[BaseModel], dialect: sa.Dialect, by: str, fields: tuple[str, ...] | None
) -> _Reading:
    table = model.__table__  # type: ignore[attr-defined]
    keys = _column_keys(model)
    columns = list(table.c) if fields is None else [table.c[keys[name]] for name in fields]
    if by == "timepoint.case_id":
        timepoints = t.ImagingTimepointRow.__table__  # type: ignore[attr-defined]
        query = (
            sa.select(*columns)
            .join_from(table, timepoints, table.c.timepoint_id == timepoints.c.id)
            .where(timepoints.c.case_id == sa.bindparam("key"))
            .order_by(table.c.timepoint_id, table.c.position)
        )
    else:
        query = sa.select(*columns).where(table.c[by] == sa.bindparam("key"))
        if "position" in table.c:
            query = query.order_by(table.c.position)
    direct = dialect.name == "sqlite"
    processors = []
    stored: list[Stored | None] = []
    if direct:  # SQLite's processors do not depend on the result's column types
        for i, column in enumerate(columns):
            process = column.type._cached_result_processor(dialect, None)
            if process is not None:
                processors.append((i, process))
            stored.append(_stored(column, dialect))
    names = _attribute_names(model)
    return _Reading(
        query,
        str(query.compile(dialect=dialect)),
        bool(dialect.positional),
        tuple(names[c.key] for c in columns),
        tuple(processors),
        tuple(stored),
        direct,
    )


# the case row's columns besides the patient's: its id, the stamp, and the case's one date
_CASE_KEEP = ("id", "created_at", "version", "updated_at", "liver_metastases_diagnosis_date")
# a case of its parts (records already built): every field given (no row), nothing to
# convert
_make_case = builder(Case, (), (), tuple(Case.model_fields))
_first = operator.itemgetter(0)


@functools.cache
def _fields_but(model: type[BaseModel], given: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name for name in model.model_fields if name not in given)


@functools.cache
def _field_names(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)


def _fields(record: BaseModel, model: type[BaseModel]) -> dict[str, Any]:
    values = record.__dict__  # a pydantic model's field values
    return {name: values[name] for name in _field_names(model)}


def _row_values(row: BaseModel, model: type[BaseModel]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in model.model_fields}


def _search_text(patient: m.Patient) -> str:
    return search_index.search_text(patient.mrn, patient.family_name, patient.given_name)


# The case-list filter: every word of the query (case-folded as `_search_text` is) must be a
# substring of a case's search text.  On SQLite, words of three characters or more are
# looked up in the trigram index `patient_search` (migration 0005: case-sensitive trigrams
# of the case-folded text, so a word's phrase matches exactly where a substring test does);
# shorter words are tested on those rows (`_like`: instr/strpos, the word taken literally),
# or on the search-text index alone.  A filter
# matching fewer than FEW_MATCHES cases is answered from their ids (counted; read and
# sorted for a page, unless they are dense enough for walking the list's order to be
# cheaper: see `page`).  One matching more keeps the substring test on each row
# (PostgreSQL always does): its matches are dense, so walking the list's order finds a
# page within a few thousand rows.
SEARCH_INDEX = "patient_search"
TRIGRAM = 3  # a shorter word has no trigram: it cannot use the index
# about the list's count cap (1,000): deciding that a broad filter's matches are many reads
# no more of them than its count does (it was 4096: four times the 1,000-patient work)
FEW_MATCHES = 1024
# A page sorts the trigram index's matches when they are fewer than this (counting them is
# cheap: the index's own lists), else it walks the list's order (issue 21, B2).  Sorting
# costs a patient's row per match (about 3 µs in the 100,000-patient file); walking, an
# entry of the order index per patient passed (about 0.09 µs, the search text being in the
# index since 0011): matches bunched together late in the order (a family name) make the
# walk read most of the index, 9 ms at 100,000 — as much as sorting 3,000 matches.
SORT_MATCHES = 2048
WALK_FACTOR = 4  # see `page`
STOP_CHECK = 5000  # SQLite virtual-machine steps between two looks at a read's `stop`
_SEARCH = sa.table(SEARCH_INDEX, sa.column("rowid"), sa.column(SEARCH_INDEX))


def filter_words(query: str) -> list[str]:
    """The words of a case-list query, folded as the stored search text is (case, accents);
    commas are word breaks, so a name as the list shows it ("MOCKFORD, Julia") finds
    its case."""
    return search_index.fold(query.replace(",", " ")).split()


class _Holds(sa.sql.functions.GenericFunction[int]):
    """The position of a word in a text, 0 when absent: a plain substring test, faster
    than `LIKE '%word%'` and the same here (both sides are case-folded, and nothing in the
    word is a wildcard)."""

    type = sa.Integer()
    inherit_cache = True


@compiles(_Holds, "sqlite")
def _holds_sqlite(element: _Holds, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_Holds)
def _holds_other(element: _Holds, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


def _like(word: str) -> Any:
    """The search text holds the word as a substring (taken literally)."""
    return _Holds(_CASE.search_text, word) > 0


def _indexable(word: str) -> bool:
    """A word the trigram index can find: three characters or more (and no NUL, which ends
    an FTS5 query string; LIKE handles it as it always has)."""
    return len(word) >= TRIGRAM and "\x00" not in word


def match_expression(words: Sequence[str]) -> str:
    """An FTS5 query requiring every word, each as a phrase (its trigrams in a row, i.e. the
    word as a substring); the word taken literally (a `"` doubled inside the quotes)."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def trigram_supported() -> bool:
    """Whether this SQLite library has FTS5 and its trigram tokenizer (3.34 and later)."""
    return sqlite3.sqlite_version_info >= (3, 34, 0) and _fts5_trigram()


@functools.cache
def _fts5_trigram() -> bool:
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
        return True
    except sqlite3.Error:
        return False
    finally:
        connection.close()


# the index and the triggers that keep it in step (migration 0005): used only when all are
# there, as the index may be stale without them
_SEARCH_OBJECTS = (
    SEARCH_INDEX,
    "patient_search_insert",
    "patient_search_delete",
    "patient_search_update",
)
_SEARCH_OBJECTS_FOUND = (
    "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'trigger') AND name IN ("
    + ", ".join(f"'{name}'" for name in _SEARCH_OBJECTS)
    + ")"
)


def _now() -> datetime:
    return datetime.now(UTC)


def read_stamped(engine: sa.Engine, mrn: str) -> tuple[Case, CaseStamp]:
    """A whole case and its stamp, as an open reads them: on SQLite in one read transaction
    on the pool's DBAPI connection, without an ORM session around it (issue 21, B3);
    elsewhere in a read session (PostgreSQL's result processors depend on the result)."""
    if engine.dialect.name != "sqlite":
        with read_session(engine) as session:
            return CaseRepository(session).get_stamped(mrn)
    with read_transaction(engine) as raw:
        return CaseRepository.on_dbapi(raw, engine.dialect).get_stamped(mrn)


class CaseRepository:
    """Cases in one session."""

    def __init__(self, session: Session, *, validate_reads: bool = False):
        self.session = session
        self._raw: Any = None  # the DBAPI connection while a case is read
        self._dialect: sa.Dialect | None = None  # a repository on a DBAPI connection only
        # Rows were validated when written: reads build records without validating them
        # again (domain/trusted.py).  True validates every record read (the property test
        # compares the two).
        self.validate_reads = validate_reads

    @classmethod
    def on_dbapi(cls, raw: Any, dialect: sa.Dialect) -> CaseRepository:
        """A repository that only reads cases (`get_stamped`), on SQLite's own DBAPI
        connection `raw` in its caller's transaction (`read_stamped`)."""
        repository = cls(None)  # type: ignore[arg-type]  # (no session: reads on `raw`)
        repository._raw, repository._dialect = raw, dialect
        return repository

    @property
    def dialect(self) -> sa.Dialect:
        return self._dialect or self.session.get_bind().dialect

    def _record(self, model: type[R], values: dict[str, Any], *, owned: bool = False) -> R:
        """A domain record of stored values (`owned`: a dict made for it, kept by it)."""
        if self.validate_reads:
            return model.model_validate(values)
        return construct(model, values, owned=owned)

    # -- reading --------------------------------------------------------------------

    def _row(self, mrn: str) -> t.CaseRow:
        row = self.session.execute(sa.select(t.CaseRow).where(col(t.CaseRow.mrn) == mrn)).scalar()
        if row is None:
            raise NotFound(mrn)
        return row

    def id_of(self, mrn: str) -> int:
        """The case id of an MRN (audit rows name cases by id)."""
        case_id = self._row(mrn).id
        assert case_id is not None
        return case_id

    def exists(self, mrn: str) -> bool:
        query = sa.select(_CASE.id).where(_CASE.mrn == mrn)
        return self.session.connection().execute(query).first() is not None

    def version(self, mrn: str) -> int:
        return self._row(mrn).version

    def mrn_of(self, case_id: int) -> str:
        row = self.session.get(t.CaseRow, case_id)
        if row is None:
            raise NotFound(case_id)
        return row.mrn

    def review_id(self, mrn: str, position: int) -> int:
        """The stored id of a case's review at `position` (0-based)."""
        query = sa.select(col(t.ReviewRow.id)).where(
            col(t.ReviewRow.case_id) == self.id_of(mrn), col(t.ReviewRow.position) == position
        )
        found = self.session.execute(query).scalar()
        if found is None:
            raise NotFound(f"{mrn} review {position}")
        return int(found)

    def mrns_with_signed_reviews(self) -> list[str]:
        query = (
            sa.select(col(t.CaseRow.mrn))
            .distinct()
            .join(t.ReviewRow, col(t.ReviewRow.case_id) == col(t.CaseRow.id))
            .where(col(t.ReviewRow.signed_at).is_not(None))
            .order_by(col(t.CaseRow.mrn))
        )
        return [str(m) for m in self.session.execute(query).scalars()]

    def mrns_after(self, after: str | None, limit: int) -> list[str]:
        """Up to `limit` MRNs in MRN order, after `after` (from the first when None)."""
        query = sa.select(col(t.CaseRow.mrn)).order_by(col(t.CaseRow.mrn)).limit(limit)
        if after is not None:
            query = query.where(col(t.CaseRow.mrn) > after)
        return [str(m) for m in self.session.execute(query).scalars()]

    def set_summary(self, mrn: str, summary: CaseSummary, version: int | None = None) -> bool:
        """Store a case's list summary when it differs from the one stored (no new version);
        with `version`, only if the case is still at that version (the summary was computed
        from it).  The change is audited, as a save's summary is: `check` compares these
        columns with the trail, so a recompute must not look like tampering.  True when it
        was written."""
        values = vars(summary)
        columns = [getattr(_CASE, k) for k in values]
        query = sa.select(_CASE.id, *columns).where(_CASE.mrn == mrn)
        if version is not None:
            query = query.where(_CASE.version == version)
        found = self.session.connection().execute(query).mappings().first()
        if found is None:
            return False
        before = {k: found[k] for k in values}
        if before == values:
            return False
        update = sa.update(t.CaseRow).where(col(t.CaseRow.id) == found["id"])
        if version is not None:  # a save committed since the select above wins
            update = update.where(col(t.CaseRow.version) == version)
        done = self.session.execute(
            update.values(**values).execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            return False
        changed = [k for k in values if before[k] != values[k]]
        AuditLog.of(self.session).record(
            "update",
            "patient",
            found["id"],
            case_id=int(found["id"]),
            before={k: before[k] for k in changed},
            after={k: values[k] for k in changed},
        )
        return True

    def get(self, mrn: str) -> Case:
        """The whole case for an MRN."""
        return self.get_with_version(mrn)[0]

    def get_with_version(self, mrn: str) -> tuple[Case, int]:
        """The whole case for an MRN and its version (read in the same statement)."""
        case, stamp = self.get_stamped(mrn)
        return case, stamp.version

    def get_stamped(self, mrn: str) -> tuple[Case, CaseStamp]:
        """The whole case for an MRN and which stored case and save it is (read in the
        same statement)."""
        # one DBAPI connection for the case's 14 statements: the session's, in its
        # transaction (or the one this repository was made on: `on_dbapi`)
        given = self._raw
        if given is None:
            self._raw = self.session.connection().connection
        try:
            return self._case(mrn)
        finally:
            self._raw = given

    def _children(self, model: type[Any], case_id: int) -> Sequence[Any]:
        query = sa.select(model).where(model.case_id == case_id)
        if "position" in model.model_fields:
            query = query.order_by(model.position)
        return self.session.execute(query).scalars().all()

    def _rows(
        self,
        row_model: type[BaseModel],
        model: type[R],
        key: Any,
        by: str = "case_id",
        *,
        keep: tuple[str, ...] = (),
        given: tuple[str, ...] = (),
    ) -> tuple[_Reading, list[Sequence[Any]], Callable[..., R]]:
        """A table's rows for `key`, in order, with the columns of `model`'s fields
        (but those `given`) followed by those of `keep`; and how this repository makes a
        `model` record of one (the values of `given` after the row): built from it as
        trusted, or validated (`validate_reads`)."""
        fields = _fields_but(model, given)
        reading = _reading(row_model, self.dialect, by, fields + keep)
        rows = reading.fetch(self.session, self._dbapi(reading), key)
        if not self.validate_reads:
            return reading, rows, reading.build(model, given)

        def validated(row: Sequence[Any], *values: Any) -> R:
            found = reading.values(row, model, len(fields))
            found.update(zip(given, values, strict=True))
            return model.model_validate(found)

        return reading, rows, validated

    def _records(self, row_model: type[BaseModel], model: type[R], case_id: int) -> list[R]:
        """A case's records of one table, in order."""
        _reading, rows, make = self._rows(row_model, model, case_id)
        return list(map(make, rows))

    def _dbapi(self, reading: _Reading) -> Any:
        """The session's DBAPI connection for a reading run on it (None otherwise)."""
        if not reading.direct:
            return None
        return self._raw or self.session.connection().connection

    def _one(self, row_model: type[Any], model: type[R], case_id: int) -> R | None:
        records = self._records(row_model, model, case_id)
        return records[0] if records else None

    def _case(self, mrn: str) -> tuple[Case, CaseStamp]:
        """The case of an MRN and its stamp."""
        reading, rows, make = self._rows(t.CaseRow, m.Patient, mrn, "mrn", keep=_CASE_KEEP)
        if not rows:
            raise NotFound(mrn)
        row = rows[0]
        case_id, created_at, version, updated_at, diagnosed = (
            reading.value(row, name) for name in _CASE_KEEP
        )
        stamp = CaseStamp(case_id, created_at, int(version), updated_at)
        patient = make(row)

        treatments: list[tuple[int, Treatment]] = []
        for model, row_model in _TREATMENT_ROWS.items():
            _reading, rows, make_treatment = self._rows(
                row_model, model, case_id, keep=("position",)
            )
            at = len(model.model_fields)  # the position's column
            treatments += [(row[at], make_treatment(row)) for row in rows]
        treatments.sort(key=_first)

        _reading, timepoints, make_timepoint = self._rows(
            t.ImagingTimepointRow, ImagingTimepoint, case_id, keep=("id",), given=("lesions",)
        )
        at = len(ImagingTimepoint.model_fields) - 1  # the timepoint's id
        # the lesions of every timepoint in one query (not one per timepoint)
        lesions: dict[Any, list[m.LesionMeasurement]] = {tp[at]: [] for tp in timepoints}
        if lesions:
            _reading, rows, make_lesion = self._rows(
                t.LesionMeasurementRow,
                m.LesionMeasurement,
                case_id,
                "timepoint.case_id",
                keep=("timepoint_id",),
            )
            of = len(m.LesionMeasurement.model_fields)  # the lesion's timepoint id
            for row in rows:
                lesions[row[of]].append(make_lesion(row))
        imaging = [make_timepoint(tp, lesions[tp[at]]) for tp in timepoints]

        _reading, rows, make_follow_up = self._rows(
            t.ReviewFollowUpRow, m.FollowUp, case_id, keep=("review_id",)
        )
        at = len(m.FollowUp.model_fields)  # the review's id
        follow_ups = {row[at]: make_follow_up(row) for row in rows}
        reading, rows, make_review = self._rows(
            t.ReviewRow, Review, case_id, keep=("id", "follow_up"), given=("follow_up",)
        )
        at = len(Review.model_fields) - 1  # the review's id
        reviews = []
        for row in rows:
            follow_up = follow_ups.get(row[at])
            if follow_up is None:  # a follow-up inside the review row is from before 0003
                inside = reading.value(row, "follow_up")
                if inside is not None:
                    follow_up = self._record(m.FollowUp, inside, owned=True)
            reviews.append(make_review(row, follow_up))

        values: dict[str, Any] = dict(
            patient=patient,
            primary=self._one(t.PrimaryTumourRow, m.PrimaryTumour, case_id),
            liver_metastases_diagnosis_date=diagnosed,
            extrahepatic_disease=self._records(
                t.ExtrahepaticDiseaseRow, m.ExtrahepaticDisease, case_id
            ),
            molecular=self._one(t.MolecularProfileRow, m.MolecularProfile, case_id),
            labs=self._records(t.LabResultRow, m.LabResult, case_id),
            treatments=[x for _, x in treatments],
            imaging=imaging,
            plan=self._one(t.SurgicalPlanRow, m.SurgicalPlan, case_id),
            surgery_outcomes=self._records(t.SurgeryOutcomeRow, m.SurgeryOutcome, case_id),
            reviews=reviews,
        )
        if self.validate_reads:
            return Case.model_validate(values), stamp
        return _make_case((), **values), stamp

    def count(self, query: str = "", *, cap: int | None = None) -> int:
        """How many cases the list shows for `query`.  With `cap`, a filter's matches are
        counted no further than `cap + 1` (the answer `cap + 1` means "more than `cap`"):
        a broad filter's count then visits about `cap` matches instead of every one
        (issue 21, B2).  The count without a filter is always exact (one small index)."""
        words = filter_words(query)
        if cap is not None and words:
            return self._count_up_to(words, cap + 1)
        few = self._few_matches(words, count=True)
        if few is not None:
            return few.count
        statement = sa.select(sa.func.count()).select_from(t.CaseRow)
        statement = self._filtered(statement, query)
        return int(self.session.execute(statement).scalar_one())

    @contextlib.contextmanager
    def stopping(self, stop: Callable[[], bool]) -> Iterator[None]:
        """Reads inside end early, raising Stopped, once `stop()` is true.  On SQLite a
        running statement is interrupted (`stop` is looked at every STOP_CHECK steps of
        its virtual machine, through a progress handler); other back ends look before and
        after (a statement there runs to its end, and its answer is dropped)."""
        if stop():
            raise Stopped
        raw = self.session.connection().connection.driver_connection
        handler = getattr(raw, "set_progress_handler", None)
        if handler is None:
            yield
            if stop():
                raise Stopped
            return
        handler(lambda: 1 if stop() else 0, STOP_CHECK)
        try:
            yield
        except sa.exc.OperationalError as error:
            if "interrupted" in str(error.orig) and stop():
                raise Stopped from None
            raise
        finally:
            handler(None, STOP_CHECK)

    def _count_up_to(self, words: list[str], limit: int) -> int:
        """The number of cases matching every word, counted no further than `limit`: the
        matches are read one by one (the trigram index's when a word has three characters
        or more, else the search-text index's) and the reading stops at `limit`."""
        indexed = [word for word in words if _indexable(word)]
        short = [word for word in words if not _indexable(word)]
        if indexed and self.has_search_index():
            match = _SEARCH.c[SEARCH_INDEX].match(match_expression(indexed))
            if short:  # the index's matches, each looked up by id for the short words
                ids = (
                    sa.select(_CASE.id)
                    .select_from(_SEARCH.join(_CASE_TABLE, _CASE.id == _SEARCH.c.rowid))
                    .where(match, *map(_like, short))
                )
            else:
                ids = sa.select(_SEARCH.c.rowid).where(match)
        else:
            ids = sa.select(_CASE.id).where(*map(_like, words))
        statement = sa.select(sa.func.count()).select_from(ids.limit(limit).subquery())
        return int(self.session.execute(statement).scalar_one())

    @staticmethod
    def _filtered(statement: Any, query: str) -> Any:
        """`statement` keeping the cases whose search text holds every word (LIKE)."""
        for word in filter_words(query):
            statement = statement.where(_like(word))
        return statement

    def has_search_index(self) -> bool:
        """Whether the filter can use the trigram index: SQLite with FTS5's trigram
        tokenizer, and the index with its triggers (made by migration 0005)."""
        if self.session.get_bind().dialect.name != "sqlite" or not trigram_supported():
            return False
        found = self.session.connection().exec_driver_sql(_SEARCH_OBJECTS_FOUND).scalar()
        return found == len(_SEARCH_OBJECTS)

    def _few_matches(
        self, words: list[str], *, count: bool, few: int | None = None, scan: bool = True
    ) -> _FewMatches | None:
        """The cases matching every word when they are fewer than `few` (FEW_MATCHES by
        default; with their number when `count`, else at most `few`); None when they are
        more, when there
        are no words, or not on SQLite (the filter is then `_filtered`, LIKE on each row).

        Through the trigram index when a word is long enough (it reads only the matches of
        those words; shorter words are then checked on those rows), else — or when the
        long words match many cases — by reading the search-text index until `few`
        matches are found (soon when they are dense); not that when `scan` is False (a
        page: walking the list's order index, which holds the search text, costs no more
        than that reading and needs no sort after it).
        """
        if not words or self.session.get_bind().dialect.name != "sqlite":
            return None
        few = FEW_MATCHES if few is None else few
        indexed = [word for word in words if _indexable(word)]
        short = [word for word in words if not _indexable(word)]
        if indexed and self.has_search_index():
            ids = sa.select(_SEARCH.c.rowid).where(
                _SEARCH.c[SEARCH_INDEX].match(match_expression(indexed))
            )
            found = self.session.execute(
                sa.select(sa.func.count()).select_from(ids.limit(few).subquery())
            ).scalar_one()
            if found < few:
                where = (_CASE.id.in_(ids), *map(_like, short))
                exact = not short or not found
                if not exact and count:  # the short words, on the rows found
                    found = self.session.execute(
                        sa.select(sa.func.count()).select_from(t.CaseRow).where(*where)
                    ).scalar_one()
                    exact = True
                return _FewMatches(int(found), where, exact)
            if not short:  # the long words alone match many cases
                return None
        if not scan:
            return None
        ids = sa.select(_CASE.id).where(*map(_like, words)).correlate(None)
        found = self.session.execute(
            sa.select(sa.func.count()).select_from(ids.limit(few).subquery())
        ).scalar_one()
        if found >= few:
            return None
        return _FewMatches(int(found), (_CASE.id.in_(ids),))

    def page(
        self,
        query: str = "",
        *,
        sort: str = "name",
        descending: bool = False,
        offset: int = 0,
        limit: int = 200,
        today: date | None = None,
    ) -> list[CaseListEntry]:
        """One page of the case list, filtered and sorted in SQL."""
        if sort not in SORT_KEYS:
            raise ValueError(f"cannot sort by {sort!r}")
        case = _CASE
        next_meeting = (
            sa.select(sa.func.min(col(t.MeetingRow.date)))
            .join(t.AgendaItemRow, col(t.AgendaItemRow.meeting_id) == col(t.MeetingRow.id))
            .where(
                col(t.AgendaItemRow.case_id) == case.id,
                sa.or_(
                    col(t.AgendaItemRow.status).is_(None), col(t.AgendaItemRow.status) == "planned"
                ),
            )
        )
        if today is not None:
            next_meeting = next_meeting.where(col(t.MeetingRow.date) >= today)
        next_meeting_col = next_meeting.scalar_subquery().label("next_meeting")
        columns: dict[str, list[Any]] = {
            "mrn": [case.mrn],
            "name": [sa.func.lower(case.family_name), sa.func.lower(case.given_name)],
            "age": [case.birth_date],
            "next_meeting": [next_meeting_col],
            "resectability": [case.resectability],
            "response": [case.current_response],
            "warnings": [case.open_criticals, case.open_warnings],
        }
        if sort == "age":  # the youngest first when ascending by age
            descending = not descending
        if sort == "name" and not descending:
            # written as the index ix_patient_list_name is, so a page reads it in order
            # instead of sorting every patient: unknown names last, then by name and MRN
            family, given = sa.func.lower(case.family_name), sa.func.lower(case.given_name)
            order = [family.is_(None), family, given.is_(None), given, case.mrn]
        else:
            order = [c.desc() if descending else c.asc() for c in columns[sort]]
            order = [o.nulls_last() for o in order] + [case.mrn.asc()]
        statement = sa.select(
            case.id,
            case.mrn,
            case.family_name,
            case.given_name,
            case.birth_date,
            next_meeting_col,
            case.resectability,
            case.current_response,
            case.open_warnings,
            case.open_criticals,
            case.version,
        )
        words = filter_words(query)
        walkable = sort == "mrn" or (sort == "name" and not descending)  # an index's order
        few = self._few_matches(words, count=False, few=SORT_MATCHES, scan=not walkable)
        if few is not None and few.exact and few.count and walkable:
            # sorting the matches costs about a row read each; walking the order, about
            # (offset + limit) × size / matches row reads if they are spread evenly
            size = self.session.execute(sa.select(sa.func.max(case.id))).scalar() or 0
            if few.count**2 > WALK_FACTOR * (offset + limit) * size:
                few = None  # dense: walk (WALK_FACTOR allows for matches bunched together)
        if few is None and words and walkable:
            # walk the order for the page's ids alone, testing each entry's search text in
            # the index itself (0011: no patient row read for those passed), then read the
            # page's columns (the next meeting above all) for the page's rows only
            chosen = self._filtered(sa.select(case.id), query)
            chosen = chosen.order_by(*order).offset(offset).limit(limit).correlate(None)
            statement = statement.where(case.id.in_(chosen)).order_by(*order)
        elif few is None:  # none or many matches: walk the order, LIMIT stops at the page
            statement = self._filtered(statement, query)
            statement = statement.order_by(*order).offset(offset).limit(limit)
        elif few.count == 0:
            return []
        else:  # few matches: read them by id and sort them by their keys alone, then read
            # the page's columns (the next meeting above all) for the page's rows only
            chosen = (
                sa.select(case.id)
                .where(*few.where)
                .order_by(*order)
                .offset(offset)
                .limit(limit)
                .correlate(None)
            )
            statement = statement.where(case.id.in_(chosen)).order_by(*order)
        return [CaseListEntry(*row) for row in self.session.execute(statement).all()]

    def position(
        self,
        mrn: str,
        query: str = "",
        *,
        sort: str = "name",
        descending: bool = False,
        today: date | None = None,
    ) -> int | None:
        """The row (from 0) of a case in the list `page` reads with the same arguments, or
        None when the filter leaves it out: how a windowed list finds a case it has not
        read.  The order is `page`'s; the rows before the case are numbered in SQL."""
        if sort not in SORT_KEYS:
            raise ValueError(f"cannot sort by {sort!r}")
        case = _CASE
        if sort == "age":  # the youngest first when ascending by age (as `page`)
            descending = not descending
        if sort == "name" and not descending:
            family, given = sa.func.lower(case.family_name), sa.func.lower(case.given_name)
            order = [family.is_(None), family, given.is_(None), given, case.mrn]
        else:
            if sort == "next_meeting":
                upcoming = (
                    sa.select(sa.func.min(col(t.MeetingRow.date)))
                    .join(t.AgendaItemRow, col(t.AgendaItemRow.meeting_id) == col(t.MeetingRow.id))
                    .where(
                        col(t.AgendaItemRow.case_id) == case.id,
                        sa.or_(
                            col(t.AgendaItemRow.status).is_(None),
                            col(t.AgendaItemRow.status) == "planned",
                        ),
                    )
                )
                if today is not None:
                    upcoming = upcoming.where(col(t.MeetingRow.date) >= today)
                keys: list[Any] = [upcoming.scalar_subquery()]
            else:
                by_key: dict[str, list[Any]] = {
                    "mrn": [case.mrn],
                    "age": [case.birth_date],
                    "name": [sa.func.lower(case.family_name), sa.func.lower(case.given_name)],
                    "resectability": [case.resectability],
                    "response": [case.current_response],
                    "warnings": [case.open_criticals, case.open_warnings],
                }
                keys = by_key[sort]
            order = [(c.desc() if descending else c.asc()).nulls_last() for c in keys] + [
                case.mrn.asc()
            ]
        few = self._few_matches(filter_words(query), count=False)
        if few is not None:  # few matches (or none): their MRNs in order
            if few.count == 0:
                return None
            listed = list(
                self.session.execute(
                    sa.select(case.mrn).where(*few.where).order_by(*order)
                ).scalars()
            )
            return listed.index(mrn) if mrn in listed else None
        numbered = self._filtered(
            sa.select(
                case.mrn.label("mrn"), sa.func.row_number().over(order_by=order).label("row")
            ),
            query,
        ).subquery()
        found = self.session.execute(
            sa.select(numbered.c.row).where(numbered.c.mrn == mrn)
        ).scalar()
        return None if found is None else int(found) - 1

    # -- writing --------------------------------------------------------------------
    #
    # A save pairs the stored rows of each table with the edited records by their order and
    # writes only what differs: changed fields are updated in place, extra records inserted,
    # missing ones deleted, each with its audit row (field, before, after) in the caller's
    # transaction.  Reviews are history: a signed one must come back unchanged.

    @property
    def audit(self) -> AuditLog:
        return AuditLog.of(self.session)

    def create(
        self, case: Case, summary: CaseSummary, *, then: Callable[[], object] | None = None
    ) -> int:
        """Insert a new case with its records and reviews; returns its id."""
        return self.create_many([(case, summary)], then=then)[0]

    def create_many(
        self,
        cases: Sequence[tuple[Case, CaseSummary]],
        *,
        then: Callable[[], object] | None = None,
    ) -> list[int]:
        """Insert new cases with their records and reviews; returns their ids in order.
        Rows go in table by table, one multi-row insert per table for all the cases (no ORM
        objects: a case can have hundreds of rows), each audited as an insert of its case;
        the trail gets one row per case, as if each had been created alone.  `then` runs
        once the rows are in, before the trail is written: what it audits of these cases
        (their stored engine comparison) joins each case's one row."""
        if not cases:
            return []
        now = _now()
        # each case's changes, in the order written: its audit row, made here as the audit
        # log would group them (one `changes` row per case, or the insert of a lone row)
        changes: dict[int, list[dict[str, Any]]] = {}
        case_ids = self._insert(
            changes,
            t.CaseRow,
            [
                {
                    **_patient_values(case),
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                    "search_text": _search_text(case.patient),
                    **vars(summary),
                }
                for case, summary in cases
            ],
            None,
        )
        owned = list(zip(case_ids, (case for case, _ in cases), strict=True))
        singles: list[tuple[type[SQLModel], str, type[BaseModel]]] = [
            (t.PrimaryTumourRow, "primary", m.PrimaryTumour),
            (t.MolecularProfileRow, "molecular", m.MolecularProfile),
            (t.SurgicalPlanRow, "plan", m.SurgicalPlan),
        ]
        for model, name, fields in singles:
            rows, owners = [], []
            for case_id, case in owned:
                record = getattr(case, name)
                if record is not None:
                    rows.append({**_fields(record, fields), "case_id": case_id})
                    owners.append(case_id)
            self._insert(changes, model, rows, owners)
        listed: list[tuple[type[SQLModel], str, type[BaseModel]]] = [
            (t.ExtrahepaticDiseaseRow, "extrahepatic_disease", m.ExtrahepaticDisease),
            (t.LabResultRow, "labs", m.LabResult),
            (t.SurgeryOutcomeRow, "surgery_outcomes", m.SurgeryOutcome),
        ]
        for model, name, fields in listed:
            rows, owners = [], []
            for case_id, case in owned:
                for i, record in enumerate(getattr(case, name)):
                    rows.append({**_fields(record, fields), "case_id": case_id, "position": i})
                    owners.append(case_id)
            self._insert(changes, model, rows, owners)
        by_table: dict[type[Any], tuple[list[dict[str, Any]], list[int]]] = {
            r: ([], []) for r in _TREATMENT_ROWS.values()
        }
        for case_id, case in owned:
            for i, treatment in enumerate(case.treatments):
                kind = type(treatment)
                rows, owners = by_table[_TREATMENT_ROWS[kind]]
                rows.append({**_fields(treatment, kind), "case_id": case_id, "position": i})
                owners.append(case_id)
        for model, (rows, owners) in by_table.items():
            self._insert(changes, model, rows, owners)
        timepoints = [
            (case_id, i, tp) for case_id, case in owned for i, tp in enumerate(case.imaging)
        ]
        timepoint_ids = self._insert(
            changes,
            t.ImagingTimepointRow,
            [
                {**_fields(tp, m.ImagingTimepointFields), "case_id": case_id, "position": i}
                for case_id, i, tp in timepoints
            ],
            [case_id for case_id, _, _ in timepoints],
        )
        lesions = [
            (case_id, tp_id, j, lesion)
            for tp_id, (case_id, _, tp) in zip(timepoint_ids, timepoints, strict=True)
            for j, lesion in enumerate(tp.lesions)
        ]
        self._insert(
            changes,
            t.LesionMeasurementRow,
            [
                {**_fields(lesion, m.LesionMeasurement), "timepoint_id": tp_id, "position": j}
                for _, tp_id, j, lesion in lesions
            ],
            [case_id for case_id, _, _, _ in lesions],
        )
        reviews = [
            (case_id, review, _review_values(review, case_id, i))
            for case_id, case in owned
            for i, review in enumerate(case.reviews)
        ]
        # a review's values as JSON data once, for its content hash and its audit row (a
        # frozen evaluation is a large document: walked once, not twice)
        audited = audited_fields(t.ReviewRow)
        review_afters: list[dict[str, Any]] = []
        for _, _, values in reviews:
            ready = {k: _json_value(v) for k, v in values.items() if v is not None}
            if "evaluation" in ready:  # encoded once, for the hash and the audit row
                ready["evaluation"] = Encoded(canonical(ready["evaluation"]))
            values["content_sha256"] = (
                review_content_hash(ready, json_ready=True)
                if values["signed_at"] is not None
                else None
            )
            ready["content_sha256"] = values["content_sha256"]
            review_afters.append(
                {f: ready[f] for f in audited if f in ready and ready[f] is not None}
            )
        review_ids = self._insert(
            changes,
            t.ReviewRow,
            [values for _, _, values in reviews],
            [c for c, _, _ in reviews],
            review_afters,
        )
        follow_ups = [
            (case_id, review_id, review.follow_up)
            for review_id, (case_id, review, _) in zip(review_ids, reviews, strict=True)
            if review.follow_up is not None
        ]
        self._insert(
            changes,
            t.ReviewFollowUpRow,
            [
                {**_fields(follow_up, m.FollowUp), "review_id": review_id, "case_id": case_id}
                for case_id, review_id, follow_up in follow_ups
            ],
            [case_id for case_id, _, _ in follow_ups],
        )
        audit = self.audit
        for case_id, made in changes.items():
            audit.case_inserted(case_id, made)
        if then is not None:
            then()
        audit.flush()
        return case_ids

    def existing(self, mrns: Sequence[str]) -> set[str]:
        """Which of these MRNs have a case (one query)."""
        if not mrns:
            return set()
        query = sa.select(_CASE.mrn).where(_CASE.mrn.in_(list(set(mrns))))
        return {str(mrn) for mrn in self.session.connection().execute(query).scalars()}

    def _insert(
        self,
        changes: dict[int, list[dict[str, Any]]],
        model: type[SQLModel],
        rows: list[dict[str, Any]],
        case_ids: list[int] | None,
        afters: list[dict[str, Any]] | None = None,
    ) -> list[int]:
        """Insert rows (values by attribute name) in one statement; each is audited as an
        insert of its case (`case_ids`, one per row; None: the case rows themselves, each
        its own case): its change, with its audited values as JSON data (`afters`, made by
        the caller, or here), goes to its case's list in `changes`.  Returns the new keys
        in order."""
        if not rows:
            return []
        table = model.__table__  # type: ignore[attr-defined]
        key = primary_key_attribute(model)
        connection = self.session.connection()  # Core: no ORM work per statement
        if key == "review_id":  # keyed by its review: nothing to generate
            ids = [row["review_id"] for row in rows]
        else:
            ids = _new_keys(connection, table.c[_column_keys(model)[key]], len(rows))
            for row, new_id in zip(rows, ids, strict=True):
                row[key] = new_id
        bulk.insert_rows(connection, table, rows, _column_keys(model))
        owners = ids if case_ids is None else case_ids
        if afters is None:
            plain, audited = _AS_IS, _audited(model)
            afters = [
                {
                    f: v if type(v) in plain else _json_value(v)
                    for f, v in row.items()
                    if v is not None and f in audited
                }
                for row in rows
            ]
        made = insert_changes(str(model.__tablename__), ids, afters)
        for change, case_id in zip(made, owners, strict=True):
            changes.setdefault(case_id, []).append(change)
        return ids

    def update(
        self,
        case: Case,
        expected_version: int,
        summary: CaseSummary,
        *,
        rename_from: str | None = None,
    ) -> int:
        """Bring a case's records to `case` if nobody saved it since `expected_version`."""
        row = self._row(rename_from or case.mrn)
        case_id = row.id
        assert case_id is not None
        before = record_values(row, t.CaseRow)
        values = _patient_values(case)
        bumped = self.session.execute(
            sa.update(t.CaseRow)
            .where(col(t.CaseRow.id) == case_id, col(t.CaseRow.version) == expected_version)
            .values(
                **values,
                version=expected_version + 1,
                updated_at=_now(),
                search_text=_search_text(case.patient),
                **vars(summary),
            )
            .execution_options(synchronize_session=False)
        )
        if bumped.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(case.mrn)
        self.session.expire(row)
        audited = {**values, **vars(summary)}  # the list's summary is audited too
        after = {k: jsonable(v) for k, v in audited.items() if jsonable(v) != before.get(k)}
        if after:
            self.audit.updated(t.CaseRow, row, case_id, {k: before.get(k) for k in after}, after)
        self._write_records(case_id, case)
        self._write_reviews(case_id, case.reviews)
        self.audit.flush()
        return expected_version + 1

    def _sync(
        self,
        model: type[Any],
        stored: Sequence[Any],
        wanted: Sequence[dict[str, Any]],
        case_id: int,
    ) -> list[Any]:
        """Make one table's rows of a case equal `wanted` (paired by order); returns the
        rows now stored, in order."""
        audit = self.audit
        result: list[Any] = []
        inserted: list[Any] = []
        removed: list[Any] = []
        for i in range(max(len(stored), len(wanted))):
            if i < len(stored) and i < len(wanted):
                row, before, after = stored[i], {}, {}
                for name, value in wanted[i].items():
                    old, new = jsonable(getattr(row, name)), jsonable(value)
                    if old != new:
                        before[name], after[name] = old, new
                        setattr(row, name, value)
                if after:
                    audit.updated(model, row, case_id, before, after)
                result.append(row)
            elif i < len(wanted):
                row = model(**wanted[i])
                self.session.add(row)
                inserted.append(row)
                result.append(row)
            else:
                removed.append(stored[i])
        if removed:
            key = primary_key_attribute(model)
            for row in removed:
                audit.deleted(model, row, case_id)
                self.session.expunge(row)
            self.session.execute(
                sa.delete(model).where(getattr(model, key).in_([getattr(r, key) for r in removed]))
            )
        self.session.flush()
        for row in inserted:
            audit.inserted(model, row, case_id)
        return result

    def _write_records(self, case_id: int, case: Case) -> None:
        def one(model: type[Any], record: BaseModel | None, fields: type[BaseModel]) -> None:
            wanted = [] if record is None else [{**_fields(record, fields), "case_id": case_id}]
            self._sync(model, self._children(model, case_id), wanted, case_id)

        def many(model: type[Any], records: Sequence[BaseModel], fields: type[BaseModel]) -> None:
            wanted = [
                {**_fields(r, fields), "case_id": case_id, "position": i}
                for i, r in enumerate(records)
            ]
            self._sync(model, self._children(model, case_id), wanted, case_id)

        one(t.PrimaryTumourRow, case.primary, m.PrimaryTumour)
        one(t.MolecularProfileRow, case.molecular, m.MolecularProfile)
        one(t.SurgicalPlanRow, case.plan, m.SurgicalPlan)
        many(t.ExtrahepaticDiseaseRow, case.extrahepatic_disease, m.ExtrahepaticDisease)
        many(t.LabResultRow, case.labs, m.LabResult)
        many(t.SurgeryOutcomeRow, case.surgery_outcomes, m.SurgeryOutcome)
        by_table: dict[type[Any], list[dict[str, Any]]] = {r: [] for r in _TREATMENT_ROWS.values()}
        for i, treatment in enumerate(case.treatments):
            model = type(treatment)
            by_table[_TREATMENT_ROWS[model]].append(
                {**_fields(treatment, model), "case_id": case_id, "position": i}
            )
        for row_model, wanted in by_table.items():
            self._sync(row_model, self._children(row_model, case_id), wanted, case_id)
        self._write_imaging(case_id, case.imaging)

    def _write_imaging(self, case_id: int, imaging: Sequence[ImagingTimepoint]) -> None:
        stored = self._children(t.ImagingTimepointRow, case_id)
        lesions: dict[int, list[Any]] = {tp.id: [] for tp in stored}
        if stored:
            for lesion in self.session.execute(
                sa.select(t.LesionMeasurementRow)
                .where(col(t.LesionMeasurementRow.timepoint_id).in_(list(lesions)))
                .order_by(col(t.LesionMeasurementRow.position))
            ).scalars():
                lesions[lesion.timepoint_id].append(lesion)
        for tp in stored[len(imaging) :]:  # timepoints that go: their lesions first
            self._sync(t.LesionMeasurementRow, lesions[tp.id], [], case_id)
        wanted = [
            {**_fields(tp, m.ImagingTimepointFields), "case_id": case_id, "position": i}
            for i, tp in enumerate(imaging)
        ]
        rows = self._sync(t.ImagingTimepointRow, stored, wanted, case_id)
        for tp_row, timepoint in zip(rows, imaging, strict=True):
            self._sync(
                t.LesionMeasurementRow,
                lesions.get(tp_row.id, []),
                [
                    {
                        **_fields(lesion, m.LesionMeasurement),
                        "timepoint_id": tp_row.id,
                        "position": j,
                    }
                    for j, lesion in enumerate(timepoint.lesions)
                ],
                case_id,
            )

    def _write_reviews(self, case_id: int, reviews: Sequence[Review]) -> None:
        """Reviews are history: a signed one must come back unchanged and in its place;
        drafts may change; a review signed now gets its content hash."""
        stored = self._children(t.ReviewRow, case_id)
        wanted = [_review_values(review, case_id, i) for i, review in enumerate(reviews)]
        for i, row in enumerate(stored[: len(wanted)]):
            # a review row's own follow-up column is frozen as written; follow-ups live in
            # review_follow_up (see _write_follow_ups)
            wanted[i]["follow_up"] = row.follow_up
        for i, row in enumerate(stored):
            if row.signed_at is None:
                continue
            if i >= len(wanted) or any(
                jsonable(getattr(row, k)) != jsonable(v) for k, v in wanted[i].items()
            ):
                raise SignedReviewChanged(case_id, row.id, i, row.signed_at)
        for values in wanted:
            if values["signed_at"] is not None:
                values["content_sha256"] = review_content_hash(values)
        rows = self._sync(t.ReviewRow, stored, wanted, case_id)
        self._write_follow_ups(case_id, rows, reviews)

    def _write_follow_ups(
        self, case_id: int, rows: Sequence[t.ReviewRow], reviews: Sequence[Review]
    ) -> None:
        """Each review's follow-up in review_follow_up (inserted, updated or removed)."""
        stored = {f.review_id: f for f in self._children(t.ReviewFollowUpRow, case_id)}
        for row, review in zip(rows, reviews, strict=True):
            assert row.id is not None
            existing = stored.get(row.id)
            legacy = row.follow_up if existing is None else None
            wanted = review.follow_up
            if wanted is None:
                if existing is not None:
                    self.audit.deleted(t.ReviewFollowUpRow, existing, case_id)
                    self.session.delete(existing)
                continue
            values = _fields(wanted, m.FollowUp)
            if existing is None:
                if legacy is not None and jsonable(
                    wanted.model_dump(mode="json", exclude_none=True)
                ) == jsonable(legacy):
                    continue  # unchanged since before 0003: stays in the review row
                follow_up = t.ReviewFollowUpRow(**values, review_id=row.id, case_id=case_id)
                self.session.add(follow_up)
                self.session.flush()
                self.audit.inserted(t.ReviewFollowUpRow, follow_up, case_id)
                continue
            before, after = {}, {}
            for name, value in values.items():
                old, new = jsonable(getattr(existing, name)), jsonable(value)
                if old != new:
                    before[name], after[name] = old, new
                    setattr(existing, name, value)
            if after:
                self.audit.updated(t.ReviewFollowUpRow, existing, case_id, before, after)
        self.session.flush()

    def delete(self, mrn: str) -> None:
        """Remove a case with no reviews and no agenda entries."""
        row = self._row(mrn)
        case_id = row.id
        assert case_id is not None
        self._write_imaging(case_id, [])
        for model in _CHILDREN:
            self._sync(model, self._children(model, case_id), [], case_id)
        self.audit.deleted(t.CaseRow, row, case_id)
        self.session.delete(row)
        self.session.flush()
        self.audit.flush()


def _new_keys(connection: sa.Connection, column: sa.Column[Any], count: int) -> list[int]:
    """The next `count` keys of a table, in order, as its inserts would take them."""
    if connection.dialect.name == "sqlite":
        # the write transaction holds SQLite's only write lock: the next keys are ours
        table = column.table.name
        last = connection.exec_driver_sql(f'SELECT max("{column.name}") FROM "{table}"').scalar()
        first = (last or 0) + 1
        return list(range(first, first + count))
    # PostgreSQL: the values the column's default would take, from its sequence
    found = connection.execute(
        sa.text(
            "SELECT nextval(pg_get_serial_sequence(:table, :column)) "
            "FROM generate_series(1, :count) ORDER BY 1"
        ),
        {"table": f'"{column.table.name}"', "column": column.name, "count": count},
    )
    return [int(value) for value in found.scalars()]


def _patient_values(case: Case) -> dict[str, Any]:
    return {
        **_fields(case.patient, m.Patient),
        "liver_metastases_diagnosis_date": case.liver_metastases_diagnosis_date,
    }


def _review_values(review: Review, case_id: int, position: int) -> dict[str, Any]:
    return {
        **_fields(review, m.ReviewFields),
        "case_id": case_id,
        "position": position,
        "actions": [a.model_dump(mode="json", exclude_none=True) for a in review.actions],
        "attendees": [a.model_dump(mode="json") for a in review.attendees],
        "follow_up": None,  # follow-ups live in review_follow_up
        "evaluation": review.evaluation,
    }


class SettingRepository:
    """Facts about the database itself, as text."""

    def __init__(self, session: Session):
        self.session = session

    def get(self, key: str) -> str | None:
        row = self.session.get(t.SettingRow, key)
        return None if row is None else row.value

    def put(self, key: str, value: str) -> None:
        row = self.session.get(t.SettingRow, key)
        if row is None:
            self.session.add(t.SettingRow(key=key, value=value))
        else:
            row.value = value
        self.session.flush()
