"""`board.maintenance`: backups, restore, check and the audit trail of the open database.

Opening a database safely (lock, checks, upgrade, backups at open and close) is the
`Database`'s own work (services/database.py).  Here: a backup on request, `restore` (puts a
backup back after backing up the current state), `check` (every check there is) and the
audit trail.  None of this writes a patient's name or MRN to the log.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from crlmboard import __version__
from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.services import about
from crlmboard.services.changes import (
    BackupMissing,
    BadLocation,
    BoardError,
    Busy,
    CaseNotFound,
    ChangeSet,
    DatabaseCorrupt,
    DatabaseExists,
    DatabaseMissing,
    DiskFull,
    LoginFailed,
    LoginRequired,
    NotAllowed,
    OtherDatabase,
    OutputUnwritable,
    PassphraseRequired,
    ReadOnly,
    SignedReviewLocked,
    WriteStopped,
    WrongPassphrase,
)
from crlmboard.services.database import (
    Database,
    Now,
    describe_backup,
    location_url,
    maybe_backup,
    missing_database,
    prepare_file,
    refuse_if_corrupt,
    unlock,
    utc_now,
)
from crlmboard.store import (
    audit,
    backup,
    checkpoints,
    cipher,
    encryption,
    integrity,
    keys,
    migrate,
    signing,
)
from crlmboard.store.audit import Actor, AuditEntry, AuditHead
from crlmboard.store.backup import BackupFailed, BackupInfo
from crlmboard.store.database import (
    Session,
    StoreError,
    audited_write,
    checkpoint,
    checkpoint_file,
    create_database_engine,
    database_id,
    database_url,
    is_sqlite,
    sqlite_library_version,
    sqlite_path,
)
from crlmboard.store.database import database_id as store_database_id
from crlmboard.store.lock import DatabaseLock, LockBusy
from crlmboard.store.repositories import CaseRepository, NotFound

__all__ = [
    "AuditEntry",
    "AuditHead",
    "BackupCancelled",
    "BackupInfo",
    "BackupMissing",
    "BadLocation",
    "Busy",
    "CheckReport",
    "DatabaseCorrupt",
    "DatabaseExists",
    "DatabaseMissing",
    "DiskFull",
    "LoginFailed",
    "LoginRequired",
    "MaintenanceService",
    "NotAllowed",
    "OtherDatabase",
    "OutputUnwritable",
    "PassphraseRequired",
    "ReadOnly",
    "RestoreResult",
    "SignedReviewLocked",
    "WriteStopped",
    "WrongPassphrase",
    "describe_backup",
    "location_url",
    "maybe_backup",
    "missing_database",
    "restore_database",
    "sqlite_warning",
    "unlock",
]


class BackupCancelled(BoardError):
    """A backup on request was stopped (Cancel) before it was complete: nothing written."""


log = logging.getLogger("crlmboard.maintenance")

COMMAND_LOCK_WAIT = 10.0  # seconds a command-line write waits for the writer lock
Progress = Callable[[str, int, int], object]


def sqlite_warning() -> str | None:
    """A warning line when the SQLite library has the WAL-reset bug (None otherwise)."""
    return about.sqlite_warning(sqlite_library_version())


# -- check ---------------------------------------------------------------------------------


@dataclass
class CheckReport:
    """What `check` found; `ok` when there is no problem (warnings allowed)."""

    database: str
    sqlite_version: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    information: list[str] = field(default_factory=list)  # e.g. erasures: never problems
    audit_rows: int = 0  # audit rows walked
    audit_head: AuditHead | None = None
    # the quick check (`since_checkpoint`): the signed row the walk began after, and what
    # only the full check does
    since: AuditHead | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"Database {self.database}", f"SQLite {self.sqlite_version}"]
        out += [f"warning: {w}" for w in self.warnings]
        out += [f"ok: {p}" for p in self.passed]
        out += [f"info: {i}" for i in self.information]
        out += [f"not checked (quick check): {s}" for s in self.skipped]
        out += [f"PROBLEM: {p}" for p in self.problems]
        out.append("No problems found." if self.ok else f"{len(self.problems)} problem(s) found.")
        return out


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did; the whole database was replaced (`changes.everything`)."""

    restored: Path
    safety_backup: Path | None
    kept_aside: Path | None
    notes: tuple[str, ...] = ()
    changes: ChangeSet = field(default_factory=ChangeSet.all)


