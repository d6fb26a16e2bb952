"""The audit trail: who changed which clinical record, when, and from what to what.

Every insert, update and delete of clinical data appends rows to `audit_event` in the same
transaction as the change.  Each row holds the SHA-256 of its own content together with the
previous row's hash, so an edited, deleted or reordered row breaks the chain; `verify_chain`
finds the first broken link.  Triggers (migration 0002) make the table append-only in the
database itself.  Values are stored as canonical JSON text, so a row's hash can be recomputed
from what is stored on SQLite and PostgreSQL alike (long text is compressed on SQLite; the
hash is over the text).  Rows name records by table and id and carry the case id; names and
MRNs appear only inside before/after values, never in logs.

The changes one transaction makes to one case's records share one row, action `changes`:
its `after_json` lists each record's change (action, table, record, before, after) and its
`fields` the tables touched.  A case imported with 300 records is one row, not 300 — the
trail keeps every value while the file stays small.  Readers (`history`, `replay`,
`insert_hash`) give such a row back as one entry per record.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import getpass
import hashlib
import json
import secrets
import socket
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from crlmboard.store import bulk, jsontext
from crlmboard.store import tables as t

GENESIS = "0" * 64
AUDIT = t.metadata.tables["audit_event"]
_PG_AUDIT_LOCK = 7_311_900_517  # pg_advisory_xact_lock key: one chain writer at a time
_SESSION_KEY = "crlmboard_audit_log"

# Columns that the app derives or manages itself; they are not clinical content.  The
# stored engine comparison's copies of its case's creation and save times are left out as
# the case's own are (wall-clock times; its key is audited by the case version).
NOT_AUDITED = frozenset(
    {"version", "created_at", "updated_at", "search_text", "case_created_at", "case_updated_at"}
)

# The case list's summary (derived from the engine at every save).  Audited like clinical
# values, so a count set to hide a critical finding is seen by `check`; cases last
# saved before carry no recorded summary (see `integrity`).
SUMMARY_FIELDS = ("resectability", "current_response", "open_warnings", "open_criticals")

# Every table holding clinical data, by table name (meetings included), and the older
# engines' comparison shown with the case.
AUDITED_TABLES: dict[str, type[SQLModel]] = {
    str(model.__tablename__): model
    for model in (
        t.CaseRow,
        t.PrimaryTumourRow,
        t.MolecularProfileRow,
        t.SurgicalPlanRow,
        t.ExtrahepaticDiseaseRow,
        t.LabResultRow,
        t.ChemotherapyCycleRow,
        t.ImmunotherapyDoseRow,
        t.ProcedureRow,
        t.ImagingTimepointRow,
        t.LesionMeasurementRow,
        t.SurgeryOutcomeRow,
        t.ReviewRow,
        t.MeetingRow,
        t.MeetingAttendeeRow,
        t.AgendaItemRow,
        t.ReviewFollowUpRow,
        t.ReviewDraftRow,
        # derived, like the summary, but shown to surgeons at an open: audited so that a
        # note hidden or changed in the database file is seen by `check` (migration 0013)
        t.EngineComparisonRow,
    )
}


class AuditError(Exception):
    """The audit trail could not be written."""


# -- values ------------------------------------------------------------------------------


_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """A value as plain JSON data, the same whether it came from a form or from either
    back end (dates as ISO text, times in UTC without offset, enums as their value)."""
    kind = type(value)
    if kind in _PLAIN:  # the common case first (the checks below give the same)
        return value
    if kind is dict:
        return {
            k if type(k) is str else str(k): v if type(v) in _PLAIN else jsonable(v)
            for k, v in value.items()
        }
    if kind is list:
        return [v if type(v) in _PLAIN else jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, SQLModel):
        return jsonable(value.model_dump(mode="json"))
    raise TypeError(f"cannot audit a value of type {type(value).__name__}")


_CANONICAL = jsontext._CANONICAL


def canonical(value: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, Unicode kept (the audit chain hashes
    this for every row it writes or verifies; `jsontext`: orjson where it writes the same
    bytes as the standard library's encoder)."""
    return jsontext.canonical(value)


@dataclass(frozen=True, slots=True)
class Encoded:
    """JSON data given as its canonical text (made once): `canonical_spliced` writes the
    text where the value stands.  A review's frozen evaluation is a large document that
    goes into its content hash and into its audit row: encoded once, not twice."""

    text: str


