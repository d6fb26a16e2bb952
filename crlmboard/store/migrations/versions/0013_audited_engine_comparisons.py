"""The stored engine comparisons audited: rows written before without an audit trail are
discarded and made again (the cases they belong to are untouched).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

Migration 0012 kept what today's engine reads differently in reviews signed with older
engines (`engine_comparison`) as derived data without audit rows, so a note changed in the
database file (one saying that today's engine no longer advises what an old review
advised, removed) was shown to surgeons at the next open and `check` did not see it.  From
this revision on every write of such a row appends its values to the audit trail, like
the case list's summary, and `check` compares the stored rows with it.  The rows already
stored have no such history and cannot be told from changed ones, so they are deleted
here, never trusted; nothing clinical is lost (each is derived from its case).  The case
list's background pass is made to run again at the next start (its settings
`case_list_summaries_as_of` and `case_list_summaries_progress` are cleared): it stores a
fresh, audited comparison for every case that needs one, and an open before it makes the
note afresh.  No grants change: coordinators already write the table and the trail.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# the background pass's settings (services/cases.py SUMMARIES_STAMP, SUMMARIES_PROGRESS)
PASS_SETTINGS = ("case_list_summaries_as_of", "case_list_summaries_progress")


def upgrade() -> None:
    op.execute("DELETE FROM engine_comparison")
    keys = ", ".join(f"'{key}'" for key in PASS_SETTINGS)
    op.execute(f"DELETE FROM setting WHERE key IN ({keys})")


def downgrade() -> None:
    # the rows and their audit rows stay: 0012 reads the rows as it always did
    pass