# -- the service ---------------------------------------------------------------------------


class MaintenanceService:
    """Backups, restore, check and the audit trail of the open database."""

    def __init__(self, database: Database):
        self.database = database

    @property
    def path(self) -> Path | None:
        return self.database.path

    def _need_file(self, what: str) -> Path:
        path = self.path
        if path is None:
            raise BoardError(
                f"{what} works on a SQLite database file; a PostgreSQL "
                "database is backed up with the server's own tools (pg_dump)."
            )
        return path

    # -- audit -------------------------------------------------------------------------

    def case_history(self, mrn: str) -> list[AuditEntry]:
        """Who changed what in a case, and when (oldest first)."""
        with self.database.read() as session:
            try:
                case_id = CaseRepository(session).id_of(mrn)
            except NotFound:
                raise CaseNotFound(f"There is no case with MRN {mrn}.") from None
            return audit.history(session, case_id)

    def database_id(self) -> str | None:
        """The id that names this database for good (migration 0006)."""
        return database_id(self.database.engine)

    def audit_head(self) -> AuditHead | None:
        """The newest audit row (sequence number and hash), e.g. for a signed PDF footer."""
        with self.database.read() as session:
            return audit.read_head(session)

    # -- backups -----------------------------------------------------------------------

    def list_backups(self) -> list[BackupInfo]:
        """This database's backups, newest first, each marked verified or not."""
        path = self.path
        return [] if path is None else backup.list_backups(path)

    def backup(
        self,
        destination: str | os.PathLike[str] | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> BackupInfo:
        """A backup now: into the backups folder (counted by retention) or to a file.
        `progress(done, total)` hears of the pages copied; False stops the backup and
        leaves nothing of it (`BackupCancelled`).  The backups the board takes by itself
        (before an upgrade, a restore, an erasure, a folder import) take no progress and
        cannot be stopped."""
        path = self._need_file("Backup")
        # the writer lock only while the snapshot is taken (`create_backup`): other
        # processes' saves go on while the pages are copied (T24)
        try:
            info = backup.create_backup(
                path,
                reason="on request",
                now=self.database.now(),
                app_version=__version__,
                destination=None if destination is None else Path(destination),
                progress=progress,
                sign=signing.backup_signer(path),
                hold=self.database.holding_lock,
            )
        except backup.BackupCancelled as cancelled:
            raise BackupCancelled(str(cancelled)) from None
        except BackupFailed as error:
            if destination is not None:
                raise OutputUnwritable(f"{destination}: {error}") from None
            raise BoardError(str(error)) from None
        except OSError as error:
            if destination is None:  # the backups folder beside the database
                folder = backup.backup_dir(path)
                why = (
                    "the folder is read-only"
                    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
                    else error.strerror
                )
                raise BoardError(
                    f"No backup was made: it cannot be written into {folder} ({why}). "
                    "Make one to a writable place with Backup to a file (crlmboard "
                    "backup -o FILE)."
                ) from None
            raise OutputUnwritable(
                f"{destination}: the backup cannot be written there ({error.strerror})."
            ) from None
        if destination is None and info.verified:
            with self.database.holding_lock():
                backup.prune(path, self.database.now())
        log.info("backup made (%s)", "to a chosen file" if destination else "backups folder")
        return info

    def backup_before(self, operation: str) -> BackupInfo | None:
        """The backup taken before a risky operation (a folder import): made unless the
        newest backup already holds the current state; never throttled."""
        return self.database.backup_before(operation)

    def restore(
        self, source: str | os.PathLike[str], *, other_database: bool = False
    ) -> RestoreResult:
        """Put a backup in place of this database (after backing up the current state);
        automatic rotation then pauses until `resume_rotation`.  A backup of another
        database is refused unless `other_database`."""
        self._need_file("Restore")
        with self.database.replacing_file() as path:
            try:
                return _restore(
                    path, Path(source), self.database.actor, self.database.now, other_database
                )
            except StoreError as error:
                raise BoardError(str(error)) from None

    def rotation_paused(self) -> bool:
        path = self.path
        return path is not None and backup.rotation_paused(path)

    def resume_rotation(self) -> ChangeSet:
        """The user confirmed a restore: automatic thinning of backups may go on."""
        path = self.path
        if path is None:
            return ChangeSet()
        backup.resume_rotation(path)
        return ChangeSet(settings=frozenset({"backup_rotation"}))

    # -- check -------------------------------------------------------------------------

    def check(
        self, progress: Progress | None = None, *, since_checkpoint: bool = False
    ) -> CheckReport:
        """Every check there is; never changes anything.  Each step reports what it finds
        and the next one runs whatever the damage (a step that fails outright says so).

        `since_checkpoint`: the quick check (T45) — the triggers, every checkpoint found
        (authentic, its row there with its hash) and the audit rows after the newest one the
        chain holds; the rows before it are vouched for by that signed checkpoint, so a
        rewrite of them that recomputed the hashes is still seen.  Left to the full check:
        SQLite's checks, a walk of the rows before the checkpoint (an edit that did not
        recompute hashes), and the records against their trail.  Without such a checkpoint
        (no key here, a PostgreSQL store) the whole chain is walked."""
        report = CheckReport(self.database.location, sqlite_library_version())
        warning = sqlite_warning()
        if warning:
            report.warnings.append(warning)
        path = self.path

        def step(name: str, work: Callable[[], None]) -> None:
            if progress:
                progress(name, 0, 1)
            try:
                work()
            except Exception as error:  # a damaged database may fail in ways not foreseen
                log.error("check step %s failed: %s", name, type(error).__name__)
                if _not_permitted(error):
                    report.problems.append(
                        f"the {name} check could not be completed: this login may not read "
                        "every table it needs; run the check as the database owner or an "
                        "administrator"
                    )
                    return
                report.problems.append(
                    f"the {name} check could not be completed ({type(error).__name__}): "
                    "the database is damaged there"
                )

        if path is not None and not since_checkpoint:
            step("SQLite", lambda: self._sqlite_checks(path, report, progress))
        with self.database.read() as session:
            chain = audit.ChainReport()
            anchor: checkpoints.Found | None = None
            step("trigger", lambda: self._trigger_check(session, report))

            def signed() -> None:
                nonlocal anchor
                anchor = self._checkpoint_check(session, report)

            if since_checkpoint:
                step("checkpoint", signed)

            def walk() -> None:
                nonlocal chain
                since = None
                if anchor is not None:
                    since = AuditHead(anchor.checkpoint.seq, anchor.checkpoint.hash)
                chain = audit.verify_chain(
                    session, lambda n: progress and progress("audit chain", n, 0), since=since
                )
                report.audit_rows, report.audit_head = chain.rows, chain.head
                report.since = since
                report.warnings += chain.warnings
                report.information += [note.sentence() for note in chain.erasures]
                if not chain.ok:
                    report.problems.append(
                        f"audit chain broken at row {chain.first_broken}: {chain.problem}"
                    )
                    report.problems += chain.problems[1:]
                elif since is None:
                    report.passed.append(f"audit chain ({chain.rows} rows)")
                else:
                    assert anchor is not None
                    head = since.seq if chain.head is None else chain.head.seq
                    report.passed.append(
                        f"audit chain after row {since.seq} ({chain.rows} rows to row {head}); "
                        f"rows 1–{since.seq} are vouched for by the "
                        f"{anchor.checkpoint.describe()} in {anchor.source}"
                    )

            step("audit chain", walk)
            if since_checkpoint:
                if anchor is None:
                    report.warnings.append(
                        "no signed checkpoint of this database could be verified here"
                        + (" (a PostgreSQL store)" if path is None else "")
                        + ": the whole audit chain was walked"
                    )
                else:
                    report.skipped.append(
                        f"a walk of audit rows 1–{anchor.checkpoint.seq} (an edit that did "
                        "not recompute the hashes after it)"
                    )
                if path is not None:
                    report.skipped.append("integrity_check and foreign_key_check")
                report.skipped.append(
                    "clinical records, signed reviews and case-list summaries against "
                    "their audit trail"
                )
                report.skipped.append("run `crlmboard check` without --since-checkpoint for all")
                if progress:
                    progress("done", 1, 1)
                log.info(
                    "quick check: %d problems, %d warnings",
                    len(report.problems),
                    len(report.warnings),
                )
                return report
            step("checkpoint", signed)

            def records() -> None:
                findings = integrity.Findings()
                integrity.check_records(
                    session,
                    findings,
                    unreadable_audit=chain.unreadable,
                    progress=lambda done, total: (
                        progress and progress("records against audit trail", done, total)
                    ),
                )
                report.warnings += findings.warnings
                found = findings.result()
                report.problems += found
                if not found:
                    report.passed.append(
                        "every clinical record, signed review, case-list summary and stored "
                        "engine comparison matches its audit trail"
                    )

            step("records against audit trail", records)
        if progress:
            progress("done", 1, 1)
        log.info("check: %d problems, %d warnings", len(report.problems), len(report.warnings))
        return report

    def _sqlite_checks(self, path: Path, report: CheckReport, progress: Progress | None) -> None:
        results = integrity.sqlite_checks(path, progress)
        for name, found in results.items():
            check_name = "integrity_check" if name == "integrity" else "foreign_key_check"
            if found:
                report.problems += [f"{check_name}: {p}" for p in found]
            else:
                report.passed.append(check_name)

    def _trigger_check(self, session: Session, report: CheckReport) -> None:
        missing = integrity.trigger_problems(session)
        report.problems += missing
        if not missing:
            report.passed.append("append-only and signed-review triggers present")

    def checkpoint(self) -> checkpoints.Checkpoint | None:
        """The newest checkpoint of the audit chain (see `Database.checkpoint`)."""
        return self.database.checkpoint()

    def printed_checkpoint(self) -> dict[str, object] | None:
        """The checkpoint a PDF carries, or None (never fails an export)."""
        return self.database.printed_checkpoint()

    def checkpoint_authentic(self, checkpoint: checkpoints.Checkpoint) -> bool | None:
        """Whether a checkpoint (from a PDF, a manifest) was made with this database's key;
        None when the key is not here."""
        if self.path is None:
            return signing.server_verifies(self.database.engine, checkpoint)
        key = keys.load_key(checkpoint.database_id)
        return None if key is None else checkpoints.authentic(key, checkpoint)

    def checkpoints_found(self, database_id: str) -> tuple[list[checkpoints.Found], list[str]]:
        """Every checkpoint of this database there is to find: the checkpoint file beside
        it, the manifests of its backups (verified or not), the key store's newest
        checkpoint and unsigned-rows mark.  Also the problems of the places themselves."""
        path = self.path
        found: list[checkpoints.Found] = []
        problems: list[str] = []
        if path is None:
            return found, problems
        listed, bad = checkpoints.read_sidecar(path)
        sidecar = checkpoints.sidecar_path(path).name
        found += [checkpoints.Found(c, f"the checkpoint file {sidecar}") for c in listed]
        if bad:
            problems.append(
                f"the checkpoint file {sidecar} holds lines that are not checkpoints "
                f"({', '.join(bad[:3])}): it was edited or damaged"
            )
        for info in backup.list_backups(path, hash_files=False):
            data = info.manifest.get("checkpoint")
            if data is None:
                continue
            try:
                found.append(
                    checkpoints.Found(
                        checkpoints.Checkpoint.from_dict(data), f"the backup {info.path.name}"
                    )
                )
            except ValueError:
                problems.append(
                    f"the checkpoint in the manifest of the backup {info.path.name} is not "
                    "readable: the manifest was edited"
                )
        for text, source in (
            (keys.load_latest(database_id), "the key store"),
            (keys.load_unsigned(database_id), "the key store"),
        ):
            if text is None:
                continue
            try:
                found.append(
                    checkpoints.Found(checkpoints.Checkpoint.from_dict(json.loads(text)), source)
                )
            except ValueError:
                problems.append("the checkpoint kept with the audit key is not readable")
        return found, problems

    def _checkpoint_check(self, session: Session, report: CheckReport) -> checkpoints.Found | None:
        """The chain against every checkpoint of it (see `store/checkpoints.py`); returns
        the newest checkpoint the chain holds (None: none, or no key here)."""
        path = self.path
        if path is None:
            return None
        database_id = store_database_id(session)
        if database_id is None:
            if audit.read_head(session) is not None:
                report.warnings.append(
                    "this database has no checkpoints yet (it was last changed by an older "
                    "crlmboard); they are written from its next change on"
                )
            return None
        found, problems = self.checkpoints_found(database_id)
        report.problems += problems
        key = keys.load_key(database_id)
        # The head now, from a connection of its own: a save may have been signed since
        # this check's snapshot was taken.
        verdict, head = signing.verify_now(self.database.engine, found, database_id, key)
        report.problems += verdict.problems
        report.warnings += verdict.warnings
        if key is not None and not any(f.checkpoint.database_id == database_id for f in found):
            if head is not None:
                report.problems.append(
                    "no checkpoint of this database was found although its audit key exists: "
                    "the checkpoint file, the backups and the key store's checkpoint were removed"
                )
            return None
        unsigned = checkpoints.unsigned_rows(
            None if verdict.newest is None else verdict.newest.checkpoint, head
        )
        if unsigned:
            report.problems.append(unsigned)
        if verdict.verified and not verdict.problems and not unsigned:
            report.passed.append(f"audit chain agrees with {verdict.verified} signed checkpoint(s)")
        return verdict.anchor


# -- restore ---------------------------------------------------------------------------------


def _restore(
    path: Path, source: Path, actor: Actor, now: Now, other_database: bool = False
) -> RestoreResult:
    """Restore with the writer lock held and no connection open."""
    source = source.expanduser().resolve()
    if not source.is_file():
        raise BackupMissing(f"There is no backup file {source}.")
    checked = backup.verify_backup(source, deep=True)
    theirs = checked.manifest.get("database_id") or backup.file_database_id(source)
    ours = backup.file_database_id(path)
    if theirs and ours and theirs != ours and not other_database:
        named = checked.manifest.get("database")
        raise OtherDatabase(
            f"The backup {source.name} is of another database"
            + (f" ({named}, id {theirs})" if named else f" (id {theirs})")
            + f", not of {path} (id {ours}); nothing was changed. To replace this database "
            "with it anyway, restore with --other-database."
        )
    if not checked.verified and checked.manifest:
        raise BoardError(
            f"The backup {source.name} failed verification ({checked.problem}); choose another one."
        )
    if checked.manifest.get("schema") is None and migrate.file_revision(source) is None:
        raise BoardError(f"{source.name} is not a crlmboard database; choose another file.")
    if not checked.manifest:  # a file made elsewhere: it must at least be a sound database
        try:
            problems = integrity.check_file(source)
        except (integrity.DatabaseCorrupt, integrity.FileUnreadable) as error:
            problems = [str(error)]
        if problems:
            raise BoardError(
                f"{source.name} is not a sound crlmboard database "
                f"({problems[0]}); choose another one."
            )
    moment = now()
    safety: BackupInfo | None = None
    aside: Path | None = None
    old_head = None
    corrupt = False
    if path.exists() and path.stat().st_size > 0:
        try:
            corrupt = bool(integrity.check_file(path))
        except (integrity.DatabaseCorrupt, integrity.FileUnreadable):
            corrupt = True
        if not corrupt:
            try:
                safety = backup.create_backup(
                    path,
                    reason="before restore",
                    now=moment,
                    app_version=__version__,
                    sign=signing.backup_signer(path),
                )
                old_head = safety.audit_head
            except BackupFailed as error:
                raise BoardError(
                    f"The current database could not be backed up before the "
                    f"restore, so nothing was changed: {error}"
                ) from None
    if corrupt:
        aside = backup.corrupt_name(path, moment)
        _keep_aside(path, aside)
    else:
        checkpoint_file(path)
    notes: list[str] = []
    details: dict[str, object] = {
        "backup": source.name,
        "backup_created": checked.created.isoformat() if checked.created else None,
        "replaced_head": None if old_head is None else old_head.as_dict(),
        "safety_backup": safety.path.name if safety else None,
        "kept_aside": aside.name if aside else None,
    }

    def finish(copy: Path) -> None:
        """On the restored copy, before it replaces the database: upgrade an older schema
        and append the `restore` audit row, so the swap brings both at once (a kill right
        after the swap leaves a restored, audited database; before it, the old one)."""
        if ours and not theirs and backup.adopt_database_id(copy, ours):
            details["database_id"] = ours  # a backup from before ids: still this database
        engine = create_database_engine(f"sqlite:///{copy}")
        try:
            before, after = migrate.upgrade(engine, actor)
            if before != after:
                notes.append(
                    f"The backup was of schema {before}; it was upgraded to {after} as it "
                    "was restored."
                )
            with audited_write(engine, actor, now) as session:
                audit.AuditLog.of(session).record(
                    "restore", "database", None, case_id=None, after=details
                )
            checkpoint(engine)
            signing.pending_restore_mark(engine, now())
        finally:
            engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)

    backup.pause_rotation(path, f"restored {source.name}")  # before: never prune wrongly
    backup.restore_file(source, path, finish)
    prepare_file(path, actor, now, notes)
    engine = create_database_engine(f"sqlite:///{path}")
    try:  # the restore's signed mark: checkpoints before it describe the replaced chain
        signing.promote_restore_mark(engine, path)
    finally:
        engine.dispose()
    log.info("restored a backup (rotation paused until confirmed)")
    return RestoreResult(source, safety.path if safety else None, aside, tuple(notes))


