"""The open database: the one object that owns it, and how it is opened safely.

A `Database` holds the engine, the one-writer lock, the user the audit trail names, the clock
(`today`) and `now`, and the write batch in progress; its operations are `read()`, `write()`,
`batched()`, `set_user()`, `backup_before()`, `replacing_file()` (a restore) and `close()`.
Every service part receives it explicitly; the `Board` only assembles the parts around it.

Writes are serialised in the process (one at a time, whichever thread asks).  A write batch
(a folder import) belongs to the operation that opened it: only writes handed the batch join
its transaction.  Any other write first commits what the batch wrote so far and then runs in a
transaction of its own, so an edit saved while an import runs is durable when `write()`
returns, whatever becomes of the import afterwards; and if committing the batch for it fails,
the import learns so at its next write instead of reporting those files as imported.

Opening a SQLite file takes the one-writer lock (a second app gets the database read-only,
with the holder named for a banner), removes what an interrupted upgrade or backup left,
runs `quick_check` (a damaged file is refused, naming the newest verified backup), refuses
a database from a newer app, upgrades an older one on a copy after a verified backup, and
backs up at open and close when something changed (at most hourly).  None of this writes a
patient's name or MRN to the log.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from crlmboard import __version__
from crlmboard.services.changes import (
    BadLocation,
    BoardError,
    Busy,
    ChangeSet,
    DatabaseCorrupt,
    DatabaseMissing,
    DiskFull,
    LoginFailed,
    LoginRequired,
    NotAllowed,
    PassphraseRequired,
    ReadOnly,
    SignedReviewLocked,
    WriteStopped,
    WrongPassphrase,
)
from crlmboard.store import (
    audit,
    backup,
    checkpoints,
    encryption,
    integrity,
    keys,
    migrate,
    search_index,
    signing,
)
from crlmboard.store.audit import Actor
from crlmboard.store.backup import BackupFailed, BackupInfo
from crlmboard.store.database import (
    DataVersion,
    Engine,
    Session,
    SharedTransaction,
    StoreError,
    WriteFailed,
    audited_write,
    checkpoint,
    create_database_engine,
    describe_url,
    has_wal_content,
    is_read_only_url,
    is_sqlite,
    read_only_medium,
    read_session,
    server_engine,
    sqlite_library_version,
    sqlite_path,
    table_count,
    valid_url,
)
from crlmboard.store.database import LoginFailed as StoreLoginFailed
from crlmboard.store.database import LoginRequired as StoreLoginRequired
from crlmboard.store.database import database_id as store_database_id
from crlmboard.store.lock import DatabaseLock, LockBusy, LockHolder, holder_left
from crlmboard.store.repositories import SignedReviewChanged

__all__ = [
    "BACKUP_INTERVAL",
    "Clock",
    "Database",
    "Now",
    "WriteBatch",
    "WriterNews",
    "describe_backup",
    "location_url",
    "maybe_backup",
    "missing_database",
    "prepare_file",
    "utc_now",
]

log = logging.getLogger("crlmboard.maintenance")

BACKUP_INTERVAL = timedelta(hours=1)
Clock = Callable[[], date]
Now = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def describe_backup(info: BackupInfo) -> str:
    when = (
        info.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        if info.created
        else "unknown date"
    )
    patients = "?" if info.patients is None else str(info.patients)
    return f"{info.path} ({when}, {patients} patients)"


@dataclasses.dataclass(frozen=True)
class WriterNews:
    """What one look at the app holding the writer lock found: it committed since the last
    look (`committed`), or it has gone and this database is open for writing here now
    (`taken_over`).  Either way every view reads again (`changes`)."""

    committed: bool = False
    taken_over: bool = False

    @property
    def changes(self) -> ChangeSet:
        return ChangeSet.all() if self.committed or self.taken_over else ChangeSet()


class Database:
    """One open database (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        *,
        actor: Actor,
        clock: Clock = date.today,
        now: Now = utc_now,
        lock: DatabaseLock | None = None,
        exclusive: bool = True,
        read_only: bool = False,
        read_only_reason: str | None = None,
        holder: LockHolder | None = None,
        notes: list[str] | None = None,
        checks_pending: bool = False,
        password: str | None = None,
        passphrase: str | None = None,
    ):
        self.engine = engine
        self.password = password  # PostgreSQL login, memory only
        self.passphrase = passphrase  # SQLCipher key, memory only
        self.url = url
        self.actor = actor
        self.today: Clock = clock
        self.now: Now = now
        self.lock = lock
        self.exclusive = exclusive
        self.read_only = read_only
        self.read_only_reason = read_only_reason  # banner text
        self.lock_holder = holder
        # read-only because another app holds the writer lock: followed (`follow_writer`)
        self.writer_elsewhere = False
        self._writer_commits: DataVersion | None = None
        self.notes: list[str] = list(notes or ())  # messages from opening
        # quick_check and the open-time backup, deferred to before the first write
        self.checks_pending = checks_pending
        self.changed = False  # something was written since opening (a backup at close)
        self._writer = threading.RLock()  # one write at a time in this process
        self._batch: WriteBatch | None = None
        self._closed = False

    @classmethod
    def open(
        cls,
        where: str | os.PathLike[str] | None = None,
        *,
        clock: Clock = date.today,
        exclusive: bool = True,
        wait: float = 0.0,
        now: Now | None = None,
        create: bool = True,
        defer_checks: bool = False,
        password: str | None = None,
        passphrase: str | None = None,
        progress: migrate.Progress | None = None,
    ) -> Database:
        """Open (checking, backing up and migrating as needed) the database at a path or
        URL, creating it when there is none only with `create` (the command line and the app
        pass False except for `init`, `demo` and File ▸ New database: a mistyped path must
        not become an empty database).  `exclusive` (the app): hold the writer lock while
        open, read-only when another app holds it; otherwise (the command line) take it for
        the open-time work and then per write transaction, waiting up to `wait` seconds.
        `defer_checks` (the command line): `quick_check` and the open-time backup wait for
        the first write (`before_first_write`) instead of delaying the first read
        (performance.md: no read-only command waits for them).  A file SQLite cannot read
        at all is still refused at once.

        `password` logs in to a PostgreSQL server (else libpq's PGPASSWORD or .pgpass);
        `passphrase` opens an encrypted SQLite file.  Neither is written anywhere; the audit
        trail names the OS account (the session user on PostgreSQL).  `progress(step, done,
        total)` hears how a schema upgrade goes (T30): the backup before it, the copy, each
        migration, the check of the copy."""
        actor = Actor.current()
        now = now or utc_now
        url = location_url(where)
        path = sqlite_path(url)
        try:
            if not is_sqlite(url) or path is None:
                engine = _server_engine(url, password)
                if not create and migrate.current_revision(engine) is None:
                    engine.dispose()
                    raise DatabaseMissing(
                        f"The database {describe_url(url)} has no crlmboard tables yet; "
                        "nothing was created. Set it up with `crlmboard init --db URL`."
                    )
                try:
                    migrate.upgrade_server(engine, actor, describe_url(url), progress)
                except BaseException:
                    engine.dispose()
                    raise
                _refresh_search_text(engine)
                return cls(engine, url, actor=actor, clock=clock, now=now, password=password)
            if path.is_file():
                passphrase = unlock(path, passphrase)  # before any check reads the file
            _check_can_open(path, create, check=not defer_checks)
            if is_read_only_url(url) or (path.exists() and not _writable(path)):
                why = (
                    f"it is on a read-only medium ({path.parent})"
                    if read_only_medium(path)
                    else "the database file is read-only"
                )
                database = cls._open_read_only(
                    url, path, why, actor, clock, now, check=not defer_checks
                )
            else:
                database = cls._open_file(
                    url, path, actor, clock, now, exclusive, wait, defer_checks, progress
                )
            database.passphrase = passphrase
            return database
        except BoardError:
            raise
        except StoreError as error:
            raise BoardError(str(error)) from None
        except Exception as error:
            reason = getattr(error, "orig", None) or error
            if path is not None and path.parent.is_dir() and not os.access(path.parent, os.W_OK):
                raise BadLocation(
                    f"Cannot open the database {path}: the folder {path.parent} is not "
                    f"writable, and SQLite needs to create files beside the database there "
                    f"({reason}). Ask for write access to the folder, or copy the database "
                    "to a writable one."
                ) from None
            raise BoardError(f"Cannot open the database {describe_url(url)}: {reason}.") from None

    @classmethod
    def _open_read_only(
        cls,
        url: str,
        path: Path,
        reason: str,
        actor: Actor,
        clock: Clock,
        now: Now,
        holder: LockHolder | None = None,
        *,
        check: bool = True,
    ) -> Database:
        if not path.exists():
            raise BoardError(f"There is no database at {path}.")
        if check:
            refuse_if_corrupt(path)
        revision = _revision(path)
        migrate.refuse_newer(revision)
        if revision != migrate.head_revision():
            raise BoardError(
                f"The database {path} uses an older schema ({revision}) and cannot "
                "be upgraded while it is read-only here."
            )
        engine = create_database_engine(url, read_only=True)
        return cls(
            engine,
            url,
            actor=actor,
            clock=clock,
            now=now,
            read_only=True,
            read_only_reason=reason,
            holder=holder,
            checks_pending=not check,  # quick_check only (`run_deferred_checks`)
        )

    @classmethod
    def _open_file(
        cls,
        url: str,
        path: Path,
        actor: Actor,
        clock: Clock,
        now: Now,
        exclusive: bool,
        wait: float,
        defer: bool = False,
        progress: migrate.Progress | None = None,
    ) -> Database:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = DatabaseLock(path, actor.app_user, "app" if exclusive else "command")
        lock.wait = wait
        if not lock.acquire(wait):
            holder = lock.holder()
            lock.close()
            if exclusive:
                who = holder.describe() if holder else "another program"
                database = cls._open_read_only(
                    url,
                    path,
                    f"open for writing by {who}",
                    actor,
                    clock,
                    now,
                    holder,
                    check=not defer,
                )
                database._follow_from_now()
                return database
            if (
                not path.exists()
                or path.stat().st_size == 0
                or _revision(path) != migrate.head_revision()
            ):
                raise BoardError(str(LockBusy(path, holder)))
            if not defer:
                refuse_if_corrupt(path)
            engine = create_database_engine(url)
            per_write = DatabaseLock(path, actor.app_user, "command")
            per_write.wait = wait
            return cls(
                engine,
                url,
                actor=actor,
                clock=clock,
                now=now,
                lock=per_write,
                exclusive=False,
                checks_pending=defer,
            )
        notes: list[str] = []
        try:
            if lock.took_over is not None:
                notes.append(
                    "crlmboard was not closed properly last time; the database was checked "
                    "and opened."
                )
            upgraded = prepare_file(path, actor, now, notes, check=not defer, progress=progress)
            engine = create_database_engine(url)
            if lock.took_over is not None:
                signing.promote_restore_mark(engine, path)  # a restore killed after its swap
                signing.recover_unsigned(engine, path, now())
            pending = False
            if upgraded:
                signing.sign_head(engine, path, now(), to_file=True)  # the upgrade's audit rows
            if migrate.file_revision(path) is None:
                migrate.upgrade(engine, actor)  # a new database
                signing.sign_head(engine, path, now(), to_file=True)
            elif defer and not upgraded:
                pending = True
            else:
                with contextlib.suppress(BackupFailed):
                    maybe_backup(path, "open", now())
            done = search_index.keep_usable(engine)
            if done is not None:
                log.info("%s (SQLite %s)", done, sqlite_library_version())
            _refresh_search_text(engine)
        except BaseException:
            lock.close()
            raise
        if not exclusive:
            lock.release()
        return cls(
            engine,
            url,
            actor=actor,
            clock=clock,
            now=now,
            lock=lock,
            exclusive=exclusive,
            notes=notes,
            checks_pending=pending,
        )

    # -- what it is ------------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        """The SQLite file (None for PostgreSQL)."""
        return sqlite_path(self.url)

    @property
    def location(self) -> str:
        """The database as a person would name it (path, or URL without password)."""
        return describe_url(self.url)

    @property
    def user(self) -> str:
        """The OS account the audit trail names (on PostgreSQL the server's session user
        is what the audit rows record)."""
        return self.actor.app_user

    @property
    def is_server(self) -> bool:
        """A department's PostgreSQL store (not a SQLite file)."""
        return self.engine.dialect.name == "postgresql"

    # -- reading and writing -------------------------------------------------------------

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work."""
        with read_session(self.engine) as session:
            yield session

    def check_writable(self) -> None:
        """Raise a clear BoardError when nothing may be changed here."""
        if self.read_only:
            raise ReadOnly(
                f"The database {self.location} is read-only here "
                f"({self.read_only_reason}); nothing can be changed."
            )

    def holding_lock(self) -> contextlib.AbstractContextManager[Any]:
        """The writer lock for one operation (a no-op when it is held throughout)."""
        lock = self.lock
        if lock is None or lock.held:
            return contextlib.nullcontext()
        return self._hold(lock)

    @contextlib.contextmanager
    def _hold(self, lock: DatabaseLock) -> Iterator[None]:
        """Wait a little for the writer lock of a command-line database, then fail naming
        the holder."""
        if not lock.acquire(lock.wait):
            path = self.path
            assert path is not None
            raise Busy(str(LockBusy(path, lock.holder())))
        try:
            yield
        finally:
            lock.release()

    @contextlib.contextmanager
    def write(self, batch: WriteBatch | None = None, *, counts: int = 1) -> Iterator[Session]:
        """One write, all or nothing, with its audit rows: the only way services write.

        Without `batch` the write is a transaction of its own, committed when the block
        ends; a batch in progress is committed first (the write never joins it).  With the
        batch in progress, the write is a savepoint of the batch's transaction, counting as
        `counts` writes towards the batch's next commit (a folder import's many files)."""
        self.check_writable()
        with self._writer:
            self.check_writable()  # the deferred check may have failed while this waited
            try:
                if batch is not None:
                    if batch is not self._batch:
                        raise RuntimeError("a write was handed a batch that is not open")
                    with batch.savepoint(counts) as session:
                        yield session
                else:
                    if self._batch is not None:
                        self._batch.commit_for_another_write()
                    with self.holding_lock():
                        if self.checks_pending:  # a deferred open: quick_check first
                            self.before_first_write()
                        with audited_write(self.engine, self.actor, self.now) as s:
                            yield s
                        self._signed(audit.first_written(s))  # committed; lock still held
            except SignedReviewChanged as refused:
                if self._batch is not None:
                    self._batch.commit_for_another_write()  # the refusal gets its own transaction
                self._audit_refusal(refused)
                when = refused.signed_at.strftime("%Y-%m-%d") if refused.signed_at else "?"
                raise SignedReviewLocked(
                    f"Review {refused.position + 1} of this case was signed on {when} and "
                    "cannot be changed or removed; record an amendment as a new review."
                ) from None
            except WriteFailed as failed:
                raise self._plain(failed, batch=batch is not None) from None
            self.changed = True

    def _plain(self, failed: WriteFailed, *, batch: bool = False) -> Exception:
        """A write error said plainly; a refused constraint is left to the part, which knows
        what it was writing.  A full disk, a read-only database and a busy one stop every
        later write too (`WriteStopped`: a folder import stops there)."""
        if failed.kind == "full":
            path = self.path
            where = str(path.parent) if path else self.location
            free = backup.free_space(path.parent) if path else ""
            if batch:
                return DiskFull(
                    f"The disk holding {where} is full{free}; what was not yet committed "
                    "was not stored. Free some space and try again."
                )
            return DiskFull(
                f"The disk holding {where} is full{free}; nothing was saved. "
                "Free some space and save again."
            )
        if failed.kind == "read_only":
            return ReadOnly(f"The database {self.location} is read-only here; nothing was saved.")
        if failed.kind == "busy":
            return Busy(
                "The database is locked by another program (it did not let go while "
                "crlmboard waited); nothing was saved. Try again once that program has "
                "finished, or is closed."
            )
        if failed.kind == "denied":
            log.warning("the server refused a write for lack of privilege")
            return NotAllowed(
                f"Your login ({self.user}) may not do this; the database refused it: "
                f"{failed.reason}"
            )
        if failed.kind == "refused":
            return failed  # the part says which record was refused (InvalidInput)
        return BoardError(f"The database could not complete the change: {failed.reason}")

    def _audit_refusal(self, refused: SignedReviewChanged) -> None:
        try:
            with audited_write(self.engine, self.actor, self.now) as session:
                audit.AuditLog.of(session).record(
                    "refused",
                    "review",
                    refused.review_id,
                    case_id=refused.case_id,
                    after={"reason": "change to a signed review"},
                )
            self._signed(audit.first_written(session))
        except Exception:  # the refusal stands even if it cannot be recorded
            log.exception("could not audit a refused change to a signed review")
        log.warning("refused a change to signed review %s", refused.review_id)

    @contextlib.contextmanager
    def batched(self, *, seconds: float = 1.0, writes: int = 200) -> Iterator[WriteBatch]:
        """A write batch for one operation: the writes handed it (`write(batch)`) share
        transactions, each still all or nothing (a savepoint), with a commit every `seconds`
        or `writes` and at the end — a folder import pays one commit per batch, not one per
        file.  An error that escapes rolls back what was not yet committed (nothing was
        reported as done for it).  One batch at a time: a second one is refused."""
        self.check_writable()
        with self._writer:
            self.check_writable()
            if self._batch is not None:
                raise BoardError("Another import is still running; try again when it is done.")
            self._batch = batch = WriteBatch(self, seconds, writes)
        try:
            yield batch
        except BaseException as error:
            with self._writer:
                batch.rollback(error)
            raise
        else:
            with self._writer:
                batch.commit()
        finally:
            with self._writer:
                self._batch = None

    def run_deferred_checks(self) -> None:
        """Run now what a deferred open left (the app, in the background once its window
        shows the case list): `quick_check`, then the open-time backup, with the writer held
        so that a write waits for them while reads go on (reliability.md: the check comes
        before the first write).  A read-only database is only checked.  A damaged file
        raises DatabaseCorrupt (and the database turns read-only here)."""
        with self._writer:
            if not self.checks_pending:
                return
            path = self.path
            if self.read_only:
                self.checks_pending = False
                if path is not None:
                    refuse_if_corrupt(path)
                return
            with self.holding_lock():
                if self.checks_pending:
                    self.before_first_write()

    def before_first_write(self) -> None:
        """What a deferred open left for the first write (with the writer lock held):
        `quick_check` (a damaged file: refused as at open, and the database turns
        read-only here), then the open-time backup (when something changed since the
        newest, at most hourly)."""
        path = self.path
        self.checks_pending = False
        if path is None:
            return
        try:
            refuse_if_corrupt(path)
        except DatabaseCorrupt:
            self.read_only = True
            self.read_only_reason = "the database file is damaged"
            raise
        try:
            maybe_backup(path, "open", self.now())
        except Exception as error:  # the write goes on; the next open or close backs up
            log.error("backup before the first write failed: %s", type(error).__name__)

    def _signed(self, first: int | None) -> None:
        """After a committed write that added audit rows: sign the new head."""
        if first is not None:
            signing.sign_head(self.engine, self.path, self.now(), after=first - 1)

    # -- following the app that holds the writer lock --------------------------------------

    def _follow_from_now(self) -> None:
        """Read-only because another app writes: note where its commits stand now."""
        self.writer_elsewhere = True
        self._writer_commits = DataVersion(self.engine)
        self._writer_commits.changed()

    def follow_writer(self) -> WriterNews:
        """One look at the app holding the writer lock (cheap: one pragma and a try of the
        lock): whether it committed since the last look, and whether it has gone — then
        this database is opened for writing here (`take_over`).  Nothing to see on a
        database that is writable here or read-only for another reason."""
        if not self.writer_elsewhere or self._closed:
            return WriterNews()
        with self._writer:
            committed = self._writer_commits is not None and self._writer_commits.changed()
            return WriterNews(committed, self.take_over())

    def take_over(self) -> bool:
        """Open this database for writing here when the app that held the writer lock has
        gone (its lock released, or left by a process of this host that no longer runs;
        never one of another host's): the lock is taken and the open-time work done as at
        any open (a stale lock's unsigned head signed again; `quick_check` and the backup
        before the first write).  False, and nothing changed, while it is still there."""
        path = self.path
        if not self.writer_elsewhere or path is None or not holder_left(path):
            return False
        with self._writer:
            opened = Database._open_file(
                self.url, path, self.actor, self.today, self.now, True, 0.0, True
            )
            if opened.read_only:  # another app took it first: follow that one
                self.lock_holder, self.read_only_reason = (
                    opened.lock_holder,
                    opened.read_only_reason,
                )
                opened.close()
                return False
            old = self.engine
            self.engine, self.lock = opened.engine, opened.lock
            self.read_only, self.read_only_reason, self.lock_holder = False, None, None
            self.exclusive, self.checks_pending = True, opened.checks_pending
            self.notes.extend(opened.notes)
            opened._closed = True  # its engine and lock are this database's now
            self._stop_following()
            old.dispose()
        log.info("took over the writer lock after the other app closed the database")
        return True

    def _stop_following(self) -> None:
        self.writer_elsewhere = False
        watch, self._writer_commits = self._writer_commits, None
        if watch is not None:
            watch.close()

    # -- the audit chain's checkpoints -----------------------------------------------------

    def checkpoint(self) -> checkpoints.Checkpoint | None:
        """The newest checkpoint of the audit chain, e.g. for a PDF: on PostgreSQL signed by
        the server (`crlmboard_checkpoint()`, migration 0008: the key never leaves it); on
        SQLite the one kept with the key at the last save."""
        if self.path is None:
            return signing.server_checkpoint(self.engine)
        database_id = store_database_id(self.engine)
        if database_id is None:
            return None
        key = keys.load_key(database_id)
        return None if key is None else signing.latest(database_id, key)

    def printed_checkpoint(self) -> dict[str, object] | None:
        """The checkpoint a PDF carries (as data: the report module knows no store), or
        None when there is none to give (never fails an export)."""
        try:
            found = self.checkpoint()
        except Exception as error:  # e.g. PostgreSQL before migration 0008's functions
            log.warning("no audit checkpoint for the PDF: %s", type(error).__name__)
            return None
        return None if found is None else found.as_dict()

    # -- around the data -------------------------------------------------------------------

    def backup_before(self, operation: str) -> BackupInfo | None:
        """The backup taken before a risky operation (a folder import): made unless the
        newest backup already holds the current state; never throttled."""
        path = self.path
        if path is None or self.read_only:
            return None
        with self._writer, self.holding_lock():
            if self._batch is not None:
                self._batch.commit_for_another_write()
            if self.checks_pending:
                self.before_first_write()
            try:
                return maybe_backup(path, f"before {operation}", self.now(), throttle=False)
            except BackupFailed as error:
                raise BoardError(f"{error} The {operation} was not started.") from None

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        """No other write of this process and the writer lock held, outside any transaction:
        for work SQLite runs on the whole file (VACUUM after an erasure)."""
        self.check_writable()
        with self._writer:
            if self._batch is not None:
                self._batch.commit_for_another_write()
            with self.holding_lock():
                yield
            self.changed = True

    @contextlib.contextmanager
    def replacing_file(self) -> Iterator[Path]:
        """With the writer lock held and no connection open, the SQLite file may be replaced
        (a restore); the engine is opened again afterwards."""
        path = self.path
        if path is None:
            raise BoardError("Only a SQLite database file can be replaced.")
        self.check_writable()
        with self._writer:
            if self._batch is not None:
                raise BoardError("An import is still running; restore when it is done.")
            with self.holding_lock():
                self.engine.dispose()
                try:
                    yield path
                finally:
                    self.engine = create_database_engine(self.url)
            self.changed = True

    def close(self) -> None:
        """Back up if something changed (at most hourly), checkpoint, release the lock
        (safe to repeat)."""
        with self._writer:  # after a write or the deferred checks under way
            self._close()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_following()
        path = self.path
        lock = self.lock
        if path is not None and not self.read_only and lock is not None:
            if lock.held or lock.try_acquire():
                try:
                    if self.changed:
                        signing.sign_head(
                            self.engine, path, self.now(), to_file=True, after=signing.HEAD
                        )
                        try:
                            maybe_backup(path, "close", self.now())
                        except Exception as error:  # closing goes on; the next open backs up
                            log.error("backup at close failed: %s", type(error).__name__)
                    checkpoint(self.engine)
                finally:
                    self.engine.dispose()
                    lock.close()
                return
            lock.close()
        self.engine.dispose()


class WriteFailedForImport(WriteStopped):
    """What a write batch wrote could not be committed (when another write made it commit
    early); its operation stops."""


class WriteBatch:
    """The writes of one operation that share transactions (see `Database.batched`): each
    write is a savepoint; the transaction is committed every `seconds` or `writes`, at the
    end, and before any write that is not the batch's own."""

    def __init__(self, database: Database, seconds: float, writes: int):
        self.database = database
        self.seconds = seconds
        self.writes = writes
        self._transaction: SharedTransaction | None = None
        self._took_lock = False
        self._started = 0.0
        self._count = 0
        self._failed: BaseException | None = None
        self.commits = 0  # transactions committed so far

    @property
    def in_transaction(self) -> bool:
        """Writes are waiting for the next commit."""
        return self._transaction is not None

    @contextlib.contextmanager
    def savepoint(self, counts: int = 1) -> Iterator[Session]:
        if self._failed is not None:
            raise WriteFailedForImport(
                "The import's changes could not be saved when another change was made "
                f"meanwhile ({self._failed}); the import stopped."
            ) from None
        if self._transaction is None:
            self._begin()
        assert self._transaction is not None
        with self._transaction.savepoint() as session:
            yield session
        self._count += counts
        if self._count >= self.writes or time.monotonic() - self._started >= self.seconds:
            self.commit()

    def _begin(self) -> None:
        database = self.database
        lock = database.lock
        if lock is not None and not lock.held:
            if not lock.acquire(lock.wait):
                path = database.path
                assert path is not None
                raise Busy(str(LockBusy(path, lock.holder())))
            self._took_lock = True
        try:
            if database.checks_pending:
                database.before_first_write()
            self._transaction = SharedTransaction(database.engine, database.actor, database.now)
        except BaseException:
            self._release()
            raise
        self._started, self._count = time.monotonic(), 0

    def _release(self) -> None:
        if self._took_lock and self.database.lock is not None:
            self.database.lock.release()
        self._took_lock = False

    def commit(self) -> None:
        """Make what the batch wrote so far durable."""
        if self._transaction is None:
            if self._failed is not None:
                raise WriteFailedForImport(
                    f"The import's changes could not be saved ({self._failed})."
                ) from None
            return
        transaction, self._transaction = self._transaction, None
        try:
            transaction.commit()
            # the new head signed after the COMMIT, before the lock is released
            self.database._signed(audit.first_written(transaction.session))
        except WriteFailed as failed:
            raise self.database._plain(failed, batch=True) from None
        finally:
            self._release()
        self.commits += 1
        self.database.changed = True

    def commit_for_another_write(self) -> None:
        """Commit before a write that is not the batch's own; if that fails, the batch
        is failed (its operation learns so at its next write) and the other write goes on."""
        try:
            self.commit()
        except Exception as error:
            log.error("a write batch could not be committed: %s", type(error).__name__)
            self._failed = error

    def rollback(self, error: BaseException) -> None:
        if self._transaction is not None:
            transaction, self._transaction = self._transaction, None
            try:
                transaction.rollback(error)
            finally:
                self._release()


# -- opening, checking and backing up a file -----------------------------------------------


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def location_url(where: str | os.PathLike[str] | None) -> str:
    """The URL of a database location (`--db`), refused plainly when it is none."""
    try:
        url = valid_url(where)
    except ValueError as error:
        raise BadLocation(
            f"{str(where)!r} is neither a database file path nor a database URL ({error})."
        ) from None
    if is_sqlite(url) and sqlite_path(url) is None:
        raise BadLocation(
            f"{url} is a database in memory: it starts empty and is gone when crlmboard "
            "ends. Give the path of a database file."
        )
    return url


def location_warning(where: str | os.PathLike[str] | None) -> str | None:
    """The warning to show before opening a SQLite database on a network share or in a
    folder a sync program copies (T16), naming the PostgreSQL option; None otherwise (a
    local disk, a PostgreSQL server, a location that is not valid at all)."""
    from crlmboard.store import location

    try:
        path = sqlite_path(location_url(where))
    except BadLocation:
        return None
    return None if path is None else location.location_warning(path)


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


def no_schema_problem(path: Path) -> str | None:
    """Why an existing, non-empty SQLite file without a crlmboard schema is refused (None
    when it has no tables at all: a blank database)."""
    if table_count(path):
        return (
            f"{path} is a SQLite file but not a crlmboard database; nothing was changed. "
            "Choose another file."
        )
    return None


def _check_can_open(path: Path, create: bool, check: bool = True) -> None:
    """Refuse, before anything is created (a file, a folder, a lock), a location that
    holds no crlmboard database, unless `create`; never take over another program's file.
    Without `check`, only a file SQLite cannot read at all is refused as damaged here."""
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
    if check:
        refuse_if_corrupt(path)
    if _revision(path) is None:
        problem = no_schema_problem(path)
        if problem:
            raise BadLocation(problem)
        if not create:
            raise missing_database(path, blank=True)


def prepare_file(
    path: Path,
    actor: Actor,
    now: Now,
    notes: list[str],
    *,
    check: bool = True,
    progress: migrate.Progress | None = None,
) -> bool:
    """With the writer lock held: clean up, check, refuse newer, upgrade older (on a copy,
    after a verified backup).  Returns whether it upgraded the database.  Without `check`
    the `quick_check` is left for before the first write, unless an upgrade (a write)
    is due."""
    for leftover in [
        *migrate.leftover_copies(path),
        *path.parent.glob(f".{path.name}.restoring-*"),
    ]:
        leftover.unlink(missing_ok=True)
    backup.cleanup_unfinished(path)
    if not path.exists() or path.stat().st_size == 0:
        return False
    if check:
        refuse_if_corrupt(path)
    revision = _revision(path)
    migrate.refuse_newer(revision)
    if revision is None or revision == migrate.head_revision():
        return False
    if not check:
        refuse_if_corrupt(path)

    def backed_up(done: int, total: int) -> None:
        if progress is not None:
            progress("backing up the database before the upgrade", done, total)

    if progress is not None:
        progress(f"upgrading from schema {revision} to {migrate.head_revision()}", 0, 0)
        backed_up(0, 0)
    try:
        taken = backup.create_backup(
            path,
            reason=f"before upgrade from schema {revision}",
            now=now(),
            app_version=__version__,
            progress=backed_up if progress is not None else None,
        )
    except BackupFailed as error:
        raise BoardError(
            f"The database needs an upgrade, but the backup before it could "
            f"not be made: {error} Nothing was changed."
        ) from None
    try:
        migrate.upgrade_file(path, actor, check=_copy_problems, progress=progress)
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
    return True


def _revision(path: Path) -> str | None:
    """The file's schema revision; a file SQLite cannot read is refused as damaged."""
    try:
        return migrate.file_revision(path)
    except Exception:
        refuse_if_corrupt(path)
        raise


def _copy_problems(copy: Path) -> list[str]:
    checks = integrity.sqlite_checks(copy)
    return checks["integrity"] + checks["foreign keys"]


def refuse_if_corrupt(path: Path) -> None:
    """Refuse a damaged file, naming the newest verified backup."""
    try:
        problems = integrity.check_file(path)
    except integrity.DatabaseCorrupt as error:
        problems = [str(error)]
    except integrity.FileUnreadable as error:
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


def maybe_backup(
    path: Path, reason: str, moment: datetime, *, throttle: bool = True
) -> BackupInfo | None:
    """Back up when something changed since the newest backup (and, with `throttle`, when
    that backup is over an hour old); prune once the new backup verified."""
    head, patients, schema = backup.current_state(path)
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
    info = backup.create_backup(
        path,
        reason=reason,
        now=moment,
        app_version=__version__,
        sign=signing.backup_signer(path),
    )
    if info.verified:
        backup.prune(path, moment)
    return info


def _refresh_search_text(engine: Engine) -> None:
    """Bring the case-list filter's stored text to the current form (accents folded since
    search-text form 2); one pass over the patients, once per database."""
    changed = search_index.refresh_search_text(engine)
    if changed is not None:
        log.info("case-list search text refreshed for %d case(s)", changed)


def _server_engine(url: str, password: str | None) -> Engine:
    """An engine for a PostgreSQL server that has let the person log in."""
    try:
        return server_engine(url, password)
    except StoreLoginRequired as error:
        raise LoginRequired(str(error)) from None
    except StoreLoginFailed as error:
        raise LoginFailed(str(error)) from None


def server_revision(url: str, password: str | None) -> str | None:
    """The schema revision of a server database (None: no crlmboard tables), as the person
    whose login the URL names."""
    engine = _server_engine(url, password)
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


def unlock(path: Path, passphrase: str | None) -> str | None:
    """The passphrase of an encrypted database file (remembered in memory for this
    process), None for a plain one; a clear refusal when it is missing or wrong."""
    if not encryption.is_encrypted(path):
        return None
    newest = next(iter(backup.list_backups(path, hash_files=False)), None)
    if newest is not None and newest.manifest.get("encrypted") is False:
        refuse_if_corrupt(path)  # backed up unencrypted: a damaged file, not an encrypted one
    refusal: PassphraseRequired | WrongPassphrase
    try:
        return encryption.require(path, passphrase)
    except encryption.PassphraseNeeded as error:
        refusal = PassphraseRequired(str(error))
    except encryption.PassphraseWrong as error:
        log.warning("a wrong passphrase was given for an encrypted database")
        refusal = WrongPassphrase(str(error))
    refusal.path = str(path)  # the passphrase dialog shows it on a line of its own
    raise refusal from None
