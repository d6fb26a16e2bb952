"""The SQLite library's version and the WAL-reset bug gate: standard library only, so
`crlmboard --version` can say it without loading the data layer."""

from __future__ import annotations

import sqlite3


def library_version() -> str:
    """The version of the SQLite library Python runs with."""
    return sqlite3.sqlite_version


def parse_version(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.split(".")[:3]]
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


def wal_reset_affected(version: tuple[int, int, int]) -> bool:
    """Whether a SQLite version has the WAL-reset bug (3.7.0–3.51.2, except the 3.44.6+
    and 3.50.7+ backports)."""
    if version < (3, 7, 0) or version >= (3, 51, 3):
        return False
    return not ((3, 44, 6) <= version < (3, 45, 0) or (3, 50, 7) <= version < (3, 51, 0))


def sqlite_version_warning(version: str | None = None) -> str | None:
    """A one-line warning when the SQLite library is an affected one."""
    text = version or sqlite3.sqlite_version
    if not wal_reset_affected(parse_version(text)):
        return None
    return (
        f"SQLite {text} has the WAL-reset bug (fixed in 3.51.3, 3.50.7 and 3.44.6): "
        "crlmboard keeps to one writer per database file; do not open the file with "
        "other programs while crlmboard writes to it."
    )
