"""The case list's first page read before the data layer loads (performance.md B1).

The app shows its window and the first page of the case list while SQLAlchemy, the domain
models, Alembic and the engine load on the database worker.  That page is read here with
the standard library's `sqlite3` alone, in a read-only connection (`file:…?mode=ro`): the
count and one indexed SELECT, the same query `CaseRepository.page` sends for the list's
first page sorted by name (tests/store/test_first_page.py compares the two).  Nothing is
written, created or checked here; whatever this cannot read (no file, not a plain SQLite
file — an encrypted one is random from its first byte —, an unknown schema, a locked or
damaged file) gives None, and the app opens the normal way.  Standard library only.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from crlmboard.store.revisions import script_revisions

HEADER = b"SQLite format 3\x00"

# CaseRepository.page(sort="name") with no filter, as SQLAlchemy writes it for SQLite: the
# rows in the order of the index ix_patient_list_name, the next meeting from `today` on
FIRST_PAGE = """
SELECT patient.id, patient.mrn, patient.family_name, patient.given_name, patient.birth_date,
  (SELECT min(meeting.date) FROM meeting JOIN agenda_item ON agenda_item.meeting_id = meeting.id
   WHERE agenda_item.case_id = patient.id
     AND (agenda_item.status IS NULL OR agenda_item.status = 'planned')
     AND meeting.date >= ?) AS next_meeting,
  patient.resectability, patient.current_response, patient.open_warnings,
  patient.open_criticals, patient.version
FROM patient
ORDER BY lower(patient.family_name) IS NULL, lower(patient.family_name),
  lower(patient.given_name) IS NULL, lower(patient.given_name), patient.mrn
LIMIT ?
"""


class CaseListEntry:
    """One light row of the case list (immutable, compared and hashed by its values).

    A plain class rather than a frozen dataclass: `dataclasses` writes and compiles the
    text of six methods for each class when its module loads, and this one loads before
    the app's first paint (performance.md B1)."""

    _FIELDS = (
        "id",
        "mrn",
        "family_name",
        "given_name",
        "birth_date",
        "next_meeting",
        "resectability",
        "current_response",
        "open_warnings",
        "open_criticals",
        "version",
    )
    __slots__ = _FIELDS
    id: int
    mrn: str
    family_name: str | None
    given_name: str | None
    birth_date: date | None
    next_meeting: date | None
    resectability: str | None
    current_response: str | None
    open_warnings: int
    open_criticals: int
    version: int

    def __init__(
        self,
        id: int,
        mrn: str,
        family_name: str | None,
        given_name: str | None,
        birth_date: date | None,
        next_meeting: date | None,
        resectability: str | None,
        current_response: str | None,
        open_warnings: int,
        open_criticals: int,
        version: int,
    ) -> None:
        put = object.__setattr__
        put(self, "id", id)
        put(self, "mrn", mrn)
        put(self, "family_name", family_name)
        put(self, "given_name", given_name)
        put(self, "birth_date", birth_date)
        put(self, "next_meeting", next_meeting)
        put(self, "resectability", resectability)
        put(self, "current_response", current_response)
        put(self, "open_warnings", open_warnings)
        put(self, "open_criticals", open_criticals)
        put(self, "version", version)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self) -> tuple[type[CaseListEntry], tuple[object, ...]]:
        return (CaseListEntry, self._values())  # copied and pickled by its values

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._FIELDS)
        return f"CaseListEntry({fields})"


