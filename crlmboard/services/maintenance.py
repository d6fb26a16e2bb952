"""`board.maintenance`: opening a database safely, backups, restore, check and the audit trail.

Opening a SQLite file takes the one-writer lock (a second app gets the database read-only,
with the holder named for a banner), removes what an interrupted upgrade or backup left,
runs `quick_check` (a damaged file is refused, naming the newest verified backup), refuses
a database from a newer app, upgrades an older one on a copy after a verified backup, and
backs up at open and close when something changed (at most hourly).  `check` runs every
check there is; `restore` puts a backup back after backing up the current state.  None of
this writes a patient's name or MRN to the log.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from crlmboard import __version__
from crlmboard.services import about
from crlmboard.services.board import BoardError, ChangeSet
from crlmboard.store import audit, backup, integrity, migrate, search_index
from crlmboard.store.audit import Actor, AuditEntry, AuditHead
from crlmboard.store.backup import BackupFailed, BackupInfo
from crlmboard.store.database import (
    StoreError,
    create_database_engine,
    database_id,
    database_url,
    has_wal_content,
    is_read_only_url,
    is_sqlite,
    read_only_medium,
    read_session,
    sqlite_library_version,
    sqlite_path,
    write_session,
)
from crlmboard.store.lock import DatabaseLock, LockBusy, LockHolder
from crlmboard.store.repositories import CaseRepository, NotFound, SignedReviewChanged

if TYPE_CHECKING:
    from crlmboard.services.board import Board

__all__ = [
    "AuditEntry",
    "AuditHead",
    "BackupInfo",
    "CheckReport",
    "DatabaseCorrupt",
    "MaintenanceService",
    "ReadOnly",
    "RestoreResult",
    "SignedReviewLocked",
    "open_database",
    "restore_database",
    "sqlite_warning",
]

log = logging.getLogger("crlmboard.maintenance")

BACKUP_INTERVAL = timedelta(hours=1)
COMMAND_LOCK_WAIT = 10.0  # seconds a command-line write waits for the writer lock
Now = Callable[[], datetime]
Progress = Callable[[str, int, int], object]


def utc_now() -> datetime:
    return datetime.now(UTC)


class DatabaseCorrupt(BoardError):
    """The database file is damaged; it was not opened."""

    def __init__(self, message: str, backup: BackupInfo | None = None):
        super().__init__(message)
        self.backup = backup


class WriteStopped(BoardError):
    """A write could not be made for a reason that stops every later one too (a full disk,
    a read-only database, the writer lock held elsewhere): a folder import stops there."""


class DiskFull(WriteStopped):
    """The disk holding the database is full; the write was not stored."""


class Busy(WriteStopped):
    """Another program holds the database for writing."""


class ReadOnly(WriteStopped):
    """The database is open read-only here; nothing can be changed."""


class SignedReviewLocked(BoardError):
    """An edit tried to change or remove a signed review (refused and audited)."""


class DatabaseMissing(BoardError, LookupError):
    """There is no database where one was asked for; nothing was created.  `backup` is its
    newest verified backup, when it has one (then it must not be created anew)."""

    def __init__(self, message: str, backup: BackupInfo | None = None):
        super().__init__(message)
        self.backup = backup


class BadLocation(BoardError, ValueError):
    """A database location that is no file path or database URL, or a file that is not a
    crlmboard database (nothing was changed)."""


class BackupMissing(BoardError, LookupError):
    """There is no backup file where one was named."""


class OutputUnwritable(BoardError, ValueError):
    """A file asked for (`backup -o`) could not be written there."""


class OtherDatabase(BoardError, ValueError):
    """A restore was asked to put another database's backup in place (refused unless the
    caller says so explicitly)."""


def sqlite_warning() -> str | None:
    """A warning line when the SQLite library has the WAL-reset bug (None otherwise)."""
    return about.sqlite_warning(sqlite_library_version())


def describe_backup(info: BackupInfo) -> str:
    when = (
        info.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        if info.created
        else "unknown date"
    )
    patients = "?" if info.patients is None else str(info.patients)
    return f"{info.path} ({when}, {patients} patients)"


# -- opening -------------------------------------------------------------------------------


@dataclass
class OpenedDatabase:
    """What `open_database` found and set up, for the Board."""

    engine: Engine
    url: str
    path: Path | None = None
    lock: DatabaseLock | None = None
    exclusive: bool = True
    read_only: bool = False
    read_only_reason: str | None = None
    holder: LockHolder | None = None
    notes: list[str] = field(default_factory=list)


def location_url(where: str | os.PathLike[str] | None) -> str:
    """The URL of a database location (`--db`), refused plainly when it is none."""
    try:
        url = database_url(where)
        sa.make_url(url).get_dialect()
    except (RuntimeError, ValueError, ImportError, sa.exc.ArgumentError) as error:
        raise BadLocation(
            f"{str(where)!r} is neither a database file path nor a database URL ({error})."
        ) from None
    if is_sqlite(url) and sqlite_path(url) is None:
        raise BadLocation(
            f"{url} is a database in memory: it starts empty and is gone when crlmboard "
            "ends. Give the path of a database file."
        )
    return url


def missing_database(path: Path, *, empty: bool = False, blank: bool = False) -> DatabaseMissing:
    """The refusal for a missing (or 0-byte, or blank) database file, naming its newest
    backup."""
    if blank:
        what = f"The file {path} holds no crlmboard database (a blank SQLite file)"
    elif empty:
        what = f"The database file {path} is empty (0 bytes)"
    else:
        what = f"There is no database at {path}"
    newest = backup.newest_verified(path) if path.parent.is_dir() else None
    if newest is not None:
        return DatabaseMissing(
            f"{what}, but it has backups: the newest verified backup is "
            f"{describe_backup(newest)}. Nothing was created. Restore it with "
            f"`crlmboard restore --db {path} {newest.path}`.",
            newest,
        )
    return DatabaseMissing(
        f"{what}; nothing was created. Check the path, or create a new database with "
        f"`crlmboard init --db {path}` (File ▸ New database in the app)."
    )


def _no_schema_problem(path: Path) -> str | None:
    """Why an existing, non-empty SQLite file without a crlmboard schema is refused (None
    when it has no tables at all: a blank database)."""
    from crlmboard.store.database import connect_sqlite

    connection = connect_sqlite(path, read_only=True)
    try:
        tables = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()[0]
    finally:
        connection.close()
    if tables:
        return (
            f"{path} is a SQLite file but not a crlmboard database; nothing was changed. "
            "Choose another file."
        )
    return None


def _check_can_open(url: str, path: Path, create: bool) -> None:
    """Refuse, before anything is created (a file, a folder, a lock), a location that
    holds no crlmboard database, unless `create`; never take over another program's file."""
    if path.is_dir():
        raise BadLocation(f"{path} is a folder, not a database file.")
    if path.exists() and read_only_medium(path) and has_wal_content(path):
        raise BadLocation(
            f"The database {path} is on a read-only medium (the folder {path.parent} cannot "
            "be written) and was not closed cleanly: its -wal file holds changes that "
            f"cannot be applied there. Copy the folder {path.parent} to a writable place "
            "and open the copy."
        )
    if not path.exists() or path.stat().st_size == 0:
        if not create:
            raise missing_database(path, empty=path.exists())
        return
    _refuse_if_corrupt(path)
    if migrate.file_revision(path) is None:
        problem = _no_schema_problem(path)
        if problem:
            raise BadLocation(problem)
        if not create:
            raise missing_database(path, blank=True)


