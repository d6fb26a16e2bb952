"""Review drafts readable by every role (PostgreSQL): `check` run by a viewer or an
administrator read them as damage.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Migration 0009 let only clinicians (and coordinators) read `review_draft`.  Every role reads
the audit trail, and the trail carries what was typed in a draft, so keeping the table from
viewers hid nothing; but `check`, which compares every record with its trail, could not read
the table as a viewer or an administrator and reported the database as damaged there.  Now
`crlmboard_viewer` (and so every role) may read drafts; writing them stays with clinicians.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

READERS = "crlmboard_viewer"


def upgrade() -> None:
    _where_the_role_is(f"GRANT SELECT ON review_draft TO {READERS}")


def downgrade() -> None:
    _where_the_role_is(f"REVOKE SELECT ON review_draft FROM {READERS}")


def _where_the_role_is(statement: str) -> None:
    """Run `statement` on PostgreSQL when migration 0007's group role exists."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            DO $$
            BEGIN
              IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READERS}') THEN
                {statement};
              END IF;
            END $$"""
        )