def _keep_aside(path: Path, aside: Path) -> None:
    """Keep a damaged database under `aside` (its -wal and -shm too); `path` stays until the
    restored file replaces it."""
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{aside}{suffix}"))
    try:
        os.link(path, aside)
    except OSError:
        shutil.copy2(path, aside)
    with contextlib.suppress(OSError):
        os.chmod(aside, 0o600)


def restore_database(
    where: str | os.PathLike[str] | None,
    source: str | os.PathLike[str],
    *,
    now: Now = utc_now,
    wait: float = COMMAND_LOCK_WAIT,
    other_database: bool = False,
    passphrase: str | None = None,
) -> RestoreResult:
    """Restore a backup without opening the database first (it may be damaged).  An
    encrypted backup needs the passphrase it was made with."""
    url = database_url(where)
    path = sqlite_path(url)
    if path is None or not is_sqlite(url):
        raise BoardError(
            "Restore works on a SQLite database file; restore a PostgreSQL "
            "database with the server's own tools."
        )
    backup_file = Path(source).expanduser().resolve()
    if backup_file.is_file() and encryption.is_encrypted(backup_file):
        unlock(backup_file, passphrase)
        if passphrase is not None:
            encryption.remember(path, passphrase)
    actor = Actor.current()
    lock = DatabaseLock(path, actor.app_user, "command")
    if not lock.acquire(wait):
        holder = lock.holder()
        lock.close()
        raise BoardError(str(LockBusy(path, holder)))
    try:
        return _restore(path, Path(source), actor, now, other_database)
    except StoreError as error:
        raise BoardError(str(error)) from None
    finally:
        lock.close()


