"""A database id: a UUID in the settings table that names this database for good.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Backups (and the audit checkpoints of AUDIT-DESIGN.md) name the database they belong to by
this id, so two databases in one folder never take each other's backups.  A new database
gets its id here too; an existing one gets it once, and `migrate.upgrade` audits that as a
settings change.  A copy of the file (a backup, a restore) keeps the id: it is the same
database.  Downgrading removes the row.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KEY = "database_id"
SETTING = sa.table("setting", sa.column("key", sa.String), sa.column("value", sa.String))


def upgrade() -> None:
    bind = op.get_bind()
    found = bind.execute(sa.select(SETTING.c.value).where(SETTING.c.key == KEY)).scalar()
    if found is None:
        bind.execute(SETTING.insert().values(key=KEY, value=str(uuid.uuid4())))


def downgrade() -> None:
    op.get_bind().execute(SETTING.delete().where(SETTING.c.key == KEY))