def open_database(
    where: str | os.PathLike[str] | None,
    *,
    actor: Actor,
    now: Now = utc_now,
    exclusive: bool = True,
    wait: float = 0.0,
    create: bool = True,
) -> OpenedDatabase:
    """Open a database as reliability.md describes (see the module docstring).

    `exclusive`: hold the writer lock while open (the app); otherwise take it for the
    open-time work and then per write transaction (command line), waiting up to `wait` s.
    Without `create`, a location holding no crlmboard database is refused and nothing is
    created there (every command but `init` and `demo`; the app but File ▸ New)."""
    url = location_url(where)
    path = sqlite_path(url)
    try:
        if not is_sqlite(url) or path is None:
            engine = create_database_engine(url)
            if not create and migrate.current_revision(engine) is None:
                engine.dispose()
                raise DatabaseMissing(
                    f"The database {_describe(url)} has no crlmboard tables yet; nothing was "
                    f"created. Set it up with `crlmboard init --db URL`."
                )
            migrate.upgrade(engine, actor)
            return OpenedDatabase(engine, url)
        _check_can_open(url, path, create)
        if is_read_only_url(url) or (path.exists() and not _writable(path)):
            why = (
                f"it is on a read-only medium ({path.parent})"
                if read_only_medium(path)
                else "the database file is read-only"
            )
            return _open_read_only(url, path, why)
        return _open_file(url, path, actor, now, exclusive, wait)
    except BoardError:
        raise
    except StoreError as error:
        raise BoardError(str(error)) from None
    except Exception as error:
        reason = getattr(error, "orig", None) or error
        if path is not None and path.parent.is_dir() and not os.access(path.parent, os.W_OK):
            raise BadLocation(
                f"Cannot open the database {path}: the folder {path.parent} is not writable, "
                f"and SQLite needs to create files beside the database there ({reason}). Ask "
                "for write access to the folder, or copy the database to a writable one."
            ) from None
        raise BoardError(f"Cannot open the database {_describe(url)}: {reason}.") from None