def _placeholder(found: Any) -> int:
    if type(found) is not Encoded:
        raise TypeError(f"Object of type {type(found).__name__} is not JSON serializable")
    return 0


def _fragment(found: Any) -> orjson.Fragment:
    if type(found) is not Encoded:
        raise TypeError(f"Object of type {type(found).__name__} is not JSON serializable")
    return orjson.Fragment(found.text)


# a token no data holds: random for each run, and never stored (replaced by the text)
_SPLICE = f"crlmboard-encoded-{secrets.token_hex(16)}-"


def _spliced_fast(value: Any) -> bytes | None:
    """`canonical_spliced` by orjson (`jsontext`), each `Encoded` text written in its place as
    it stands; None when the standard library must make it.  The value's own part is checked
    without the encoded texts (canonical already): with a `null` in it, it goes to the
    standard library whole (a new case's changes hold none; a NaN would be one)."""
    try:
        bare = orjson.dumps(value, option=jsontext.SORTED, default=_placeholder)
        if b"null" in bare or jsontext._small_float(bare):
            return None
        return orjson.dumps(value, option=jsontext.SORTED, default=_fragment)
    except TypeError:  # orjson.JSONEncodeError: what orjson refuses, json writes or refuses
        return None


def canonical_spliced_bytes(value: Any) -> bytes:
    """`canonical_spliced(value)` as UTF-8 bytes."""
    text = _spliced_fast(value)
    return _spliced(value).encode("utf-8") if text is None else text


def canonical_spliced(value: Any) -> str:
    """`canonical(value)` where `value` may hold `Encoded` values: the same text as the
    canonical JSON of the same data with each decoded in its place."""
    text = _spliced_fast(value)
    return _spliced(value) if text is None else text.decode("utf-8")


def _spliced(value: Any) -> str:
    """`canonical_spliced` by the standard library's encoder."""
    texts: list[str] = []

    def default(found: Any) -> str:
        if type(found) is not Encoded:
            raise TypeError(f"Object of type {type(found).__name__} is not JSON serializable")
        texts.append(found.text)
        return f"{_SPLICE}{len(texts) - 1}"

    text = json.JSONEncoder(
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=default,
    ).encode(value)
    if not texts:
        return text
    if text.count(f'"{_SPLICE}') != len(texts):  # a text of the data looks like a token
        return _CANONICAL.encode(_decoded(value))
    for n, encoded in enumerate(texts):  # each token's quoted text, once
        text = text.replace(f'"{_SPLICE}{n}"', encoded, 1)
    return text


def _decoded(value: Any) -> Any:
    """`value` with each `Encoded` value as its data."""
    if type(value) is Encoded:
        return json.loads(value.text)
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decoded(v) for v in value]
    return value


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def primary_key_attribute(model: type[SQLModel]) -> str:
    mapper = sa.inspect(model)
    return str(mapper.get_property_by_column(mapper.primary_key[0]).key)


def audited_fields(model: type[SQLModel]) -> tuple[str, ...]:
    """The attributes of a table model the audit trail records (not its key)."""
    key = primary_key_attribute(model)
    return tuple(name for name in model.model_fields if name != key and name not in NOT_AUDITED)


def record_values(row: Any, model: type[SQLModel]) -> dict[str, Any]:
    """A row's audited values as JSON data."""
    return {name: jsonable(getattr(row, name)) for name in audited_fields(model)}


