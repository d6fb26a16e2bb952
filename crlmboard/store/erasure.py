"""Erasing one patient for good (T39): the case's records, and the values its audit rows hold.

The audit trail is append-only and hash-chained, and every row keeps before/after values —
names and MRNs included.  Erasure therefore works in one transaction:

1. the case's clinical rows are deleted without audit rows of their own (a delete row would
   keep the values it erases): the case, its primary tumour, molecular profile, surgical
   plan, extrahepatic disease, labs, chemotherapy and immunotherapy, procedures, imaging
   time points and their lesions, surgery outcome, reviews, review drafts, follow-ups and
   agenda entries; the case list's summary row and the stored older engines' comparison
   go with the case and, on SQLite, its full-text entry (`patient_search`, merged so no
   old segment keeps it);
2. each audit row of the case becomes a *tombstone*: its `before_json` emptied and its
   `after_json` replaced by `{"erased": <erasure id>}`.  Everything else stays as written —
   time, actor, action, table, record id, case id, field names, `prev_hash` and the stored
   `row_hash` — so the chain's links and every checkpoint stay valid;
3. an `erasure` row is appended to the chain (actor from the database as for every row):
   the erasure id (random), the reason, how many records of which tables were deleted, and
   the seq and stored hash of every tombstoned row.  It names no patient.

`audit.verify_chain` accepts a tombstone only when a later erasure row — itself verified —
lists its seq and stored hash with the same erasure id; any other row whose values no longer
match its hash is still "changed after it was written".  Before wiping, every audit row of
the case is verified against its stored hash: erasure refuses to run over a tampered row
(it would otherwise erase the evidence).

Afterwards on SQLite (`scrub_file`): FTS merge, VACUUM and `wal_checkpoint(TRUNCATE)`, with
`secure_delete` on during the erasure itself, so no freed page, WAL frame or index segment
keeps a value.  On PostgreSQL (`scrub_server`): VACUUM of the touched tables; dead row
versions are then free space that later writes overwrite, and the server's WAL, archives,
replicas and dumps are beyond this program.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crlmboard.store import audit
from crlmboard.store import tables as t

ERASURE = audit.ERASURE

# The tables holding a case's rows by `case_id`, in the order they are deleted in: what
# refers to a row before the row (lesions go first, through their time point).
_CASE_TABLES = (
    "review_draft",
    "agenda_item",
    "review_follow_up",
    "review",
    "surgery_outcome",
    "procedure",
    "lab_result",
    "chemotherapy_cycle",
    "immunotherapy_dose",
    "extrahepatic_disease",
    "surgical_plan",
    "molecular_profile",
    "primary_tumour",
    "imaging_timepoint",
    "engine_comparison",  # derived (0012), audited (0013): goes with the case like the rest
)
_TOUCHED = ("patient", "lesion_measurement", *_CASE_TABLES, "audit_event")
_TABLES = t.metadata.tables

_SQLITE_GUARDS = ("audit_event_no_update",)
_SQLITE_SIGNED_GUARDS = ("review_signed_no_delete",)
_PG_GUARD = ("audit_event", "audit_event_append_only")
_PG_SIGNED_GUARD = ("review", "review_signed_immutable")


class ErasureRefused(Exception):
    """The erasure may not run (the message says why); nothing was changed."""


class AuditRowTampered(ErasureRefused):
    """An audit row of the case no longer matches its hash: erasing would hide that."""


@dataclass(frozen=True)
class CaseFacts:
    """What the erasure needs to know before it starts (no values)."""

    case_id: int
    signed_reviews: int
    audit_rows: int
    first_audit_seq: int | None


@dataclass
class Erased:
    """What one erasure did (no patient values)."""

    erasure_id: str
    case_id: int
    records: dict[str, int] = field(default_factory=dict)
    audit_rows: list[tuple[int, str]] = field(default_factory=list)
    signed_reviews: int = 0
    seq: int | None = None  # the erasure row's place in the chain

    @property
    def first_seq(self) -> int | None:
        return self.audit_rows[0][0] if self.audit_rows else None


def new_erasure_id() -> str:
    return "E-" + secrets.token_hex(8)


def case_facts(session: Session, case_id: int) -> CaseFacts:
    review = _TABLES["review"]
    signed = session.execute(
        sa.select(sa.func.count())
        .select_from(review)
        .where(review.c.case_id == case_id, review.c.signed_at.is_not(None))
    ).scalar_one()
    count, first = session.execute(
        sa.select(sa.func.count(), sa.func.min(audit.AUDIT.c.seq)).where(
            audit.AUDIT.c.case_id == case_id
        )
    ).one()
    return CaseFacts(case_id, int(signed), int(count), None if first is None else int(first))


def patient_names(session: Session, mrn: str) -> tuple[str | None, str | None] | None:
    """(family name, given name) of the case with `mrn`, None when there is none."""
    patient = _TABLES["patient"]
    found = session.execute(
        sa.select(patient.c.family_name, patient.c.given_name).where(patient.c.mrn == mrn)
    ).first()
    return None if found is None else (found[0], found[1])


def may_erase(session: Session) -> bool:
    """Whether this connection may erase: on SQLite the OS account that opened the file
    (it owns the file anyway); on PostgreSQL only the schema owner or a superuser — the one
    role that may lift the append-only triggers for the length of the transaction."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(sa.text("SELECT crlmboard_is_owner()")).scalar())


