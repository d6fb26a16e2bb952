"""`board.erasure`: erasing one patient for good, when that is allowed (T39).

Who and when (what a department expects of clinical software):
- erasure is an exceptional act — a patient entered by mistake, a test or demo patient in a
  live database, an erasure right the hospital has confirmed — never a way to tidy up;
- on SQLite the OS account that opens the file (it owns the file); on PostgreSQL only the
  schema owner or a superuser (IT's account that runs `crlmboard init`/upgrades): the one
  role that may lift the append-only triggers for one transaction.  A crlmboard admin
  manages users but cannot erase;
- the MRN is typed twice (the command's argument and a confirmation) and a reason is
  required; the reason is kept in the audit trail, so it must not name the patient (a
  reason holding the MRN or the patient's name is refused);
- a case with signed reviews is refused: signed board decisions are medical records with
  a retention duty.  `including_signed` overrides that where the duty does not apply (a
  test patient whose reviews were signed in a trial run);
- an audit row of the case that no longer matches its hash stops the erasure (it would
  erase the evidence): `check` first.

What it does: `store/erasure.py` (one transaction: the records deleted, the audit rows'
values wiped to tombstones, an erasure row appended; the chain and every checkpoint stay
valid).  Then on SQLite the file is vacuumed and its WAL truncated, and a new verified
backup is made, so the database, its `-wal` and the newest backup hold no trace; older
backups still hold the patient until retention removes them: they are listed with the day
from which retention removes them.  On PostgreSQL the touched tables are vacuumed; the
server's own WAL, archives, replicas and dumps are beyond crlmboard (said in the result).
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from crlmboard.services.changes import BoardError, CaseNotFound, ChangeSet, NotAllowed
from crlmboard.services.database import Database
from crlmboard.services.maintenance import MaintenanceService
from crlmboard.store import backup, erasure
from crlmboard.store.backup import BackupInfo
from crlmboard.store.repositories import CaseRepository, NotFound

log = logging.getLogger("crlmboard.erasure")

REASON_MIN = 10  # characters: "test patient" passes, "x" does not

SERVER_LIMITS = (
    "On a PostgreSQL store crlmboard deletes the rows, wipes their audit values and "
    "vacuums the tables; the server's write-ahead log, WAL archives, replicas and "
    "pg_dump/base backups still hold the patient until they expire under the server's "
    "own retention: ask the database administrators."
)


class ErasureRefused(BoardError, ValueError):
    """The erasure was refused (bad input, signed reviews, a damaged trail); nothing changed."""


@dataclass(frozen=True)
class OlderBackup:
    """A backup made before the erasure that still holds the patient."""

    path: Path
    created: datetime | None
    expires: date | None  # retention deletes it at the first backup after this day
    verified: bool

    def sentence(self) -> str:
        made = self.created.strftime("%Y-%m-%d %H:%M UTC") if self.created else "unknown time"
        until = (
            f"expires {self.expires.isoformat()} (retention deletes it at the first backup "
            "from that day on, sooner when it is not its day's newest and ten newer exist)"
            if self.expires
            else "kept until deleted by hand (rotation is paused after a restore)"
        )
        return f"{self.path.name} (made {made}): {until}"


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure did (no patient values)."""

    erasure_id: str
    records: dict[str, int]
    audit_rows: int
    signed_reviews: int
    new_backup: BackupInfo | None
    older_backups: tuple[OlderBackup, ...] = ()
    notes: tuple[str, ...] = ()
    changes: ChangeSet = field(default_factory=ChangeSet.all)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def check_reason(reason: str | None, mrn: str, names: tuple[str | None, ...]) -> str:
    """The reason as recorded, or ErasureRefused: missing, too short, or naming the
    patient (it stays in the audit trail, which must not identify them)."""
    text = " ".join((reason or "").split())
    if len(text) < REASON_MIN:
        raise ErasureRefused(
            "Give the reason for the erasure (--reason, at least "
            f"{REASON_MIN} characters, e.g. 'test patient entered in the live database'). "
            "Nothing was erased."
        )
    folded = _folded(text)
    parts = [mrn, *(n for n in names if n)]
    if any(len(p) >= 2 and _folded(p) in folded for p in parts):
        raise ErasureRefused(
            "The reason must not name the patient (it stays in the audit trail): leave out "
            "the MRN and the name. Nothing was erased."
        )
    return text


