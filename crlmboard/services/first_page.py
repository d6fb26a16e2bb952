"""What the app's window shows before the data layer has loaded (performance.md B1).

`first_page(where, today)` reads the case list's count and first page from a plain SQLite
file with the standard library alone (`store/first_page.py`), so the window can be painted
while SQLAlchemy, the domain and the engine load on the database worker.  None where that
cannot be done — PostgreSQL, an encrypted or missing file, a URL with options, an unknown
schema —: the app then opens the database the normal way before showing the window.
Kept free of the data layer: importing this module loads neither SQLAlchemy nor pydantic.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from crlmboard.store import location
from crlmboard.store.first_page import CaseListEntry, FirstPage, read_first_page, sqlite_file

__all__ = ["CaseListEntry", "FirstPage", "default_database_path", "first_page"]


def default_database_path() -> Path:
    """The per-user database file (as `store.database.default_database_path`)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("crlmboard", appauthor=False)) / "crlmboard.sqlite3"


def first_page(
    where: str | None, today: date, limit: int, *, rows: int | None = None
) -> FirstPage | None:
    """The case list's count and first `limit` rows (sorted by name), read-only, or None
    when the database is not one this can read (it opens the normal way then) — nor one
    on a network share or in a sync folder, which is asked about before anything reads it
    (T16: the normal way asks).  `rows`: only that many read now, the rest of the page
    when asked for (`FirstPage.more`), from the same read."""
    path = sqlite_file(where or str(default_database_path()))
    if path is None or location.location_warning(path) is not None:
        return None
    return read_first_page(path, today, limit, rows=rows)
