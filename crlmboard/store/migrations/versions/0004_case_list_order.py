"""An index in the case list's default order, so a page of the list reads it in order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

The list sorts by lower(family_name), lower(given_name) with unknown names last; written as
`lower(x) IS NULL, lower(x)`, that order is exactly this index's, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_patient_list_name",
        "patient",
        [
            sa.text("(lower(family_name) IS NULL)"),
            sa.text("lower(family_name)"),
            sa.text("(lower(given_name) IS NULL)"),
            sa.text("lower(given_name)"),
            "mrn",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_patient_list_name", table_name="patient")