class DatabaseExists(BoardError, ValueError):
    """`init` was asked for a location that already holds a database."""


def init_database(
    where: str | os.PathLike[str] | None, *, user: str | None = None, now: Now = utc_now
) -> Board:
    """Create a new, empty database (`crlmboard init`, File ▸ New database): only where
    there is none — never over a database, another program's file, or a 0-byte file that
    has backups (that one is restored, not replaced)."""
    from crlmboard.services.board import Board

    url = location_url(where)
    path = sqlite_path(url)
    if path is not None:
        if path.is_dir():
            raise BadLocation(f"{path} is a folder, not a database file.")
        if path.exists() and path.stat().st_size > 0:
            _refuse_if_corrupt(path)
            revision = migrate.file_revision(path)
            if revision is not None:
                raise DatabaseExists(
                    f"{path} already holds a crlmboard database (schema {revision}); "
                    "nothing was changed."
                )
            problem = _no_schema_problem(path)
            if problem:
                raise BadLocation(problem)
        if path.parent.is_dir() and backup.newest_verified(path) is not None:
            raise missing_database(path, empty=path.exists())
    else:
        engine = create_database_engine(url)
        try:
            revision = migrate.current_revision(engine)
        finally:
            engine.dispose()
        if revision is not None:
            raise DatabaseExists(
                f"The database {_describe(url)} already holds crlmboard tables (schema "
                f"{revision}); nothing was changed."
            )
    return Board.open(url, user=user, now=now, exclusive=False, create=True)


def _describe(url: str) -> str:
    from crlmboard.services.board import describe

    return describe(url)


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _open_read_only(
    url: str, path: Path, reason: str, holder: LockHolder | None = None
) -> OpenedDatabase:
    if not path.exists():
        raise BoardError(f"There is no database at {path}.")
    _refuse_if_corrupt(path)
    revision = migrate.file_revision(path)
    migrate.refuse_newer(revision)
    if revision != migrate.head_revision():
        raise BoardError(
            f"The database {path} uses an older schema ({revision}) and cannot "
            "be upgraded while it is read-only here."
        )
    engine = create_database_engine(url, read_only=True)
    return OpenedDatabase(engine, url, path, read_only=True, read_only_reason=reason, holder=holder)


