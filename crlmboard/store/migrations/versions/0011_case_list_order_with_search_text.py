"""The case list's order index carries the search text, so a filter walks the list in order
without reading the patients' rows (issue 21, B2).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

`ix_patient_list_name` (0004) gives the list's order; a filter whose matches are many (or
whose words are too short for the trigram index) walks that order testing each patient's
search text until it has a page.  The text was not in the index: every patient walked past
was read from the table, about 1 µs each in the 100,000-patient cohort's 1.9 GB file, and
matches bunched together far down the order (a family name, "tan…") took 120 ms.  With
`search_text` as the index's last column the walk reads the index alone (SQLite: a covering
index; PostgreSQL: the same key, an index-only scan where the table is vacuumed).  The
order is unchanged, so every statement that walked the old index walks this one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEX = "ix_patient_list_name"
ORDER = (
    "(lower(family_name) IS NULL)",
    "lower(family_name)",
    "(lower(given_name) IS NULL)",
    "lower(given_name)",
)


def upgrade() -> None:
    op.drop_index(INDEX, table_name="patient")
    op.create_index(INDEX, "patient", [*map(sa.text, ORDER), "mrn", "search_text"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="patient")
    op.create_index(INDEX, "patient", [*map(sa.text, ORDER), "mrn"])