def review_content_hash(values: Mapping[str, Any], *, json_ready: bool = False) -> str:
    """The content hash of a signed review: every stored value except its key and the hash
    itself.  Null values are left out, so adding a nullable column later keeps old hashes.
    `json_ready`: the values are JSON data already (no conversion walk; `Encoded`
    values allowed)."""
    content = {
        k: v if json_ready else jsonable(v)
        for k, v in values.items()
        if k not in ("id", "content_sha256") and v is not None
    }
    if json_ready:
        return hashlib.sha256(canonical_spliced_bytes(content)).hexdigest()
    return hashlib.sha256(jsontext.canonical_bytes(content)).hexdigest()


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """Audit time: UTC, microseconds, 'Z'."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return _utc_time(text).replace(tzinfo=UTC)


def _utc_time(text: str) -> datetime:
    """An audit time as a naive UTC datetime; ValueError when it is not one.  The exact
    form (`YYYY-MM-DDTHH:MM:SS.ffffffZ`) is read by `fromisoformat` (the chain check
    reads a million of them; `strptime` took half its time), anything else by `strptime`."""
    if (
        len(text) == 27
        and text[26] == "Z"
        and text[4] == text[7] == "-"
        and text[10] == "T"
        and text[13] == text[16] == ":"
        and text[19] == "."
    ):
        return datetime.fromisoformat(text[:26])
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


# -- who ---------------------------------------------------------------------------------


def os_login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers, services)
        return "unknown"


@dataclass(frozen=True)
class Actor:
    """Who makes a change: the user (the OS account on SQLite; on PostgreSQL the session
    user, filled in when the row is written), OS login, host and app version."""

    app_user: str
    os_login: str
    host: str
    app_version: str

    @classmethod
    def current(cls) -> Actor:
        from crlmboard import __version__

        login = os_login()
        return cls(
            app_user=login,
            os_login=login,
            host=socket.gethostname(),
            app_version=__version__,
        )


# -- writing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditHead:
    """The newest row of the chain: its sequence number and hash."""

    seq: int
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AuditHead | None:
        if not data:
            return None
        return cls(int(data["seq"]), str(data["hash"]))


CHANGES = "changes"  # the action of a row holding several records' changes
ERASURE = "erasure"  # the action of the row that records an erasure (store/erasure.py)

_HASHED = (
    "seq",
    "at",
    "app_user",
    "os_login",
    "host",
    "app_version",
    "action",
    "table_name",
    "record_id",
    "case_id",
    "fields",
    "before_json",
    "after_json",
)


_PACKED_AT = (_HASHED.index("before_json"), _HASHED.index("after_json"))  # may be compressed


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """The hash of one audit row: its content (as stored) chained to the previous hash."""
    values = [row[name] for name in _HASHED]
    for at in _PACKED_AT:
        values[at] = t.unpack(values[at])
    # the UTF-8 of `prev_hash + "|" + canonical(values)`, made without the text
    return hashlib.sha256(
        prev_hash.encode("utf-8") + b"|" + jsontext.canonical_flat_bytes(values)
    ).hexdigest()


def tombstone_text(erasure_id: str) -> str:
    """The `after_json` of an erased audit row (its `before_json` is emptied)."""
    return canonical({"erased": erasure_id})


def tombstone_of(row: Mapping[str, Any] | Any) -> str | None:
    """The erasure id when a stored row is a tombstone (its values wiped by an erasure),
    else None.  Whether an erasure really lists it is for `verify_chain` to say."""
    values = row if isinstance(row, Mapping) else row._mapping
    if values["before_json"] is not None:
        return None
    after = values["after_json"]
    if not isinstance(after, str) or not after.startswith('{"erased":'):
        return None
    try:
        data = json.loads(after)
    except ValueError:
        return None
    if isinstance(data, dict) and set(data) == {"erased"} and isinstance(data["erased"], str):
        return data["erased"]
    return None


def read_head(connection: sa.Connection | Session) -> AuditHead | None:
    found = connection.execute(
        sa.select(AUDIT.c.seq, AUDIT.c.row_hash).order_by(AUDIT.c.seq.desc()).limit(1)
    ).first()
    return None if found is None else AuditHead(int(found[0]), str(found[1]))


@dataclass
class _Pending:
    action: str
    table: str
    record_id: str | None
    case_id: int | None
    given: list[str] | None  # the fields named by the caller; None: those of the values
    before: dict[str, Any] | None
    after: Any  # the values; for a `changes` row, the list of changes

    @property
    def fields(self) -> list[str]:
        if self.given is not None:
            return self.given
        return sorted(set(self.before or {}) | set(self.after or {}))


class AuditLog:
    """The audit rows of one transaction; `flush` appends them to the chain."""

    def __init__(self, session: Session, actor: Actor, clock: Callable[[], datetime] = utc_now):
        self.session = session
        self.actor = actor
        self.clock = clock
        self._pending: list[_Pending] = []
        self._head: AuditHead | None = None
        self._locked = False
        self.first_seq: int | None = None  # the first row this log wrote (for its checkpoint)

    @classmethod
    def of(cls, session: Session) -> AuditLog:
        """The audit log of a session (made on first use, with the session's actor)."""
        log = session.info.get(_SESSION_KEY)
        if log is None:
            actor = session.info.get("actor") or Actor.current()
            clock = session.info.get("clock") or utc_now
            log = cls(session, actor, clock)
            session.info[_SESSION_KEY] = log
        assert isinstance(log, AuditLog)
        return log

    def record(
        self,
        action: str,
        table: str,
        record_id: object,
        *,
        case_id: int | None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        fields: Sequence[str] | None = None,
    ) -> None:
        self._pending.append(
            _Pending(
                action,
                table,
                None if record_id is None else str(record_id),
                case_id,
                None if fields is None else list(fields),
                before,
                after,
            )
        )

    def case_inserted(self, case_id: int, changes: list[dict[str, Any]]) -> None:
        """The inserts of a new case's records, each given as its change (`insert_changes`),
        in the order written: one `changes` row, as `flush` groups a case's several changes
        (a lone insert stays its own row).  For many records, no pending entry each."""
        if len(changes) == 1:
            (change,) = changes
            self.record(
                "insert", change["table"], change["record"], case_id=case_id, after=change["after"]
            )
            return
        tables = sorted({change["table"] for change in changes})
        self._pending.append(
            _Pending(CHANGES, "patient", str(case_id), case_id, tables, None, changes)
        )

    def inserted(self, model: type[SQLModel], row: Any, case_id: int | None) -> None:
        values = {k: v for k, v in record_values(row, model).items() if v is not None}
        self.record(
            "insert",
            model.__tablename__,  # type: ignore[arg-type]
            getattr(row, primary_key_attribute(model)),
            case_id=case_id,
            after=values,
        )

    def deleted(self, model: type[SQLModel], row: Any, case_id: int | None) -> None:
        values = {k: v for k, v in record_values(row, model).items() if v is not None}
        self.record(
            "delete",
            model.__tablename__,  # type: ignore[arg-type]
            getattr(row, primary_key_attribute(model)),
            case_id=case_id,
            before=values,
        )

    def updated(
        self,
        model: type[SQLModel],
        row: Any,
        case_id: int | None,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> None:
        self.record(
            "update",
            model.__tablename__,  # type: ignore[arg-type]
            getattr(row, primary_key_attribute(model)),
            case_id=case_id,
            before=before,
            after=after,
            fields=sorted(after),
        )

    def _lock_chain(self) -> None:
        if self._locked:
            return
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_AUDIT_LOCK)))
        self._locked = True

    def flush(self) -> None:
        """Append the pending rows to the chain (inside the caller's transaction): one row
        per record change, or one `changes` row for a case with several."""
        if not self._pending:
            return
        self._lock_chain()
        if self._head is None:
            self._head = read_head(self.session) or AuditHead(0, GENESIS)
        seq, previous = self._head.seq, self._head.hash
        if self.first_seq is None:
            self.first_seq = seq + 1
        at = format_time(self.clock())
        actor = self.actor
        if self.session.get_bind().dialect.name == "postgresql":
            # the database names the actor: its session user (a trigger refuses another)
            from crlmboard.store.identity import session_user

            actor = dataclasses.replace(actor, app_user=session_user(self.session))
        rows: list[dict[str, Any]] = []
        for event in _grouped(self._pending):
            seq += 1
            row: dict[str, Any] = {
                "seq": seq,
                "at": at,
                "app_user": actor.app_user,
                "os_login": actor.os_login,
                "host": actor.host,
                "app_version": actor.app_version,
                "action": event.action,
                "table_name": event.table,
                "record_id": event.record_id,
                "case_id": event.case_id,
                "fields": canonical(event.fields),
                "before_json": None if event.before is None else canonical(event.before),
                "after_json": None if event.after is None else canonical_spliced(event.after),
                "prev_hash": previous,
            }
            row["row_hash"] = previous = row_hash(previous, row)
            rows.append(row)
        bulk.insert_rows(self.session.connection(), AUDIT, rows)
        self._head = AuditHead(seq, previous)
        self._pending.clear()