class FirstPage:
    """How many cases the list has, and its first rows (sorted by name).

    The rows can be read in two steps of one read (`read_first_page(…, rows=N)`): the
    rows on screen before the first paint, the rest of the page after it (`more`), from the
    same statement in the same read transaction — so the count and every row are one
    snapshot of the file, as if read at once."""

    __slots__ = ("_connection", "_cursor", "_left", "entries", "path", "revision", "total")

    def __init__(
        self,
        total: int,
        entries: list[CaseListEntry],
        revision: str,
        path: Path,  # the file read (absolute)
        *,
        rest: tuple[sqlite3.Connection, sqlite3.Cursor, int] | None = None,
    ) -> None:
        self.total = total
        self.entries = entries
        self.revision = revision
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._cursor: sqlite3.Cursor | None = None
        self._left = 0  # rows of the page not read yet
        if rest is not None:
            self._connection, self._cursor, self._left = rest

    @property
    def complete(self) -> bool:
        """Every row of the page is read (nothing left to ask `more` for)."""
        return self._cursor is None

    def more(self, number: int) -> list[CaseListEntry] | None:
        """Up to `number` more rows of the page (also added to `entries`), or None when
        they could not be read (the file went away, damaged): the read is closed then, as
        once the page is read to its end."""
        if self._cursor is None:
            return []
        number = min(number, self._left)
        if number <= 0:
            return []
        try:
            rows = self._cursor.fetchmany(number)
            entries = [_entry(row) for row in rows]
        except (sqlite3.Error, ValueError, TypeError):
            self.close()
            return None
        self._left -= len(rows)
        if len(rows) < number or self._left <= 0:
            self.close()
        self.entries.extend(entries)
        return entries

    def close(self) -> None:
        """End the read (the rest of the page not read is not read)."""
        connection, self._connection, self._cursor = self._connection, None, None
        if connection is not None:
            connection.close()


def sqlite_file(where: str) -> Path | None:
    """The SQLite file a `--db` value names when it is a plain one (a path, or a
    `sqlite:///` URL without options); None for anything else (PostgreSQL, a URL with
    options), which opens the normal way."""
    text = str(where)
    if "://" in text:
        if not text.startswith("sqlite:///") or "?" in text:
            return None
        text = text[len("sqlite:///") :]
        if not text:
            return None
    return Path(text).expanduser()


def _date(value: object) -> date | None:
    if value is None:
        return None
    return date.fromisoformat(str(value)[:10])


def _entry(r: tuple[Any, ...]) -> CaseListEntry:
    return CaseListEntry(
        int(r[0]),
        str(r[1]),
        r[2],
        r[3],
        _date(r[4]),
        _date(r[5]),
        r[6],
        r[7],
        int(r[8]),
        int(r[9]),
        int(r[10]),
    )


def read_first_page(
    path: Path, today: date, limit: int, *, rows: int | None = None
) -> FirstPage | None:
    """The count and the first `limit` rows of the case list of a plain SQLite file, read
    without changing it; None when they cannot be read that way.  `rows`: read only that
    many now and keep the read open for the rest of the page (`FirstPage.more`)."""
    try:
        if not path.is_file():
            return None
        with path.open("rb") as file:
            if file.read(len(HEADER)) != HEADER:
                return None  # empty, encrypted (SQLCipher) or not SQLite at all
        path = path.resolve()
        uri = f"file:{quote(str(path))}?mode=ro"
        connection = sqlite3.connect(
            uri, uri=True, timeout=1.0, check_same_thread=False, isolation_level=None
        )
    except (OSError, sqlite3.Error):
        return None
    kept = False
    try:
        # one read transaction: the count and the page (read now or in two steps) are one
        # snapshot of the file
        connection.execute("BEGIN")
        found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = None if found is None else str(found[0])
        known = script_revisions()
        if revision is None or known is None or revision not in known:
            return None  # no schema yet, or one from a newer app: the normal way says so
        (total,) = connection.execute("SELECT count(*) FROM patient").fetchone()
        cursor = connection.execute(FIRST_PAGE, (today.isoformat(), limit))
        wanted = limit if rows is None else max(0, min(rows, limit))
        # (fetchmany(0) reads every row: the cursor's size is taken for 0)
        entries = [_entry(r) for r in cursor.fetchmany(wanted)] if wanted else []
        if rows is not None and len(entries) == wanted < min(limit, int(total)):
            kept = True
            rest = (connection, cursor, limit - len(entries))
            return FirstPage(int(total), entries, revision, path, rest=rest)
        return FirstPage(int(total), entries, revision, path)
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        if not kept:
            connection.close()
