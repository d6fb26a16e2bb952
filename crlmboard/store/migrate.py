"""Schema migrations (Alembic), run automatically when a database is opened."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from crlmboard.store.database import StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The schema revision this app writes."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision of a database (None when it has no schema yet)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring a database to the head revision; refuse one written by a newer app."""
    script = ScriptDirectory.from_config(_config())
    before = current_revision(engine)
    if before is not None:
        try:
            script.get_revision(before)
        except Exception:
            raise StoreError(
                f"This database was written by a newer version of crlmboard (schema {before});"
                " install that version to open it."
            ) from None
    head = head_revision()
    if before != head:
        config = _config()
        with engine.execution_options(crlmboard_write=True).begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    return before, head