def insert_changes(
    table: str, record_ids: Sequence[object], afters: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Inserts as entries of a `changes` row (as `_grouped` writes each)."""
    return [
        {"action": "insert", "table": table, "record": str(record_id), "after": after}
        for record_id, after in zip(record_ids, afters, strict=True)
    ]


def _grouped(pending: Sequence[_Pending]) -> list[_Pending]:
    """The rows to write: a case's several changes become one `changes` row (in the place
    of its first change); a single change, or one with no case, stays a row of its own."""
    by_case: dict[int, list[_Pending]] = {}
    for event in pending:
        if event.case_id is not None:
            by_case.setdefault(event.case_id, []).append(event)
    rows: list[_Pending] = []
    for event in pending:
        group = by_case.get(event.case_id) if event.case_id is not None else None
        if group is None or len(group) == 1:
            rows.append(event)
        elif group[0] is event:
            changes: list[Any] = []
            for change in group:
                if change.action == CHANGES:  # a new case's inserts, made as one (case_inserted)
                    changes.extend(change.after)
                    continue
                item: dict[str, Any] = {
                    "action": change.action,
                    "table": change.table,
                    "record": change.record_id,
                }
                if change.given is not None and change.given != sorted(
                    set(change.before or {}) | set(change.after or {})
                ):
                    item["fields"] = change.given
                if change.before is not None:
                    item["before"] = change.before
                if change.after is not None:
                    item["after"] = change.after
                changes.append(item)
            rows.append(
                _Pending(
                    CHANGES,
                    "patient",
                    str(event.case_id),
                    event.case_id,
                    sorted({item["table"] for item in changes}),
                    None,
                    changes,
                )
            )
    return rows


def forget(session: Session) -> None:
    """After a rollback to a savepoint: drop the rows not written and re-read the head."""
    log = session.info.get(_SESSION_KEY)
    if isinstance(log, AuditLog):
        log._pending.clear()
        log._head = None


def first_written(session: Session) -> int | None:
    """The first audit row a session's transaction wrote (None: it wrote none)."""
    log = session.info.get(_SESSION_KEY)
    return log.first_seq if isinstance(log, AuditLog) else None