class ErasureService:
    """Erasing one patient (see the module docstring)."""

    def __init__(self, database: Database, maintenance: MaintenanceService):
        self.database = database
        self.maintenance = maintenance

    def erase(
        self,
        mrn: str,
        *,
        reason: str | None,
        confirm_mrn: str | None,
        including_signed: bool = False,
    ) -> ErasureResult:
        """Erase the case with `mrn`, its records and its audit values; the erasure is
        recorded without naming the patient.  Refused (ErasureRefused, CaseNotFound,
        NotAllowed), nothing changes, when the confirmation differs, the reason is missing
        or names the patient, the login may not erase, the case has signed reviews (unless
        `including_signed`) or an audit row of the case was tampered with."""
        if confirm_mrn is None or confirm_mrn.strip() != mrn:
            raise ErasureRefused(
                "The MRN typed to confirm the erasure does not match; nothing was erased."
            )
        self.database.check_writable()
        with self.database.read() as session:
            names = erasure.patient_names(session, mrn)
            if names is None:
                raise CaseNotFound(f"There is no case with MRN {mrn}; nothing was erased.")
            if not erasure.may_erase(session):
                raise NotAllowed(
                    f"Your login ({self.database.user}) may not erase patients: on a "
                    "PostgreSQL store only the owner of the crlmboard schema may. "
                    "Nothing was erased."
                )
        recorded_reason = check_reason(reason, mrn, names)
        try:
            with self.database.write() as session:
                case_id = CaseRepository(session).id_of(mrn)
                done = erasure.erase_case(
                    session,
                    case_id,
                    reason=recorded_reason,
                    including_signed=including_signed,
                )
        except NotFound:
            raise CaseNotFound(f"There is no case with MRN {mrn}; nothing was erased.") from None
        except erasure.ErasureRefused as refused:
            raise ErasureRefused(f"The erasure was refused: {refused}") from None
        log.warning("erasure %s: one case erased", done.erasure_id)
        notes: list[str] = []
        new_backup = None
        older: tuple[OlderBackup, ...] = ()
        path = self.database.path
        if path is None:
            with self.database.alone():
                erasure.scrub_server(self.database.engine)
            notes.append(SERVER_LIMITS)
        else:
            with self.database.alone():
                emptied = erasure.scrub_file(self.database.engine)
            if not emptied:
                notes.append(
                    "Another program still reads this database: its write-ahead log "
                    f"({path.name}-wal) could not be emptied now and still holds the "
                    "patient until that program closes the database."
                )
            new_backup = self.maintenance.backup()
            older = self._older_backups(path, new_backup, done.first_seq)
            if not new_backup.verified:
                notes.append(
                    "The backup made after the erasure failed verification; make one "
                    "with `crlmboard backup` before relying on the backups."
                )
        return ErasureResult(
            done.erasure_id,
            dict(done.records),
            len(done.audit_rows),
            done.signed_reviews,
            new_backup,
            older,
            tuple(notes),
        )

    def _older_backups(
        self, path: Path, newest: BackupInfo, first_seq: int | None
    ) -> tuple[OlderBackup, ...]:
        """The backups that still hold the patient: made before the erasure, with an audit
        head at or after the case's first audit row (a backup without one: listed)."""
        found = []
        paused = backup.rotation_paused(path)
        for info in backup.list_backups(path, hash_files=False):
            if info.path == newest.path:
                continue
            seq = None if info.audit_head is None else info.audit_head.seq
            if first_seq is not None and seq is not None and seq < first_seq:
                continue  # made before the patient came
            expires = None
            if info.created is not None and not paused:
                expires = (info.created + timedelta(days=backup.KEEP_DAYS)).date()
            found.append(OlderBackup(info.path, info.created, expires, info.verified))
        return tuple(found)
