"""Audit trail and signed-review immutability.

Adds the hash-chained `audit_event` table, makes it append-only with triggers, stores the
content hash of every signed review that lacks one, and adds triggers that refuse an UPDATE
or DELETE of a signed review.  Written by hand for SQLite (batch mode) and PostgreSQL.

Note for later migrations: SQLite batch mode rebuilds a table by copying it, which drops
its triggers; a migration that batch-alters `review` or `audit_event` must create the
triggers of this revision again (`create_triggers`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crlmboard.store.audit import review_content_hash

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AUDIT_MESSAGE = "the audit trail is append-only"
REVIEW_MESSAGE = "a signed review cannot be changed or deleted; record an amendment"

SQLITE_TRIGGERS = {
    "audit_event_no_update": f"""
        CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END""",
    "audit_event_no_delete": f"""
        CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END""",
    "review_signed_no_update": f"""
        CREATE TRIGGER review_signed_no_update BEFORE UPDATE ON review
        WHEN OLD.signed_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, '{REVIEW_MESSAGE}'); END""",
    "review_signed_no_delete": f"""
        CREATE TRIGGER review_signed_no_delete BEFORE DELETE ON review
        WHEN OLD.signed_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, '{REVIEW_MESSAGE}'); END""",
}

POSTGRESQL_FUNCTIONS = [
    f"""CREATE OR REPLACE FUNCTION crlmboard_audit_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{AUDIT_MESSAGE}'; END $$""",
    f"""CREATE OR REPLACE FUNCTION crlmboard_signed_review_immutable() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.signed_at IS NOT NULL THEN RAISE EXCEPTION '{REVIEW_MESSAGE}'; END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",
]

POSTGRESQL_TRIGGERS = {
    "audit_event_append_only": """
        CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION crlmboard_audit_append_only()""",
    "audit_event_no_truncate": """
        CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION crlmboard_audit_append_only()""",
    "review_signed_immutable": """
        CREATE TRIGGER review_signed_immutable BEFORE UPDATE OR DELETE ON review
        FOR EACH ROW EXECUTE FUNCTION crlmboard_signed_review_immutable()""",
}

# The review table as revision 0001 left it (frozen: later revisions may change the model).
_review = sa.table(
    "review",
    sa.column("id", sa.Integer()),
    sa.column("case_id", sa.Integer()),
    sa.column("position", sa.Integer()),
    sa.column("meeting_date", sa.Date()),
    sa.column("question", sa.String()),
    sa.column("recommendation", sa.String()),
    sa.column("decision", sa.String()),
    sa.column("next_review_date", sa.Date()),
    sa.column("signed_by", sa.String()),
    sa.column("signed_at", sa.DateTime(timezone=True)),
    sa.column("amends", sa.Integer()),
    sa.column("actions", sa.JSON()),
    sa.column("attendees", sa.JSON()),
    sa.column("follow_up", sa.JSON()),
    sa.column("evaluation", sa.JSON()),
    sa.column("content_sha256", sa.String()),
)


def trigger_names(dialect: str) -> list[str]:
    return list(SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRESQL_TRIGGERS)


def create_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRESQL_FUNCTIONS:
            op.execute(statement)
        for statement in POSTGRESQL_TRIGGERS.values():
            op.execute(statement)


def drop_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS review_signed_immutable ON review")
        op.execute("DROP FUNCTION IF EXISTS crlmboard_audit_append_only()")
        op.execute("DROP FUNCTION IF EXISTS crlmboard_signed_review_immutable()")


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("app_user", sa.String(length=200), nullable=False),
        sa.Column("os_login", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("app_version", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("before_json", sa.Text(), nullable=True),
        sa.Column("after_json", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_case_id"), ["case_id"], unique=False)

    # Signed reviews written before this revision get their content hash now, before the
    # triggers make them unchangeable.
    bind = op.get_bind()
    signed = bind.execute(
        sa.select(_review).where(
            _review.c.signed_at.is_not(None), _review.c.content_sha256.is_(None)
        )
    ).all()
    for row in signed:
        values = dict(row._mapping)
        bind.execute(
            sa.update(_review)
            .where(_review.c.id == values["id"])
            .values(content_sha256=review_content_hash(values))
        )
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_case_id"))
    op.drop_table("audit_event")