def _open_file(
    url: str, path: Path, actor: Actor, now: Now, exclusive: bool, wait: float
) -> OpenedDatabase:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = DatabaseLock(path, actor.app_user, "app" if exclusive else "command")
    lock.wait = wait
    if not lock.acquire(wait):
        holder = lock.holder()
        lock.close()
        if exclusive:
            who = holder.describe() if holder else "another program"
            return _open_read_only(url, path, f"open for writing by {who}", holder)
        if (
            not path.exists()
            or path.stat().st_size == 0
            or migrate.file_revision(path) != migrate.head_revision()
        ):
            raise BoardError(str(LockBusy(path, holder)))
        _refuse_if_corrupt(path)
        engine = create_database_engine(url)
        per_write = DatabaseLock(path, actor.app_user, "command")
        per_write.wait = wait
        return OpenedDatabase(engine, url, path, per_write, exclusive=False)
    notes: list[str] = []
    try:
        if lock.took_over is not None:
            notes.append(
                "crlmboard was not closed properly last time; the database was checked and opened."
            )
        prepare_file(path, actor, now, notes)
        engine = create_database_engine(url)
        if migrate.file_revision(path) is None:
            migrate.upgrade(engine, actor)  # a new database
        else:
            with contextlib.suppress(BackupFailed):
                maybe_backup(path, "open", now())
        done = search_index.keep_usable(engine)
        if done is not None:
            log.info("%s (SQLite %s)", done, sqlite_library_version())
    except BaseException:
        lock.close()
        raise
    if not exclusive:
        lock.release()
    return OpenedDatabase(engine, url, path, lock, exclusive=exclusive, notes=notes)


