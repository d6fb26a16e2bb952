"""Drafts of reviews: what was typed in a review not signed yet (issue 19 item 2).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

`review_draft` keeps, per agenda item (and per amendment of a review signed there), the
recommendation, decision, rationale, next review date and action rows as typed and the
attendees ticked present, so that Esc, a closed window or a crash never loses a typed
decision.  A draft is deleted when its review is signed or the user discards it, and goes
with its agenda item.  Drafts are patient data: written with audit rows like every clinical
record.  On PostgreSQL (when migration 0007's group roles exist) the roles that sign
reviews (`crlmboard_clinician`) read and write them; coordinators may read and delete them,
because removing an agenda item or a meeting removes its drafts with audit rows (a cascade
would leave the trail describing a draft that is gone).  Viewers and admins do not see them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SIGNERS = "crlmboard_clinician"
AGENDA_KEEPERS = "crlmboard_coordinator"


def upgrade() -> None:
    op.create_table(
        "review_draft",
        sa.Column("recommendation", sa.String(length=40), nullable=True),
        sa.Column("decision", sa.String(length=10000), nullable=True),
        sa.Column("rationale", sa.String(length=10000), nullable=True),
        sa.Column("next_review", sa.String(length=40), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("amends", sa.Integer(), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=True),
        sa.Column("attendees", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"],
            ["agenda_item.id"],
            name=op.f("fk_review_draft_agenda_item_id_agenda_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_review_draft_case_id_patient"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_draft")),
    )
    op.create_index(op.f("ix_review_draft_case_id"), "review_draft", ["case_id"])
    op.create_index("ix_review_draft_item_amends", "review_draft", ["agenda_item_id", "amends"])
    if op.get_bind().dialect.name == "postgresql":
        # the rights, when the roles of migration 0007 are there
        op.execute(
            f"""
            DO $$
            BEGIN
              IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SIGNERS}') THEN
                GRANT SELECT, INSERT, UPDATE, DELETE ON review_draft TO {SIGNERS};
                GRANT USAGE, SELECT ON SEQUENCE review_draft_id_seq TO {SIGNERS};
              END IF;
              IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{AGENDA_KEEPERS}') THEN
                GRANT SELECT, DELETE ON review_draft TO {AGENDA_KEEPERS};
              END IF;
            END $$"""
        )


def downgrade() -> None:
    # (dropping the table drops its grants)
    op.drop_index("ix_review_draft_item_amends", table_name="review_draft")
    op.drop_index(op.f("ix_review_draft_case_id"), table_name="review_draft")
    op.drop_table("review_draft")