def flush_session(session: Session) -> None:
    """Write the audit rows a session collected (called before commit)."""
    log = session.info.get(_SESSION_KEY)
    if isinstance(log, AuditLog):
        log.flush()


def baseline(session: Session, progress: Callable[[int, int], object] | None = None) -> int:
    """Record every existing clinical row as a 'baseline' event when the trail is empty
    (a database upgraded from a schema without an audit trail); returns the rows recorded.
    `progress(done, total)` hears every `BASELINE_STEP` records."""
    if read_head(session) is not None:
        return 0
    log = AuditLog.of(session)
    count = 0
    total = 0
    if progress is not None:
        total = sum(
            session.execute(sa.select(sa.func.count()).select_from(model)).scalar() or 0
            for model in AUDITED_TABLES.values()
        )
        progress(0, total)
    for model in AUDITED_TABLES.values():
        key = primary_key_attribute(model)
        for row in session.execute(sa.select(model).order_by(getattr(model, key))).scalars():
            values = {k: v for k, v in record_values(row, model).items() if v is not None}
            log.record(
                "baseline",
                model.__tablename__,  # type: ignore[arg-type]
                getattr(row, key),
                case_id=_case_of(session, model, row),
                after=values,
            )
            count += 1
            if progress is not None and count % BASELINE_STEP == 0:
                progress(count, total)
    log.flush()
    if progress is not None:
        progress(count, total)
    return count


BASELINE_STEP = 1000  # baseline records between two progress reports


def _case_of(session: Session, model: type[SQLModel], row: Any) -> int | None:
    if model is t.CaseRow:
        return int(row.id)
    if model is t.LesionMeasurementRow:
        tp = session.get(t.ImagingTimepointRow, row.timepoint_id)
        return None if tp is None else int(tp.case_id)
    case_id = getattr(row, "case_id", None)
    return None if case_id is None else int(case_id)


# -- reading and verifying ---------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    """One audit row, as the history view shows it."""

    seq: int
    at: datetime
    app_user: str
    os_login: str
    host: str
    app_version: str
    action: str
    table: str
    record_id: str | None
    case_id: int | None
    fields: list[str]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _entries(row: Any) -> list[AuditEntry]:
    """The entries of one stored row: one, or one per record of a `changes` row (none for
    a tombstone: its values were erased)."""
    if tombstone_of(row) is not None:
        return []
    common = {
        "seq": int(row.seq),
        "at": parse_time(row.at),
        "app_user": row.app_user,
        "os_login": row.os_login,
        "host": row.host,
        "app_version": row.app_version,
        "case_id": row.case_id,
    }
    if row.action == CHANGES:
        return [
            AuditEntry(
                **common,
                action=c["action"],
                table=c["table"],
                record_id=c["record"],
                fields=_change_fields(c),
                before=c.get("before"),
                after=c.get("after"),
            )
            for c in json.loads(t.unpack(row.after_json) or "[]")
        ]
    return [
        AuditEntry(
            **common,
            action=row.action,
            table=row.table_name,
            record_id=row.record_id,
            fields=json.loads(row.fields),
            before=None if row.before_json is None else json.loads(t.unpack(row.before_json)),
            after=None if row.after_json is None else json.loads(t.unpack(row.after_json)),
        )
    ]


