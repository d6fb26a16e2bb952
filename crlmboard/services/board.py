"""The Board: one open database and the use cases on it.  The only layer that opens a
transaction; never imports Qt.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from crlmboard.store import migrate
from crlmboard.store.database import (
    StoreError,
    create_database_engine,
    database_url,
    sqlite_library_version,
    sqlite_path,
)

Clock = Callable[[], date]


@dataclass(frozen=True)
class ChangeSet:
    """What a mutating call changed, so a view refreshes only that."""

    cases: frozenset[str] = field(default_factory=frozenset)
    meetings: frozenset[int] = field(default_factory=frozenset)
    reviews: frozenset[int] = field(default_factory=frozenset)

    def __or__(self, other: ChangeSet) -> ChangeSet:
        return ChangeSet(self.cases | other.cases, self.meetings | other.meetings,
                         self.reviews | other.reviews)

    @property
    def empty(self) -> bool:
        return not (self.cases or self.meetings or self.reviews)


class BoardError(Exception):
    """A failure a person can act on; the message is a sentence that says what to do."""


class Board:
    """One open database."""

    def __init__(self, engine: Engine, url: str, clock: Clock = date.today,
                 profile: str | os.PathLike[str] | None = None):
        from crlmboard.services.cases import CaseService
        from crlmboard.services.evaluation import EvaluationService

        self.engine = engine
        self.url = url
        self.today = clock
        self.evaluation = EvaluationService(clock, profile)
        self.cases = CaseService(self)

    @classmethod
    def open(cls, where: str | os.PathLike[str] | None = None, *,
             clock: Clock = date.today, profile: str | os.PathLike[str] | None = None) -> Board:
        """Open (creating and migrating as needed) the database at a path or URL."""
        url = database_url(where)
        try:
            engine = create_database_engine(url)
            migrate.upgrade(engine)
        except StoreError as error:
            raise BoardError(str(error)) from None
        except Exception as error:
            reason = getattr(error, "orig", None) or error
            raise BoardError(f"Cannot open the database {describe(url)}: {reason}.") from None
        return cls(engine, url, clock, profile)

    @property
    def location(self) -> str:
        """The database as a person would name it (path, or URL without password)."""
        return describe(self.url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def describe(url: str) -> str:
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def schema_version() -> str:
    return migrate.head_revision()


def versions() -> dict[str, str]:
    """Versions of the app and what it runs on (for --version and About)."""
    import platform

    from crlmboard import __version__

    return {
        "crlmboard": __version__,
        "schema": schema_version(),
        "python": platform.python_version(),
        "sqlite": sqlite_library_version(),
    }


def default_database() -> Path:
    from crlmboard.store.database import default_database_path

    return default_database_path()
