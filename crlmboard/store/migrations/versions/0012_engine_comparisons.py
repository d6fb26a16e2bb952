"""What today's engine reads differently in reviews signed with older engines, stored with
the case (issue 21, B3).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Opening a case whose reviews were signed with another engine version ran today's engine
again for each such review (as of its meeting), about half of a heavy case's cold open.
`engine_comparison` keeps that result per case, keyed by the stored case and save it was
computed from (id, creation time, version, time of the save), the engine version and a
hash of the profile: a row whose key does not match the case as read is never shown, and
the note is computed afresh instead.  The table is derived data, like the case list's
summary but without an audit trail: no clinical value lives only here, `check` does not
compare it with the trail, and a row goes with its case (`ON DELETE CASCADE`).  It starts
empty: the app fills it at each write of a case, when an open finds no row, and in the
background pass after an engine or profile change.  On PostgreSQL (when migration 0007's
group roles exist) every role reads it and coordinators (so clinicians) write it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

READERS = "crlmboard_viewer"
WRITERS = "crlmboard_coordinator"


def upgrade() -> None:
    op.create_table(
        "engine_comparison",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("case_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column("case_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("engine_version", sa.String(length=40), nullable=False),
        sa.Column("profile_key", sa.String(length=64), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_engine_comparison_case_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_engine_comparison")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            DO $$
            BEGIN
              IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READERS}') THEN
                GRANT SELECT ON engine_comparison TO {READERS};
              END IF;
              IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{WRITERS}') THEN
                GRANT INSERT, UPDATE, DELETE ON engine_comparison TO {WRITERS};
              END IF;
            END $$"""
        )


def downgrade() -> None:
    # (dropping the table drops its grants)
    op.drop_table("engine_comparison")