# -- encryption at rest (SQLCipher) -----------------------------------------------------------

MIN_PASSPHRASE = 12
PASSPHRASE_WARNING = (
    "Keep the passphrase safe (a password manager, or sealed on paper with the department's "
    "IT): without it neither the database nor its backups can be opened, by anyone — there "
    "is no recovery."
)


def _file_of(where: str | os.PathLike[str] | None, what: str) -> Path:
    url = database_url(where)
    path = sqlite_path(url)
    if path is None or not is_sqlite(url):
        raise BoardError(
            f"{what} works on a SQLite database file; a PostgreSQL server encrypts its "
            "storage and connections itself."
        )
    if not path.is_file() or path.stat().st_size == 0:
        raise BoardError(f"There is no database at {path}.")
    return path


def _check_new_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise InvalidInput(
            [Problem("passphrase", f"use at least {MIN_PASSPHRASE} characters (a few words)")]
        )


@contextlib.contextmanager
def _locked_for_command(path: Path, actor: Actor, wait: float) -> Iterator[None]:
    lock = DatabaseLock(path, actor.app_user, "command")
    if not lock.acquire(wait):
        holder = lock.holder()
        lock.close()
        raise BoardError(str(LockBusy(path, holder)))
    try:
        yield
    finally:
        lock.close()


