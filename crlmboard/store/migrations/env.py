"""Alembic environment: runs on the connection the store hands over (see `migrate.py`)."""

from __future__ import annotations

from alembic import context

from crlmboard.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the app always passes its connection
    raise RuntimeError("crlmboard migrations run through crlmboard.store.migrate")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
