"""The Board: the use cases on one open database, assembled.

The open database itself (engine, writer lock, user, clock, the write batch in progress) is
the `Database` (services/database.py); each part — `cases`, `meetings`, `reviews`,
`reports`, `maintenance`, `interop`, `evaluation` — receives it, and the parts it uses,
explicitly.  The Board builds them and gives the UI and the command line one name for them
all, plus what a window shows of the database (where it is, read-only or not, who is
working).  Never imports Qt.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

from crlmboard.services.about import schema_version as schema_version
from crlmboard.services.about import versions as versions
from crlmboard.services.cases import CaseService
from crlmboard.services.changes import BadLocation, DatabaseExists
from crlmboard.services.changes import BoardError as BoardError
from crlmboard.services.changes import ChangeSet as ChangeSet
from crlmboard.services.database import (
    Clock,
    Database,
    Now,
    WriterNews,
    location_url,
    missing_database,
    no_schema_problem,
    refuse_if_corrupt,
    server_revision,
)
from crlmboard.services.erasure import ErasureService
from crlmboard.services.evaluation import EvaluationService
from crlmboard.services.importing import Importer
from crlmboard.services.interop import InteropService
from crlmboard.services.maintenance import MaintenanceService
from crlmboard.services.meetings import MeetingService, ReviewService
from crlmboard.services.reports import ReportService
from crlmboard.services.users import UserService
from crlmboard.store import migrate
from crlmboard.store.audit import Actor
from crlmboard.store.backup import newest_verified
from crlmboard.store.database import (
    default_database_path,
    describe_url,
    sqlite_path,
)
from crlmboard.store.identity import Identity
from crlmboard.store.lock import LockHolder


class Board:
    """The parts of the use cases around one open `Database`."""

    def __init__(self, database: Database, profile: str | os.PathLike[str] | None = None):
        self.database = database
        self.evaluation = EvaluationService(database.today, profile)
        self._importer = Importer(database, self.evaluation)
        self.cases = CaseService(database, self.evaluation, self._importer)
        self.meetings = MeetingService(database, self.evaluation, self.cases)
        self.reviews = ReviewService(database, self.evaluation, self.cases, self.meetings)
        self.reports = ReportService(database, self.evaluation, self.cases, self.reviews)
        self.maintenance = MaintenanceService(database)

    @functools.cached_property
    def interop(self) -> InteropService:
        """mCODE FHIR bundles and referral CSVs."""
        return InteropService(self.database, self.evaluation, self.cases, self._importer)

    @functools.cached_property
    def erasure(self) -> ErasureService:
        """Erasing one patient for good, when that is allowed (T39)."""
        return ErasureService(self.database, self.maintenance)

    @functools.cached_property
    def users(self) -> UserService:
        """Users and roles of a department's PostgreSQL store."""
        return UserService(self.database)

    @classmethod
    def open(
        cls,
        where: str | os.PathLike[str] | None = None,
        *,
        clock: Clock = date.today,
        profile: str | os.PathLike[str] | None = None,
        exclusive: bool = True,
        wait: float = 0.0,
        now: Now | None = None,
        create: bool = True,
        defer_checks: bool = False,
        password: str | None = None,
        passphrase: str | None = None,
        progress: Callable[[str, int, int], object] | None = None,
    ) -> Board:
        """Open the database at a path or URL (see `Database.open`) and assemble the parts.
        It is created when there is none only with `create` (a mistyped path must not become
        an empty database).  The app opens `exclusive` (holding the one-writer lock;
        read-only when another app holds it); the command line does not, and its writes
        wait up to `wait` seconds for the lock.  `defer_checks` (the command line):
        `quick_check` and the open-time backup run before the first write, not before the
        first read.  `password` logs in to a PostgreSQL server (else libpq's PGPASSWORD or
        .pgpass); `passphrase` opens an encrypted SQLite file.  Neither is written anywhere.
        `progress(step, done, total)` hears how a schema upgrade goes (`Database.open`)."""
        database = Database.open(
            where,
            clock=clock,
            exclusive=exclusive,
            wait=wait,
            now=now,
            create=create,
            defer_checks=defer_checks,
            password=password,
            passphrase=passphrase,
            progress=progress,
        )
        try:
            return cls(database, profile)
        except BaseException:
            database.close()
            raise

    # -- what a window shows of the database --------------------------------------------

    @property
    def today(self) -> Clock:
        """The clock every part reads today's date from."""
        return self.database.today

    @property
    def url(self) -> str:
        return self.database.url

    @property
    def location(self) -> str:
        """The database as a person would name it (path, or URL without password)."""
        return self.database.location

    @property
    def read_only(self) -> bool:
        return self.database.read_only

    @property
    def read_only_reason(self) -> str | None:
        """Why nothing can be changed here (for a banner), when read-only."""
        return self.database.read_only_reason

    @property
    def lock_holder(self) -> LockHolder | None:
        """Who holds the writer lock, when another app does."""
        return self.database.lock_holder

    @property
    def writer_elsewhere(self) -> bool:
        """Read-only here because another app holds the writer lock (until it goes)."""
        return self.database.writer_elsewhere

    def follow_writer(self) -> WriterNews:
        """One look at the app holding the writer lock: did it commit, has it gone (then
        this database is open for writing here)?  See `Database.follow_writer`."""
        return self.database.follow_writer()

    @property
    def notes(self) -> list[str]:
        """What opening the database had to say (an upgrade, an unclean shutdown)."""
        return self.database.notes

    @property
    def actor(self) -> Actor:
        return self.database.actor

    @functools.cached_property
    def identity(self) -> Identity:
        """Who is acting: on PostgreSQL the session user with their printed name and roles
        (as the server says); on SQLite the OS account, who may do everything."""
        return self.reviews.identity

    @property
    def user(self) -> str:
        """The user the audit trail names (the OS account; the login on PostgreSQL)."""
        return self.identity.login

    @property
    def password(self) -> str | None:
        """The PostgreSQL login's password given at opening (memory only)."""
        return self.database.password

    @property
    def passphrase(self) -> str | None:
        """The encrypted file's passphrase given at opening (memory only)."""
        return self.database.passphrase

    def close(self) -> None:
        """Back up if something changed, checkpoint, release the lock (safe to repeat)."""
        self.database.close()

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def init_database(
    where: str | os.PathLike[str] | None, *, now: Now | None = None, password: str | None = None
) -> Board:
    """Create a new, empty database (`crlmboard init`, File ▸ New database): only where
    there is none — never over a database, another program's file, or a 0-byte file that
    has backups (that one is restored, not replaced)."""
    url = location_url(where)
    path = sqlite_path(url)
    if path is not None:
        if path.is_dir():
            raise BadLocation(f"{path} is a folder, not a database file.")
        if path.exists() and path.stat().st_size > 0:
            refuse_if_corrupt(path)
            revision = migrate.file_revision(path)
            if revision is not None:
                raise DatabaseExists(
                    f"{path} already holds a crlmboard database (schema {revision}); "
                    "nothing was changed."
                )
            problem = no_schema_problem(path)
            if problem:
                raise BadLocation(problem)
        if path.parent.is_dir() and newest_verified(path) is not None:
            raise missing_database(path, empty=path.exists())
    else:
        revision = server_revision(url, password)
        if revision is not None:
            raise DatabaseExists(
                f"The database {describe_url(url)} already holds crlmboard tables (schema "
                f"{revision}); nothing was changed."
            )
    return Board.open(url, now=now, exclusive=False, create=True, password=password)


def describe(url: str) -> str:
    return describe_url(url)


def default_database() -> Path:
    return default_database_path()