def prepare_file(path: Path, actor: Actor, now: Now, notes: list[str]) -> None:
    """With the writer lock held: clean up, check, refuse newer, upgrade older (on a copy,
    after a verified backup)."""
    for leftover in [
        *migrate.leftover_copies(path),
        *path.parent.glob(f".{path.name}.restoring-*"),
    ]:
        leftover.unlink(missing_ok=True)
    backup.cleanup_unfinished(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    _refuse_if_corrupt(path)
    revision = migrate.file_revision(path)
    migrate.refuse_newer(revision)
    if revision is None or revision == migrate.head_revision():
        return
    try:
        taken = backup.create_backup(
            path,
            reason=f"before upgrade from schema {revision}",
            now=now(),
            app_version=__version__,
        )
    except BackupFailed as error:
        raise BoardError(
            f"The database needs an upgrade, but the backup before it could "
            f"not be made: {error} Nothing was changed."
        ) from None
    try:
        migrate.upgrade_file(path, actor, check=_copy_problems)
    except Exception as error:
        log.error("schema upgrade failed: %s", type(error).__name__)
        raise BoardError(
            f"The upgrade of the database from schema {revision} failed ({error}); the "
            f"database was left unchanged. A backup was taken before: "
            f"{describe_backup(taken)}."
        ) from None
    notes.append(
        f"The database was upgraded from schema {revision}; the backup taken before "
        f"is {taken.path.name}."
    )
    log.info("database upgraded from schema %s", revision)


def _copy_problems(copy: Path) -> list[str]:
    checks = integrity.sqlite_checks(copy)
    return checks["integrity"] + checks["foreign keys"]


def _refuse_if_corrupt(path: Path) -> None:
    try:
        problems = integrity.quick_check(path)
    except integrity.DatabaseCorrupt as error:
        problems = [str(error)]
    except sqlite3.Error as error:
        raise BoardError(f"Cannot open the database {path}: {error}.") from None
    if not problems:
        return
    log.error("quick_check failed at open (%d problems)", len(problems))
    newest = backup.newest_verified(path)
    if newest is not None:
        offer = (
            f"The newest verified backup is {describe_backup(newest)}; restore it with "
            f"`crlmboard restore {newest.path}` (File ▸ Restore in the app)."
        )
    else:
        offer = "There is no verified backup of it."
    raise DatabaseCorrupt(
        f"The database {path} is damaged ({problems[0]}) and was not opened; it is kept as "
        f"it is. {offer}",
        newest,
    )


# -- backups -------------------------------------------------------------------------------


def current_state(path: Path) -> tuple[AuditHead | None, int, str | None]:
    """The audit head, patient count and schema revision of a SQLite file."""
    from crlmboard.store.database import connect_sqlite

    connection = connect_sqlite(path, read_only=True)
    try:
        return (
            backup.audit_head(connection),
            backup.patient_count(connection),
            backup.schema_revision(connection),
        )
    finally:
        connection.close()


def maybe_backup(
    path: Path, reason: str, moment: datetime, *, throttle: bool = True
) -> BackupInfo | None:
    """Back up when something changed since the newest backup (and, with `throttle`, when
    that backup is over an hour old); prune once the new backup verified."""
    head, patients, schema = current_state(path)
    if head is None and patients == 0:
        return None  # nothing to protect yet
    newest = next(iter(backup.list_backups(path, hash_files=False)), None)
    if (
        newest is not None
        and newest.verified
        and newest.audit_head == head
        and newest.schema == schema
    ):
        return None  # unchanged since the newest backup
    if (
        throttle
        and newest is not None
        and newest.created is not None
        and timedelta(0) <= moment - newest.created < BACKUP_INTERVAL
    ):
        return None
    info = backup.create_backup(path, reason=reason, now=moment, app_version=__version__)
    if info.verified:
        backup.prune(path, moment)
    return info


# -- check ---------------------------------------------------------------------------------


@dataclass
class CheckReport:
    """What `check` found; `ok` when there is no problem (warnings allowed)."""

    database: str
    sqlite_version: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    audit_rows: int = 0
    audit_head: AuditHead | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"Database {self.database}", f"SQLite {self.sqlite_version}"]
        out += [f"warning: {w}" for w in self.warnings]
        out += [f"ok: {p}" for p in self.passed]
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
    """Backups, restore, check and the audit trail of one Board."""

    def __init__(self, board: Board):
        self.board = board

    @property
    def path(self) -> Path | None:
        return sqlite_path(self.board.url)

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
        with read_session(self.board.engine) as session:
            try:
                case_id = CaseRepository(session).id_of(mrn)
            except NotFound:
                from crlmboard.services.cases import CaseNotFound

                raise CaseNotFound(f"There is no case with MRN {mrn}.") from None
            return audit.history(session, case_id)

    def database_id(self) -> str | None:
        """The id that names this database for good (migration 0006)."""
        return database_id(self.board.engine)

    def audit_head(self) -> AuditHead | None:
        """The newest audit row (sequence number and hash), e.g. for a signed PDF footer."""
        with read_session(self.board.engine) as session:
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
        """A backup now: into the backups folder (counted by retention) or to a file."""
        path = self._need_file("Backup")
        with self.board.holding_lock():
            try:
                info = backup.create_backup(
                    path,
                    reason="on request",
                    now=self.board.now(),
                    app_version=__version__,
                    destination=None if destination is None else Path(destination),
                    progress=progress,
                )
            except BackupFailed as error:
                if destination is not None:
                    raise OutputUnwritable(f"{destination}: {error}") from None
                raise BoardError(str(error)) from None
            except OSError as error:
                if destination is None:
                    raise
                raise OutputUnwritable(
                    f"{destination}: the backup cannot be written there ({error.strerror})."
                ) from None
            if destination is None and info.verified:
                backup.prune(path, self.board.now())
        log.info("backup made (%s)", "to a chosen file" if destination else "backups folder")
        return info

    def backup_before(self, operation: str) -> BackupInfo | None:
        """The backup taken before a risky operation (a folder import): made unless the
        newest backup already holds the current state; never throttled."""
        path = self.path
        if path is None or self.board.read_only:
            return None
        with self.board.holding_lock():
            try:
                return maybe_backup(path, f"before {operation}", self.board.now(), throttle=False)
            except BackupFailed as error:
                raise BoardError(f"{error} The {operation} was not started.") from None

    def restore(
        self, source: str | os.PathLike[str], *, other_database: bool = False
    ) -> RestoreResult:
        """Put a backup in place of this database (after backing up the current state);
        automatic rotation then pauses until `resume_rotation`.  A backup of another
        database is refused unless `other_database`."""
        path = self._need_file("Restore")
        self.board.check_writable()
        with self.board.holding_lock():
            self.board.engine.dispose()
            try:
                result = _restore(
                    path, Path(source), self.board.actor, self.board.now, other_database
                )
            except StoreError as error:
                raise BoardError(str(error)) from None
            finally:
                self.board.engine = create_database_engine(self.board.url)
        self.board.mark_changed()
        return result

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

    def check(self, progress: Progress | None = None) -> CheckReport:
        """Every check there is; never changes anything."""
        report = CheckReport(self.board.location, sqlite_library_version())
        warning = sqlite_warning()
        if warning:
            report.warnings.append(warning)
        path = self.path
        if path is not None:
            results = integrity.sqlite_checks(path, progress)
            for name, found in results.items():
                check_name = "integrity_check" if name == "integrity" else "foreign_key_check"
                if found:
                    report.problems += [f"{check_name}: {p}" for p in found]
                else:
                    report.passed.append(check_name)
        with read_session(self.board.engine) as session:
            missing = integrity.trigger_problems(session)
            report.problems += missing
            if not missing:
                report.passed.append("append-only and signed-review triggers present")
            if progress:
                progress("audit chain", 0, 1)
            chain = audit.verify_chain(
                session, lambda n: progress and progress("audit chain", n, 0)
            )
            report.audit_rows, report.audit_head = chain.rows, chain.head
            report.warnings += chain.warnings
            if chain.ok:
                report.passed.append(f"audit chain ({chain.rows} rows)")
                anchor, compared = self._anchor_problem(session, chain.head)
                if anchor:
                    report.problems.append(anchor)
                elif compared is not None:
                    report.passed.append(f"audit chain agrees with the backup {compared}")
                elif chain.head is not None and path is not None:
                    report.warnings.append(
                        "no backup records this audit chain yet; make one with `crlmboard backup`"
                    )
            else:
                report.problems.append(
                    f"audit chain broken at row {chain.first_broken}: {chain.problem}"
                )
            if progress:
                progress("signed reviews", 0, 1)
            reviews = integrity.signed_review_problems(session)
            report.problems += reviews
            if not reviews:
                report.passed.append("signed review hashes")
            if progress:
                progress("records against audit trail", 0, 1)
            replayed = integrity.replay_problems(session)
            report.problems += replayed
            if not replayed:
                report.passed.append("every clinical record matches its audit trail")
        if progress:
            progress("done", 1, 1)
        log.info("check: %d problems, %d warnings", len(report.problems), len(report.warnings))
        return report

    def _anchor_problem(
        self, session: Session, head: AuditHead | None
    ) -> tuple[str | None, str | None]:
        """Compare the chain with the head recorded in the newest verified backup of the
        current timeline (made since the last restore, or the restored one): a rewritten or
        shortened chain no longer matches it.  Returns (problem, backup compared with)."""
        path = self.path
        if path is None:
            return None, None
        last_restore = session.execute(
            audit.AUDIT.select()
            .where(audit.AUDIT.c.action == "restore")
            .order_by(audit.AUDIT.c.seq.desc())
            .limit(1)
        ).first()
        since = restored = safety = None
        if last_restore is not None:
            since = audit.parse_time(last_restore.at)
            details = json.loads(last_restore.after_json or "{}")
            restored, safety = details.get("backup"), details.get("safety_backup")
        for info in backup.list_backups(path):
            if not info.verified or info.audit_head is None or info.path.name == safety:
                continue
            if (
                since is not None
                and (info.created is None or info.created < since)
                and info.path.name != restored
            ):
                continue
            anchor = info.audit_head
            name = info.path.name
            if head is None or anchor.seq > head.seq:
                return (
                    f"audit rows after row {head.seq if head else 0} are missing: the "
                    f"backup {name} recorded row {anchor.seq} as the newest"
                ), name
            if audit.hash_at(session, anchor.seq) != anchor.hash:
                return (
                    f"audit row {anchor.seq} is not the one the backup {name} recorded: "
                    "the audit trail was rewritten"
                ), name
            return None, name
        return None, None


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
            problems = integrity.quick_check(source)
        except (integrity.DatabaseCorrupt, sqlite3.Error) as error:
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
            corrupt = bool(integrity.quick_check(path))
        except (integrity.DatabaseCorrupt, sqlite3.Error):
            corrupt = True
        if not corrupt:
            try:
                safety = backup.create_backup(
                    path, reason="before restore", now=moment, app_version=__version__
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
        _checkpoint(path)
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
            with write_session(engine) as session:
                session.info["actor"] = actor
                session.info["clock"] = now
                log_ = audit.AuditLog.of(session)
                log_.record("restore", "database", None, case_id=None, after=details)
                log_.flush()
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)

    backup.pause_rotation(path, f"restored {source.name}")  # before: never prune wrongly
    backup.restore_file(source, path, finish)
    prepare_file(path, actor, now, notes)
    log.info("restored a backup (rotation paused until confirmed)")
    return RestoreResult(source, safety.path if safety else None, aside, tuple(notes))


