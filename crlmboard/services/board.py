"""The Board: one open database and the use cases on it.  The only layer that opens a
transaction; never imports Qt.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crlmboard.services.about import schema_version as schema_version
from crlmboard.services.about import versions as versions
from crlmboard.services.changes import BoardError as BoardError
from crlmboard.services.changes import ChangeSet as ChangeSet
from crlmboard.store.audit import Actor
from crlmboard.store.database import (
    sqlite_path,
)

if TYPE_CHECKING:
    from crlmboard.services.interop import InteropService
    from crlmboard.services.maintenance import OpenedDatabase, WriteBatch

Clock = Callable[[], date]
Now = Callable[[], datetime]


class Board:
    """One open database."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        clock: Clock = date.today,
        profile: str | os.PathLike[str] | None = None,
        *,
        opened: OpenedDatabase | None = None,
        user: str | None = None,
        now: Now | None = None,
    ):
        from crlmboard.services.cases import CaseService
        from crlmboard.services.evaluation import EvaluationService
        from crlmboard.services.maintenance import MaintenanceService
        from crlmboard.services.reports import ReportService

        self.engine = engine
        self.url = url
        self.today = clock
        self.evaluation = EvaluationService(clock, profile)
        self.cases = CaseService(self)
        self.reports = ReportService(self)
        # Data safety (services/maintenance.py): writer lock, read-only mode, who and when.
        self.lock = opened.lock if opened else None
        self.exclusive = opened.exclusive if opened else True
        self.read_only = opened.read_only if opened else False
        self.read_only_reason = opened.read_only_reason if opened else None  # banner text
        self.lock_holder = opened.holder if opened else None
        self.notes: list[str] = list(opened.notes) if opened else []  # messages from opening
        self.actor = Actor.current(user)
        self.now: Now = now or _utc_now
        self.changed = False
        self.batch: WriteBatch | None = None  # writes sharing transactions (batched)
        self._closed = False
        self.maintenance = MaintenanceService(self)
        from crlmboard.services.meetings import MeetingService, ReviewService

        self.meetings = MeetingService(self)
        self.reviews = ReviewService(self, self.now)

    @functools.cached_property
    def interop(self) -> InteropService:
        """mCODE FHIR bundles and referral CSVs (their modules are read on first use)."""
        from crlmboard.services.interop import InteropService

        return InteropService(self)

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
    ) -> Board:
        """Open (checking, backing up and migrating as needed) the database at a path or
        URL, creating it when there is none only with `create` (the command line and the
        app pass False except for `init`, `demo` and File ▸ New database: a mistyped path
        must not become an empty database).  The app opens `exclusive` (holding the
        one-writer lock; read-only when another app holds it); the command line does not,
        and its writes wait up to `wait` seconds for the lock.  `user` is the app user named
        in the audit trail."""
        from crlmboard.services.maintenance import open_database

        opened = open_database(
            where,
            actor=Actor.current(user),
            now=now or _utc_now,
            exclusive=exclusive,
            wait=wait,
            create=create,
        )
        return cls(opened.engine, opened.url, clock, profile, opened=opened, user=user, now=now)

    # -- data safety --------------------------------------------------------------------

    @property
    def user(self) -> str:
        """The app user the audit trail names (a preference; the OS login by default)."""
        return self.actor.app_user

    def set_user(self, name: str) -> ChangeSet:
        """Change the app user; the change itself is audited."""
        from crlmboard.services.maintenance import record_user_change

        name = name.strip() or self.actor.os_login
        if name == self.actor.app_user:
            return ChangeSet()
        record_user_change(self, name)
        return ChangeSet(settings=frozenset({"user"}))

    def check_writable(self) -> None:
        """Raise a clear BoardError when this Board may not change anything."""
        if self.read_only:
            from crlmboard.services.maintenance import ReadOnly

            raise ReadOnly(
                f"The database {self.location} is read-only here "
                f"({self.read_only_reason}); nothing can be changed."
            )

    def holding_lock(self) -> Any:
        """The writer lock for one operation (a no-op when the Board holds it throughout)."""
        lock = self.lock
        if lock is None or lock.held:
            return nullcontext()
        from crlmboard.services.maintenance import hold_lock

        return hold_lock(self, lock)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One write transaction (with its audit rows); the only way services write."""
        from crlmboard.services.maintenance import writing

        self.check_writable()
        if self.batch is not None:  # the batch holds the lock for its transaction
            with writing(self) as session:
                yield session
            return
        with self.holding_lock(), writing(self) as session:
            yield session

    @contextmanager
    def batched(self, *, seconds: float = 1.0, writes: int = 200) -> Iterator[None]:
        """Writes inside share transactions, each still all or nothing (a savepoint), with
        a commit every `seconds` or `writes` and at the end: a folder import pays one commit
        per batch, not one per file.  An error that escapes rolls back what was not yet
        committed (nothing was reported as done for it)."""
        from crlmboard.services.maintenance import WriteBatch

        if self.batch is not None:
            yield
            return
        self.batch = batch = WriteBatch(self, seconds, writes)
        try:
            yield
        except BaseException as error:
            batch.rollback(error)
            raise
        else:
            batch.commit()
        finally:
            self.batch = None

    def mark_changed(self) -> None:
        self.changed = True

    @property
    def location(self) -> str:
        """The database as a person would name it (path, or URL without password)."""
        return describe(self.url)

    def close(self) -> None:
        """Back up if something changed, checkpoint, release the lock (safe to repeat)."""
        if self._closed:
            return
        self._closed = True
        from crlmboard.services.maintenance import close_database

        close_database(self)

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def describe(url: str) -> str:
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def default_database() -> Path:
    from crlmboard.store.database import default_database_path

    return default_database_path()
