"""The case-list filter's trigram index (migration 0005), kept usable when a database file
moves between SQLite libraries.

The index's triggers run on every write to `patient`: opened by a SQLite without FTS5's
trigram tokenizer (before 3.34, or built without FTS5) they would make every save fail.
So at each open with the writer lock held: without the tokenizer the triggers are dropped
(the filter then tests every row, as on PostgreSQL); with it, an index that is missing or
lacks a trigger is built again from `patient`.  The index holds nothing of its own (it is
derived from `search_text`), so neither step changes clinical data or the audit trail.
"""

from __future__ import annotations

import sqlite3
import unicodedata

import sqlalchemy as sa

TABLE = "patient_search"
TRIGGERS = ("patient_search_insert", "patient_search_delete", "patient_search_update")

_CREATE = (
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5(search_text, content='patient', "
    "content_rowid='id', tokenize='trigram case_sensitive 1')",
    f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')",
    f"CREATE TRIGGER patient_search_insert AFTER INSERT ON patient BEGIN "
    f"INSERT INTO {TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER patient_search_delete AFTER DELETE ON patient BEGIN "
    f"INSERT INTO {TABLE}({TABLE}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER patient_search_update AFTER UPDATE OF id, search_text ON patient "
    "WHEN old.id IS NOT new.id OR old.search_text IS NOT new.search_text BEGIN "
    f"INSERT INTO {TABLE}({TABLE}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
)


SEARCH_TEXT_FORM = "2"
"""How `patient.search_text` is normalised (the `search_text_form` setting): 1 case-folded,
2 case-folded with accents and similar marks folded (`fold`).  A database written with an
older form is brought up to this one at open (`refresh_search_text`)."""
FORM_SETTING = "search_text_form"

# Latin letters that carry their mark inside the letter (no decomposition), folded as a
# reader would type them without the mark.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "ı": "i"})
_CYRILLIC_BREVE = "\u0306"  # й is its own letter, not и with an accent


def fold(text: str) -> str:
    """`text` as the case-list filter compares it: case-folded, with the diacritics of Latin,
    Greek and Cyrillic letters removed ("Müller" → "muller", "Ελένη" → "ελενη", "Zoë" →
    "zoe"), й, Japanese voicing marks and other scripts' marks kept."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept: list[str] = []
    for char in decomposed:
        if "\u0300" <= char <= "\u036f":
            base = kept[-1] if kept else ""
            if not (char == _CYRILLIC_BREVE and "\u0400" <= base <= "\u04ff"):
                continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept)).translate(_LETTERS)


def search_text(*parts: str | None) -> str:
    """The stored search text of a patient: its MRN and names, folded, space-separated."""
    return " ".join(fold(p) for p in parts if p)


def refresh_search_text(engine: sa.Engine) -> int | None:
    """Rewrite the search text of every patient stored in an older form (see
    SEARCH_TEXT_FORM); returns how many changed, None when the form was current.  Derived
    text only (not audited); the trigram index follows through its triggers."""
    patient = sa.table(
        "patient",
        sa.column("id"),
        sa.column("mrn"),
        sa.column("family_name"),
        sa.column("given_name"),
        sa.column("search_text"),
    )
    setting = sa.table("setting", sa.column("key"), sa.column("value"))
    with engine.begin() as connection:
        form = connection.execute(
            sa.select(setting.c.value).where(setting.c.key == FORM_SETTING)
        ).scalar()
        if form == SEARCH_TEXT_FORM:
            return None
        changed = [
            {"row_id": row.id, "text": text}
            for row in connection.execute(
                sa.select(
                    patient.c.id,
                    patient.c.mrn,
                    patient.c.family_name,
                    patient.c.given_name,
                    patient.c.search_text,
                )
            )
            if (text := search_text(row.mrn, row.family_name, row.given_name)) != row.search_text
        ]
        if changed:
            connection.execute(
                sa.update(patient)
                .where(patient.c.id == sa.bindparam("row_id"))
                .values(search_text=sa.bindparam("text")),
                changed,
            )
        if form is None:
            connection.execute(sa.insert(setting).values(key=FORM_SETTING, value=SEARCH_TEXT_FORM))
        else:
            connection.execute(
                sa.update(setting)
                .where(setting.c.key == FORM_SETTING)
                .values(value=SEARCH_TEXT_FORM)
            )
        return len(changed)


def trigram_available(connection: sa.Connection) -> bool:
    """Whether this SQLite library has FTS5 with the trigram tokenizer."""
    if sqlite3.sqlite_version_info < (3, 34, 0):
        return False
    options = {str(r[0]) for r in connection.exec_driver_sql("PRAGMA compile_options")}
    return "ENABLE_FTS5" in options


def present(connection: sa.Connection) -> set[str]:
    """The index's table and triggers found in the schema."""
    names = ", ".join(f"'{name}'" for name in (TABLE, *TRIGGERS))
    return {
        str(r[0])
        for r in connection.exec_driver_sql(
            f"SELECT name FROM sqlite_master WHERE name IN ({names})"
        )
    }


def keep_usable(engine: sa.Engine, *, available: bool | None = None) -> str | None:
    """Drop the index's triggers where the tokenizer is missing, or build the index where
    it is missing or incomplete; returns what was done (None: nothing was needed).  SQLite
    only; `available` overrides the library check (tests)."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.begin() as connection:
        found = present(connection)
        if not (available if available is not None else trigram_available(connection)):
            stale = [name for name in TRIGGERS if name in found]
            for name in stale:
                connection.exec_driver_sql(f"DROP TRIGGER {name}")
            return "dropped the search index's triggers" if stale else None
        if found == {TABLE, *TRIGGERS}:
            return None
        for name in TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
        for statement in _CREATE:
            connection.exec_driver_sql(statement)
        return "built the search index again"