def changes_of(row: Any) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(action, table, record id, after) of each record change of a stored row — what a
    replay needs, without building entries; raises on a damaged value.  A tombstone has
    none: the records it described were erased with it."""
    if tombstone_of(row) is not None:
        return []
    if row.action == CHANGES:
        return [
            (c["action"], c["table"], str(c["record"]), c.get("after"))
            for c in json.loads(t.unpack(row.after_json) or "[]")
        ]
    after = None if row.after_json is None else json.loads(t.unpack(row.after_json))
    return [(row.action, row.table_name, str(row.record_id), after)]


def entries_of(row: Any) -> list[AuditEntry]:
    """The entries of one audit row, as stored or as read (one per record change); raises
    on a damaged value."""
    return _entries(row)


def _change_fields(change: Mapping[str, Any]) -> list[str]:
    if "fields" in change:
        return list(change["fields"])
    return sorted(set(change.get("before") or {}) | set(change.get("after") or {}))


def expanded(rows: Iterator[Any]) -> Iterator[AuditEntry]:
    """Stored rows as entries, one per record change."""
    for row in rows:
        yield from _entries(row)


def history(session: Session, case_id: int) -> list[AuditEntry]:
    """Every audit entry of a case, oldest first (one per record change)."""
    query = sa.select(AUDIT).where(AUDIT.c.case_id == case_id).order_by(AUDIT.c.seq)
    return list(expanded(iter(session.execute(query))))


def entries(
    connection: sa.Connection | Session, *, after_seq: int = 0, batch: int = 5000
) -> Iterator[Any]:
    """All audit rows in chain order, read in batches (constant memory)."""
    last = after_seq
    while True:
        rows = connection.execute(
            sa.select(AUDIT).where(AUDIT.c.seq > last).order_by(AUDIT.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = int(rows[-1].seq)


@dataclass(frozen=True)
class ErasureNote:
    """An erasure the chain records (information for `check`, never a problem)."""

    seq: int
    at: str
    actor: str
    erasure_id: str
    reason: str
    rows: int

    def sentence(self) -> str:
        return (
            f"erasure {self.erasure_id} (audit row {self.seq}) on {self.at[:10]} by "
            f"{self.actor}: the values of {self.rows} audit row(s) of one case were erased "
            f"(reason: {self.reason})"
        )


class ErasureLedger:
    """Tombstones met while walking the chain, matched with the erasure rows that list them.

    A row whose stored values no longer give its stored hash is tampering — unless it is a
    tombstone (`tombstone_of`) that a later erasure row, itself intact, lists with that
    hash and the same erasure id.  `pending` holds the tombstones not yet listed."""

    def __init__(self) -> None:
        self.pending: dict[int, tuple[str, str]] = {}  # seq -> (stored hash, erasure id)
        self.notes: list[ErasureNote] = []

    def tombstone(self, seq: int, values: Mapping[str, Any]) -> bool:
        """Hold a row that does not match its hash as a tombstone; False if it is none."""
        erasure_id = tombstone_of(values)
        if erasure_id is None:
            return False
        self.pending[seq] = (str(values["row_hash"]), erasure_id)
        return True

    def intact(self, seq: int, values: Mapping[str, Any]) -> None:
        """A row whose hash verified: if it records an erasure, settle its tombstones."""
        if values["action"] != ERASURE:
            return
        try:
            data = json.loads(t.unpack(values["after_json"]) or "{}")
            erasure_id = str(data["erasure"])
            listed = [(int(s), str(h)) for s, h in data["erased"]]
        except (ValueError, TypeError, KeyError, zlib.error):
            return
        settled = 0
        for listed_seq, digest in listed:
            if self.pending.get(listed_seq) == (digest, erasure_id):
                del self.pending[listed_seq]
                settled += 1
        self.notes.append(
            ErasureNote(
                seq,
                str(values["at"]),
                str(values["app_user"]),
                erasure_id,
                str(data.get("reason", "")),
                settled,
            )
        )

    def unlisted(self) -> list[int]:
        """Tombstones no erasure lists: values wiped outside crlmboard."""
        return sorted(self.pending)


@dataclass
class ChainReport:
    """The result of verifying the chain: every broken link found (the first one named in
    `first_broken` and `problem`), the newest row, and the erasures recorded."""

    rows: int = 0
    head: AuditHead | None = None
    first_broken: int | None = None
    problem: str | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unreadable: set[int] = field(default_factory=set)  # rows whose stored values are damaged
    erasures: list[ErasureNote] = field(default_factory=list)
    since: AuditHead | None = None  # the walk began after this (checkpointed) row
    batches: int = 0  # statements that read rows
    most_rows_held: int = 0  # the most rows in memory at once (one batch)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def broken(self, seq: int, problem: str) -> None:
        if self.problem is None or (self.first_broken is not None and seq < self.first_broken):
            self.first_broken, self.problem = seq, problem
        if len(self.problems) < CHAIN_PROBLEMS_LISTED:
            self.problems.append(problem)
        elif len(self.problems) == CHAIN_PROBLEMS_LISTED:
            self.problems.append("(more broken audit rows not listed)")


CLOCK_SLACK = timedelta(minutes=5)
CHAIN_PROBLEMS_LISTED = 50
VERIFY_BATCH = 5000  # audit rows read per statement by `verify_chain`


def raw_entries(
    connection: sa.Connection | Session,
    *,
    where: Any = None,
    batch: int = 5000,
    after_seq: int = 0,
) -> Iterator[Any]:
    """Audit rows in chain order as stored (long values still compressed: a damaged one is
    read without error and found by whoever unpacks it), in batches (constant memory)."""
    for rows in raw_batches(connection, where=where, batch=batch, after_seq=after_seq):
        yield from rows


def raw_batches(
    connection: sa.Connection | Session,
    *,
    where: Any = None,
    batch: int = 5000,
    after_seq: int = 0,
) -> Iterator[Sequence[Any]]:
    """`raw_entries` a batch at a time: one statement per batch, through the key (each
    batch starts where the one before ended, so the walk is one pass)."""
    columns = [sa.type_coerce(c, sa.types.NullType()).label(c.name) for c in AUDIT.columns]
    last = after_seq
    while True:
        query = sa.select(*columns).where(AUDIT.c.seq > last)
        if where is not None:
            query = query.where(where)
        rows = connection.execute(query.order_by(AUDIT.c.seq).limit(batch)).all()
        if not rows:
            return
        yield rows
        last = int(rows[-1].seq)


def verify_chain(
    connection: sa.Connection | Session,
    progress: Callable[[int], object] | None = None,
    *,
    since: AuditHead | None = None,
    batch: int = VERIFY_BATCH,
) -> ChainReport:
    """Walk the chain from the first row (or from the row after `since`, a head a signed
    checkpoint vouches for) and report every broken link: a missing row, a row that does
    not follow the one before, a row changed after it was written, a row whose stored values
    cannot be read.  Each row is judged against the row stored before it, so one damaged
    row is one problem, not a cascade.  A row whose values an erasure wiped is no problem
    when a later, intact erasure row lists it (`ErasureLedger`).  One pass in `batch`-row
    statements: time grows with the rows walked, memory does not (T45)."""
    report = ChainReport(since=since)
    ledger = ErasureLedger()
    previous_hash, expected, previous_at = GENESIS, 1, None
    last: AuditHead | None = None
    if since is not None and since.seq > 0:
        previous_hash, expected, last = since.hash, since.seq + 1, since
        at = connection.execute(sa.select(AUDIT.c.at).where(AUDIT.c.seq == since.seq)).scalar()
        with contextlib.suppress(ValueError, TypeError):
            previous_at = _utc_time(str(at))
    for rows in raw_batches(connection, batch=batch, after_seq=expected - 1):
        report.batches += 1
        report.most_rows_held = max(report.most_rows_held, len(rows))
        for row in rows:
            at = _verify_row(row, report, expected, previous_hash, previous_at, ledger)
            previous_hash, expected = str(row.row_hash), int(row.seq) + 1
            previous_at = at or previous_at
            last = AuditHead(int(row.seq), previous_hash)
            report.rows += 1
            if progress is not None and report.rows % 10_000 == 0:
                progress(report.rows)
    for seq in ledger.unlisted():
        report.broken(
            seq,
            f"audit row {seq} was changed after it was written: its values were wiped and "
            "no erasure recorded in the chain lists it",
        )
    report.erasures = ledger.notes
    report.head = last
    return report


def _verify_row(
    row: Any,
    report: ChainReport,
    expected: int,
    previous_hash: str,
    previous_at: datetime | None,
    ledger: ErasureLedger,
) -> datetime | None:
    """One row against the row stored before it (see `verify_chain`); its time (naive UTC)
    when it can be read."""
    values = row._mapping
    seq = int(values["seq"])
    gap = seq != expected
    if gap:
        report.broken(
            expected,
            f"audit row {expected} is missing (the next row is {seq}): rows "
            "were deleted or renumbered",
        )
    elif values["prev_hash"] != previous_hash:
        report.broken(
            seq,
            f"audit row {seq} does not follow row {seq - 1}: a row was "
            "removed, reordered or rewritten",
        )
    try:
        recomputed: str | None = row_hash(previous_hash if not gap else values["prev_hash"], values)
    except (zlib.error, UnicodeDecodeError, ValueError, TypeError):
        recomputed = None
        report.unreadable.add(seq)
        report.broken(seq, f"audit row {seq}: a stored value is damaged and cannot be read")
    if recomputed is not None and recomputed == values["row_hash"]:
        ledger.intact(seq, values)
    elif (
        recomputed is not None
        and (gap or values["prev_hash"] == previous_hash)
        and not ledger.tombstone(seq, values)
    ):
        report.broken(seq, f"audit row {seq} was changed after it was written")
    try:
        at: datetime | None = _utc_time(str(values["at"]))
    except ValueError:
        at = None
        report.broken(seq, f"audit row {seq} has an unreadable time")
    if (
        at is not None
        and previous_at is not None
        and at < previous_at - CLOCK_SLACK
        and not report.warnings
    ):
        report.warnings.append(
            f"the system clock went back: audit row {seq} is dated {values['at']}, "
            f"earlier than row {seq - 1}"
        )
    return at


def last_restore(session: Session) -> tuple[datetime, dict[str, Any]] | None:
    """When the newest restore was recorded, and what it recorded (backup, safety backup)."""
    row = session.execute(
        AUDIT.select().where(AUDIT.c.action == "restore").order_by(AUDIT.c.seq.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return parse_time(row.at), json.loads(row.after_json or "{}")


def hash_at(connection: sa.Connection | Session, seq: int) -> str | None:
    """The stored hash of audit row `seq` (None when there is no such row)."""
    value = connection.execute(sa.select(AUDIT.c.row_hash).where(AUDIT.c.seq == seq)).scalar()
    return None if value is None else str(value)


def replay(connection: sa.Connection | Session) -> dict[tuple[str, str], dict[str, Any]]:
    """The state the audit trail describes: (table, record id) -> audited values."""
    state: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in expanded(entries(connection)):
        key = (entry.table, str(entry.record_id))
        if entry.action in ("insert", "baseline"):
            state[key] = dict(entry.after or {})
        elif entry.action == "update":
            state.setdefault(key, {}).update(entry.after or {})
        elif entry.action == "delete":
            state.pop(key, None)
    return state


def insert_hash(
    connection: sa.Connection | Session, table: str, record_id: object, case_id: int | None = None
) -> str | None:
    """The chain hash of the audit row that recorded a record's insertion (for a signed
    review: the audit-chain head at its signing).  Insertions inside a `changes` row are
    found through the record's case."""
    found = connection.execute(
        sa.select(AUDIT.c.seq, AUDIT.c.row_hash)
        .where(
            AUDIT.c.table_name == table,
            AUDIT.c.record_id == str(record_id),
            AUDIT.c.action == "insert",
        )
        .order_by(AUDIT.c.seq.desc())
        .limit(1)
    ).first()
    best = None if found is None else (int(found[0]), str(found[1]))
    if case_id is not None:
        for row in connection.execute(
            sa.select(AUDIT)
            .where(AUDIT.c.case_id == case_id, AUDIT.c.action == CHANGES)
            .order_by(AUDIT.c.seq.desc())
        ):
            if best is not None and int(row.seq) < best[0]:
                break
            if any(
                e.action == "insert" and e.table == table and e.record_id == str(record_id)
                for e in _entries(row)
            ):
                best = (int(row.seq), str(row.row_hash))
                break
    return None if best is None else best[1]
