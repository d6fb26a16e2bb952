"""Meetings: agenda status, note and signed review; review rationale; review follow-up.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

The review column is added with plain ALTER TABLE ADD COLUMN (no batch copy), so the
review table keeps the immutability triggers of revision 0002.  Follow-ups recorded inside a review
before this revision stay where they are (the repository reads them as a fallback): a
signed review's row is never rewritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("review", sa.Column("rationale", sa.String(length=10000), nullable=True))
    # agenda_item has no triggers: a batch copy (needed for the foreign key) is safe here
    with op.batch_alter_table("agenda_item") as batch:
        batch.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("note", sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column("review_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_agenda_item_review_id_review", "review", ["review_id"], ["id"], ondelete="RESTRICT"
        )
    op.create_table(
        "review_follow_up",
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("recorded_on", sa.Date(), nullable=True),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_review_follow_up_case_id_patient"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["review.id"],
            name=op.f("fk_review_follow_up_review_id_review"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_review_follow_up")),
    )
    op.create_index(op.f("ix_review_follow_up_case_id"), "review_follow_up", ["case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_review_follow_up_case_id"), table_name="review_follow_up")
    op.drop_table("review_follow_up")
    with op.batch_alter_table("agenda_item") as batch:
        batch.drop_column("review_id")
        batch.drop_column("note")
        batch.drop_column("status")
    op.drop_column("review", "rationale")