def _of_case(case_id: int) -> sa.ColumnElement[bool]:
    """The audit rows of a case not erased before (SQLite gives a freed id again: a new
    case may share its id with an erased one's tombstones)."""
    a = audit.AUDIT.c
    return sa.and_(
        a.case_id == case_id,
        sa.not_(sa.and_(a.before_json.is_(None), a.after_json.like('{"erased":%'))),
    )


def _verify_case_rows(session: Session, case_id: int) -> list[tuple[int, str]]:
    """(seq, stored hash) of the case's audit rows, each verified against its stored hash;
    raises AuditRowTampered for a row that does not match."""
    found: list[tuple[int, str]] = []
    for row in audit.raw_entries(session, where=_of_case(case_id)):
        values = row._mapping
        seq = int(values["seq"])
        try:
            ok = audit.row_hash(str(values["prev_hash"]), values) == values["row_hash"]
        except Exception:  # a damaged value: the same refusal
            ok = False
        if not ok:
            raise AuditRowTampered(
                f"audit row {seq} of this case no longer matches its hash (changed outside "
                "crlmboard); erasing it would hide that. Nothing was erased; run "
                "`crlmboard check` and resolve the damage first."
            )
        found.append((seq, str(values["row_hash"])))
    return found


def erase_case(
    session: Session,
    case_id: int,
    *,
    reason: str,
    including_signed: bool = False,
    erasure_id: str | None = None,
) -> Erased:
    """Erase one case inside the caller's write transaction (see the module docstring).
    Raises ErasureRefused (nothing changed) when signed reviews exist and
    `including_signed` is not given, or when an audit row of the case was tampered with."""
    dialect = session.get_bind().dialect.name
    facts = case_facts(session, case_id)
    if facts.signed_reviews and not including_signed:
        raise ErasureRefused(
            f"this case has {facts.signed_reviews} signed review(s): signed board decisions "
            "are medical records with a retention duty. Nothing was erased. Erase it anyway "
            "only where that duty does not apply, with --including-signed-reviews."
        )
    erased = Erased(erasure_id or new_erasure_id(), case_id, signed_reviews=facts.signed_reviews)
    erased.audit_rows = _verify_case_rows(session, case_id)
    if dialect == "sqlite":
        session.execute(sa.text("PRAGMA secure_delete = ON"))
    guards = _lift_guards(session, dialect, including_signed and facts.signed_reviews > 0)
    connection = session.connection()
    timepoint = _TABLES["imaging_timepoint"]
    timepoints = sa.select(timepoint.c.id).where(timepoint.c.case_id == case_id)
    lesions = _TABLES["lesion_measurement"]
    erased.records["lesion_measurement"] = _count(
        connection.execute(
            sa.delete(lesions).where(lesions.c.timepoint_id.in_(timepoints.scalar_subquery()))
        )
    )
    for name in _CASE_TABLES:
        table = _TABLES[name]
        erased.records[name] = _count(
            connection.execute(sa.delete(table).where(table.c.case_id == case_id))
        )
    patient = _TABLES["patient"]
    erased.records["patient"] = _count(
        connection.execute(sa.delete(patient).where(patient.c.id == case_id))
    )
    erased.records = {k: v for k, v in erased.records.items() if v}
    marker = audit.tombstone_text(erased.erasure_id)
    seqs = [seq for seq, _ in erased.audit_rows]
    for start in range(0, len(seqs), 500):  # bound the statement's parameters
        connection.execute(
            sa.update(audit.AUDIT)
            .where(audit.AUDIT.c.seq.in_(seqs[start : start + 500]))
            .values(before_json=None, after_json=marker)
        )
    _restore_guards(session, dialect, guards)
    if dialect == "sqlite" and _has_table(session, "patient_search"):
        # merge the full-text index into one segment: the deleted entry's tokens go too
        session.execute(sa.text("INSERT INTO patient_search(patient_search) VALUES ('optimize')"))
    log = audit.AuditLog.of(session)
    log.record(
        ERASURE,
        "patient",
        erased.erasure_id,
        case_id=None,
        fields=["erased"],
        after={
            "erasure": erased.erasure_id,
            "reason": reason,
            "records": erased.records,
            "signed_reviews": erased.signed_reviews,
            "erased": [[seq, digest] for seq, digest in erased.audit_rows],
        },
    )
    log.flush()
    head = audit.read_head(session)
    erased.seq = None if head is None else head.seq
    return erased