def _audit_file_event(path: Path, now: Now, action: str, after: dict[str, object]) -> None:
    engine = create_database_engine(f"sqlite:///{path}")
    try:
        with audited_write(engine, Actor.current(), now) as session:
            head = audit.read_head(session)
            log_ = audit.AuditLog.of(session)
            log_.record(action, "database", None, case_id=None, after=after)
            log_.flush()
        checkpoint(engine)
        # the event's audit row is signed like every saved change's (AUDIT-DESIGN.md)
        signing.sign_head(engine, path, now(), after=0 if head is None else head.seq, to_file=True)
    finally:
        engine.dispose()


def encrypt_database(
    where: str | os.PathLike[str] | None,
    passphrase: str,
    *,
    now: Now = utc_now,
    wait: float = COMMAND_LOCK_WAIT,
) -> int:
    """Encrypt a plain SQLite database and the backups in its backups folder with
    SQLCipher (each a verified copy swapped in); returns the number of backups encrypted.
    The event is audited (without the passphrase)."""
    path = _file_of(where, "Encryption")
    if encryption.is_encrypted(path):
        raise BoardError(
            f"The database {path} is already encrypted; `crlmboard rekey` changes its passphrase."
        )
    _check_new_passphrase(passphrase)
    refuse_if_corrupt(path)
    with _locked_for_command(path, Actor.current(), wait):
        try:
            done = cipher.encrypt_file(path, passphrase)
        except StoreError as error:
            raise BoardError(f"{error} The database was left as it was.") from None
        _audit_file_event(
            path, now, "encrypt", {"cipher": "SQLCipher 4", "backups_encrypted": done}
        )
    log.info("database encrypted (%d backups)", done)
    return done


