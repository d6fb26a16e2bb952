"""T27 for every migration after 0002: a failure injected at every step k of migrations
0003, 0004, 0005, 0006 and 0008 (upgrading a fixture database of the schema before it)
leaves the original file byte for byte, says so naming the backup, leaves no copy behind,
and the old app still reads it (its revision is unchanged); the retry succeeds. (0002 is
tests/store/test_migrations.py; 0006 and 0008 make no schema operation here: for them the
failure comes right after their statements, before the revision is recorded.)"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import alembic.op
import pytest
from alembic.runtime.migration import HeadMaintainer

from crlmboard.services import Board, BoardError
from crlmboard.store import migrate
from tests.conftest import TODAY
from tests.store.test_migrations import FIXTURES, sha256

pytestmark = [pytest.mark.db, pytest.mark.slow]

OPERATIONS = (
    "add_column",
    "batch_alter_table",
    "create_index",
    "create_table",
    "drop_column",
    "drop_index",
    "drop_table",
    "execute",
)
PAIRS = [("0002", "0003"), ("0003", "0004"), ("0004", "0005"), ("0005", "0006"), ("0006", "0008")]


def copy_of(revision: str, folder: Path) -> Path:
    folder.mkdir(parents=True)
    target = folder / "board.sqlite3"
    shutil.copyfile(FIXTURES / f"schema-{revision}.sqlite3", target)
    return target


def failing_at(monkeypatch: pytest.MonkeyPatch, step: int | None) -> list[str]:
    """Count the schema operations; the `step`-th (1-based) raises."""
    calls: list[str] = []
    for name in OPERATIONS:
        real = getattr(alembic.op, name)

        def wrapped(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            if len(calls) == step:
                raise RuntimeError(f"injected failure at step {step}")
            return _real(*args, **kwargs)

        monkeypatch.setattr(alembic.op, name, wrapped)
    return calls


def after_its_statements(monkeypatch: pytest.MonkeyPatch, migration: str) -> None:
    """Fail right after `migration` ran, before its revision is recorded."""
    real = HeadMaintainer.update_to_step

    def update_to_step(self: HeadMaintainer, step: Any) -> None:
        if getattr(getattr(step, "revision", None), "revision", None) == migration:
            raise RuntimeError(f"injected failure after migration {migration}")
        real(self, step)

    monkeypatch.setattr(HeadMaintainer, "update_to_step", update_to_step)


def operations_from(revision: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many schema operations upgrading a database of `revision` to the newest makes."""
    with monkeypatch.context() as patch:
        calls = failing_at(patch, None)
        Board.open(copy_of(revision, folder), clock=lambda: TODAY).close()
    return len(calls)


@pytest.mark.parametrize(("before", "migration"), PAIRS, ids=[m for _, m in PAIRS])
def test_a_failure_at_every_step_of_a_migration_leaves_the_original(
    before: str, migration: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = operations_from(before, tmp_path / "count-a", monkeypatch) - operations_from(
        migration, tmp_path / "count-b", monkeypatch
    )
    # each schema operation of the migration, then the moment after its last statement
    # (before Alembic records the new revision: 0006 writes only through its connection)
    for step in [*range(1, steps + 1), None]:
        path = copy_of(before, tmp_path / f"step-{step}")
        original = sha256(path)
        with monkeypatch.context() as patch:
            if step is None:
                after_its_statements(patch, migration)
            else:
                calls = failing_at(patch, step)
            with pytest.raises(BoardError, match="left unchanged") as refused:
                Board.open(path, clock=lambda: TODAY)
        assert step is None or len(calls) == step
        assert "backup" in str(refused.value), step
        assert sha256(path) == original, step
        assert not migrate.leftover_copies(path), step
        assert migrate.file_revision(path) == before, step  # the old app still opens it
    with Board.open(path, clock=lambda: TODAY) as board:  # the retry succeeds
        assert migrate.file_revision(path) == migrate.head_revision()
        assert board.maintenance.check().ok