def _checkpoint(path: Path) -> None:
    from crlmboard.store.database import connect_sqlite

    connection = connect_sqlite(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


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
    user: str | None = None,
    now: Now = utc_now,
    wait: float = COMMAND_LOCK_WAIT,
    other_database: bool = False,
) -> RestoreResult:
    """Restore a backup without opening the database first (it may be damaged)."""
    url = database_url(where)
    path = sqlite_path(url)
    if path is None or not is_sqlite(url):
        raise BoardError(
            "Restore works on a SQLite database file; restore a PostgreSQL "
            "database with the server's own tools."
        )
    actor = Actor.current(user)
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


# -- used by the Board -------------------------------------------------------------------------


@contextlib.contextmanager
def writing(board: Board) -> Iterator[Session]:
    """One write transaction of a Board, with its actor; a refused change to a signed review
    is audited in a transaction of its own; a full disk is said plainly."""
    batch = board.batch
    try:
        if batch is None:
            with write_session(board.engine) as session:
                session.info["actor"] = board.actor
                session.info["clock"] = board.now
                yield session
                audit.flush_session(session)
        else:
            session = batch.session()
            try:
                with session.begin_nested():  # this write alone, all or nothing
                    yield session
                    audit.flush_session(session)
            except BaseException:
                audit.forget(session)  # its audit rows were rolled back with it
                raise
            batch.wrote()
    except SignedReviewChanged as refused:
        if batch is not None:
            batch.commit()  # the refusal is recorded in a transaction of its own
        _audit_refusal(board, refused)
        when = refused.signed_at.strftime("%Y-%m-%d") if refused.signed_at else "?"
        raise SignedReviewLocked(
            f"Review {refused.position + 1} of this case was signed on {when} and cannot "
            "be changed or removed; record an amendment as a new review."
        ) from None
    except OperationalError as error:
        text = str(error.orig).lower()
        path = sqlite_path(board.url)
        if "full" in text:
            where = str(path.parent) if path else board.location
            free = backup._free_space(path.parent) if path else ""
            if batch is not None:
                raise DiskFull(
                    f"The disk holding {where} is full{free}; what was not yet committed "
                    "was not stored. Free some space and try again."
                ) from None
            raise DiskFull(
                f"The disk holding {where} is full{free}; nothing was saved. "
                "Free some space and save again."
            ) from None
        if "readonly" in text.replace(" ", "") or "read-only" in text:
            raise ReadOnly(
                f"The database {board.location} is read-only here; nothing was saved."
            ) from None
        raise
    board.mark_changed()