def rekey_database(
    where: str | os.PathLike[str] | None,
    passphrase: str,
    new_passphrase: str,
    *,
    now: Now = utc_now,
    wait: float = COMMAND_LOCK_WAIT,
) -> int:
    """Change the passphrase of an encrypted database and of its backups made with the
    same one; returns the number of backups changed."""
    path = _file_of(where, "Changing the passphrase")
    if not encryption.is_encrypted(path):
        raise BoardError(f"The database {path} is not encrypted; `crlmboard encrypt` encrypts it.")
    unlock(path, passphrase)
    _check_new_passphrase(new_passphrase)
    with _locked_for_command(path, Actor.current(), wait):
        try:
            done = cipher.rekey_file(path, passphrase, new_passphrase)
        except StoreError as error:
            raise BoardError(f"{error} The passphrase was left as it was.") from None
        _audit_file_event(path, now, "rekey", {"backups_rekeyed": done})
    log.info("database passphrase changed (%d backups)", done)
    return done


def remember_passphrase(where: str | os.PathLike[str] | None, passphrase: str) -> None:
    """Keep an encrypted database's passphrase in the OS keyring (only when asked)."""
    path = _file_of(where, "The keyring")
    unlock(path, passphrase)
    try:
        encryption.keyring_store(path, passphrase)
    except encryption.EncryptionError as error:
        raise BoardError(str(error)) from None


def _not_permitted(error: BaseException) -> bool:
    """Whether the server refused a read for want of a right (SQLSTATE 42501), which is not
    damage."""
    original = getattr(error, "orig", None)
    return getattr(original, "sqlstate", None) == "42501"
