"""What the app runs on, for `crlmboard --version` and Help ▸ About: versions only, so
asking for them loads neither SQLAlchemy nor pydantic nor the domain."""

from __future__ import annotations

import platform

from crlmboard.store.revisions import head_revision
from crlmboard.store.sqlite_version import library_version, sqlite_version_warning


def sqlite_library_version() -> str:
    return library_version()


def schema_version() -> str:
    return head_revision()


def versions() -> dict[str, str]:
    """Versions of the app and what it runs on."""
    from crlmboard import __version__

    return {
        "crlmboard": __version__,
        "schema": schema_version(),
        "python": platform.python_version(),
        "sqlite": sqlite_library_version(),
    }


def sqlite_warning(version: str | None = None) -> str | None:
    """A warning line when the SQLite library has the WAL-reset bug (None otherwise)."""
    return sqlite_version_warning(version or sqlite_library_version())