def _count(result: Any) -> int:
    return int(result.rowcount)


def _has_table(session: Session, name: str) -> bool:
    return (
        session.execute(
            sa.text("SELECT 1 FROM sqlite_master WHERE name = :name"), {"name": name}
        ).first()
        is not None
    )


def _lift_guards(session: Session, dialect: str, signed: bool) -> list[tuple[str, str]]:
    """Lift the triggers that keep the audit trail append-only (and, for a forced erasure,
    signed reviews undeletable) for this transaction only: on SQLite dropped and made
    again from their own stored SQL before the commit; on PostgreSQL disabled and enabled
    (the schema owner's right; DDL is transactional there).  Returns what to restore."""
    lifted: list[tuple[str, str]] = []
    if dialect == "sqlite":
        names = _SQLITE_GUARDS + (_SQLITE_SIGNED_GUARDS if signed else ())
        for name in names:
            sql = session.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"),
                {"n": name},
            ).scalar()
            if sql is None:
                continue  # missing already: `check` reports it
            session.execute(sa.text(f"DROP TRIGGER {name}"))
            lifted.append((name, str(sql)))
    elif dialect == "postgresql":
        for table, name in (_PG_GUARD, *((_PG_SIGNED_GUARD,) if signed else ())):
            session.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER {name}"))
            lifted.append((table, name))
    return lifted


def _restore_guards(session: Session, dialect: str, lifted: Sequence[tuple[str, str]]) -> None:
    for first, second in lifted:
        if dialect == "sqlite":
            session.execute(sa.text(second))
        else:
            session.execute(sa.text(f"ALTER TABLE {first} ENABLE TRIGGER {second}"))


def scrub_file(engine: Engine) -> bool:
    """After the erasure's commit on SQLite: VACUUM rewrites the file without the freed
    pages, and `wal_checkpoint(TRUNCATE)` folds the WAL (which VACUUM writes through)
    back and cuts it to nothing.  False when the WAL could not be emptied (another program
    still reads old pages of it): it is emptied at the next checkpoint after that."""
    raw = engine.raw_connection()  # the driver's own: autocommit, no BEGIN around VACUUM
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, frames, _done = cursor.fetchone() or (1, -1, -1)
        cursor.close()
    finally:
        raw.close()
    return not busy and frames in (0, -1)


def scrub_server(engine: Engine) -> None:
    """After the erasure's commit on PostgreSQL: VACUUM the touched tables (outside a
    transaction), so the dead row versions become free space that later writes reuse."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in _TOUCHED:
            connection.exec_driver_sql(f"VACUUM {table}")
