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
from dataclasses import dataclass
from datetime import date
from pathlib import Path
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


@dataclass(frozen=True)
class CaseListEntry:
    """One light row of the case list."""

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


@dataclass(frozen=True)
class FirstPage:
    """How many cases the list has, and its first rows (sorted by name)."""

    total: int
    entries: list[CaseListEntry]
    revision: str
    path: Path  # the file read (absolute)


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


def read_first_page(path: Path, today: date, limit: int) -> FirstPage | None:
    """The count and the first `limit` rows of the case list of a plain SQLite file, read
    without changing it; None when they cannot be read that way."""
    try:
        if not path.is_file():
            return None
        with path.open("rb") as file:
            if file.read(len(HEADER)) != HEADER:
                return None  # empty, encrypted (SQLCipher) or not SQLite at all
        path = path.resolve()
        uri = f"file:{quote(str(path))}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=1.0, check_same_thread=False)
    except (OSError, sqlite3.Error):
        return None
    try:
        found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = None if found is None else str(found[0])
        known = script_revisions()
        if revision is None or known is None or revision not in known:
            return None  # no schema yet, or one from a newer app: the normal way says so
        (total,) = connection.execute("SELECT count(*) FROM patient").fetchone()
        rows = connection.execute(FIRST_PAGE, (today.isoformat(), limit)).fetchall()
        entries = [
            CaseListEntry(
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
            for r in rows
        ]
        return FirstPage(int(total), entries, revision, path)
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        connection.close()
