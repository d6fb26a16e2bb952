"""A trigram index of the patients' search text, so the case-list filter finds its rows
without reading every patient (SQLite only).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

`patient_search` is an FTS5 table with the trigram tokenizer over `patient.search_text`
(external content: it stores the index, not a copy of the text), filled here and kept in
step by triggers on `patient`.  `search_text` is already case-folded by the app, so the
tokenizer is case-sensitive: a phrase of a word's trigrams matches exactly the rows where
the word is a substring, as `LIKE '%word%'` does (see repositories.CaseRepository.page).

Nothing is created on PostgreSQL, nor where the SQLite library has no FTS5 or no trigram
tokenizer (before 3.34): the filter then keeps `LIKE` on every row.  A later migration that
rebuilds `patient` (a batch copy) drops these triggers with the table and must recreate
them.
"""

from __future__ import annotations

import sqlite3

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE = "patient_search"
TRIGGERS = ("patient_search_insert", "patient_search_delete", "patient_search_update")


def _supported() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite" or sqlite3.sqlite_version_info < (3, 34, 0):
        return False
    options = {str(r[0]) for r in bind.exec_driver_sql("PRAGMA compile_options")}
    return "ENABLE_FTS5" in options


def upgrade() -> None:
    if not _supported():
        return
    op.execute(
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5(search_text, content='patient', "
        "content_rowid='id', tokenize='trigram case_sensitive 1')"
    )
    op.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")
    op.execute(
        f"CREATE TRIGGER patient_search_insert AFTER INSERT ON patient BEGIN "
        f"INSERT INTO {TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END"
    )
    op.execute(
        f"CREATE TRIGGER patient_search_delete AFTER DELETE ON patient BEGIN "
        f"INSERT INTO {TABLE}({TABLE}, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); END"
    )
    op.execute(
        f"CREATE TRIGGER patient_search_update AFTER UPDATE OF id, search_text ON patient "
        "WHEN old.id IS NOT new.id OR old.search_text IS NOT new.search_text BEGIN "
        f"INSERT INTO {TABLE}({TABLE}, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        f"INSERT INTO {TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
