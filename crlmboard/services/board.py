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
    location_url,
    missing_database,
    no_schema_problem,
    refuse_if_corrupt,
)
from crlmboard.services.evaluation import EvaluationService
from crlmboard.services.importing import Importer
from crlmboard.services.interop import InteropService
from crlmboard.services.maintenance import MaintenanceService
from crlmboard.services.meetings import MeetingService, ReviewService
from crlmboard.services.reports import ReportService
from crlmboard.store import migrate
from crlmboard.store.audit import Actor
from crlmboard.store.backup import newest_verified
from crlmboard.store.database import (
    default_database_path,
    describe_url,
    sqlite_path,
)
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

    @classmethod
    def open(
        cls,
        where: str | os.PathLike[str] | None = None,
        *,
        clock: Clock = date.today,
        profile: str | os.PathLike[str] | None = None,
        user: str | None = None,
        exclusive: bool = True,
        wait: float = 0.0,
        now: Now | None = None,
        create: bool = True,
        defer_checks: bool = False,
    ) -> Board:
        """Open the database at a path or URL (see `Database.open`) and assemble the parts.
        It is created when there is none only with `create` (a mistyped path must not become
        an empty database).  The app opens `exclusive` (holding the one-writer lock;
        read-only when another app holds it); the command line does not, and its writes
        wait up to `wait` seconds for the lock.  `user` is the app user named in the audit
        trail.  `defer_checks` (the command line): `quick_check` and the open-time backup
        run before the first write, not before the first read."""
        database = Database.open(
            where,
            clock=clock,
            user=user,
            exclusive=exclusive,
            wait=wait,
            now=now,
            create=create,
            defer_checks=defer_checks,
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
    def notes(self) -> list[str]:
        """What opening the database had to say (an upgrade, an unclean shutdown)."""
        return self.database.notes

    @property
    def actor(self) -> Actor:
        return self.database.actor

    @property
    def user(self) -> str:
        """The app user the audit trail names (a preference; the OS login by default)."""
        return self.database.user

    def set_user(self, name: str) -> ChangeSet:
        """Change the app user; the change itself is audited."""
        return self.database.set_user(name)

    def close(self) -> None:
        """Back up if something changed, checkpoint, release the lock (safe to repeat)."""
        self.database.close()

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def init_database(
    where: str | os.PathLike[str] | None, *, user: str | None = None, now: Now | None = None
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
        revision = migrate.url_revision(url)
        if revision is not None:
            raise DatabaseExists(
                f"The database {describe_url(url)} already holds crlmboard tables (schema "
                f"{revision}); nothing was changed."
            )
    return Board.open(url, user=user, now=now, exclusive=False, create=True)


def describe(url: str) -> str:
    return describe_url(url)


def default_database() -> Path:
    return default_database_path()
