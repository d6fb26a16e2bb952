"""Store tests run on SQLite and on a real PostgreSQL server (`engine` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from crlmboard.store import migrate
from crlmboard.store.database import create_database_engine, database_url
from tests.conftest import postgres_url


def fresh_postgres() -> sa.Engine:
    """The test server's database, emptied (schema public dropped) and migrated."""
    engine = create_database_engine(postgres_url())
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate.upgrade(engine)
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A migrated database on each back end."""
    if request.param == "sqlite":
        made = create_database_engine(database_url(tmp_path / "db.sqlite3"))
        migrate.upgrade(made)
    else:
        made = fresh_postgres()
    yield made
    made.dispose()