@contextlib.contextmanager
def hold_lock(board: Board, lock: DatabaseLock) -> Iterator[None]:
    """The writer lock for one operation of a command-line Board: wait a little for it,
    then fail naming the holder."""
    if not lock.acquire(lock.wait):
        path = sqlite_path(board.url)
        assert path is not None
        raise Busy(str(LockBusy(path, lock.holder())))
    try:
        yield
    finally:
        lock.release()


def record_user_change(board: Board, name: str) -> None:
    """Set the app user and audit the change (when the database can record it)."""
    before = board.actor.app_user
    board.actor = dataclasses.replace(board.actor, app_user=name)
    if board.read_only:
        return
    with board.writing() as session:
        audit.AuditLog.of(session).record(
            "preference",
            "app_user",
            None,
            case_id=None,
            before={"app_user": before},
            after={"app_user": name},
        )


class WriteBatch:
    """Writes that share transactions (see Board.batched): each write is a savepoint, the
    transaction is committed every `seconds` or `writes` and at the end."""

    def __init__(self, board: Board, seconds: float, writes: int):
        self.board = board
        self.seconds = seconds
        self.writes = writes
        self._open: contextlib.ExitStack | None = None
        self._session: Session | None = None
        self._started = 0.0
        self._count = 0
        self.commits = 0  # transactions committed so far

    @property
    def in_transaction(self) -> bool:
        """Writes are waiting for the next commit."""
        return self._open is not None

    def session(self) -> Session:
        """The open transaction, begun (with the writer lock taken, on the command line)
        on first use: the lock is held from BEGIN to COMMIT, never released in between,
        so two folder imports take turns by batch instead of deadlocking."""
        if self._session is None:
            stack = contextlib.ExitStack()
            try:
                stack.enter_context(self.board.holding_lock())
                session = stack.enter_context(write_session(self.board.engine))
            except BaseException:
                stack.close()
                raise
            self._open, self._session = stack, session
            session.info["actor"] = self.board.actor
            session.info["clock"] = self.board.now
            self._started, self._count = time.monotonic(), 0
        return self._session

    def wrote(self) -> None:
        self._count += 1
        if self._count >= self.writes or time.monotonic() - self._started >= self.seconds:
            self.commit()

    def commit(self) -> None:
        if self._open is not None:
            opened, self._open, self._session = self._open, None, None
            opened.close()  # COMMIT, then the lock is released
            self.commits += 1
            self.board.mark_changed()

    def rollback(self, error: BaseException) -> None:
        if self._open is not None:
            opened, self._open, self._session = self._open, None, None
            with contextlib.suppress(Exception):
                opened.__exit__(type(error), error, error.__traceback__)


def _audit_refusal(board: Board, refused: SignedReviewChanged) -> None:
    try:
        with write_session(board.engine) as session:
            session.info["actor"] = board.actor
            session.info["clock"] = board.now
            log_ = audit.AuditLog.of(session)
            log_.record(
                "refused",
                "review",
                refused.review_id,
                case_id=refused.case_id,
                after={"reason": "change to a signed review"},
            )
            log_.flush()
    except Exception:  # the refusal stands even if it cannot be recorded
        log.exception("could not audit a refused change to a signed review")
    log.warning("refused a change to signed review %s", refused.review_id)


def close_database(board: Board) -> None:
    """Back up if something changed (at most hourly), checkpoint, release the lock."""
    path = sqlite_path(board.url)
    lock = board.lock
    if path is not None and not board.read_only and lock is not None:
        if lock.held or lock.try_acquire():
            try:
                if board.changed:
                    try:
                        maybe_backup(path, "close", board.now())
                    except (BackupFailed, sqlite3.Error) as error:
                        log.error("backup at close failed: %s", type(error).__name__)
                with contextlib.suppress(Exception), board.engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                board.engine.dispose()
                lock.close()
            return
        lock.close()
    board.engine.dispose()
