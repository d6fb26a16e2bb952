"""Issue 23 item 4: two databases in one folder (`board.sqlite3`, `board.db`) keep their
backups apart — by the database id in each manifest — so `check` raises no false alarm
and `restore` refuses the other database's backup unless told explicitly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crlmboard.cli import main
from crlmboard.services import Board, BoardError
from crlmboard.services.maintenance import restore_database
from crlmboard.store import backup
from crlmboard.store.database import database_id
from tests.conftest import GOLDEN, TODAY, golden_cases

pytestmark = pytest.mark.db


def _twins(tmp_path: Path) -> tuple[Path, Path]:
    """board.sqlite3 with the three golden cases, board.db with one; each backed up."""
    big, small = tmp_path / "board.sqlite3", tmp_path / "board.db"
    with Board.open(big, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
        board.maintenance.backup()
    with Board.open(small, clock=lambda: TODAY) as board:
        assert board.cases.import_path(golden_cases()[0]).ok
        board.maintenance.backup()
    return big, small


def test_each_database_lists_only_its_own_backups(tmp_path: Path) -> None:
    big, small = _twins(tmp_path)
    for path, patients in ((big, 3), (small, 1)):
        with Board.open(path, clock=lambda: TODAY) as board:
            own = database_id(board.database.engine)
            found = board.maintenance.list_backups()
            assert found and all(b.verified for b in found)
            assert {b.patients for b in found} == {patients}
            assert {b.manifest["database_id"] for b in found} == {own}
            report = board.maintenance.check()
            assert report.ok, report.problems  # no false tamper alarm from the other's


def test_restore_refuses_the_other_databases_backup(tmp_path: Path) -> None:
    big, small = _twins(tmp_path)
    theirs = backup.list_backups(small)[0].path
    before = big.read_bytes()
    with pytest.raises(BoardError, match="another database") as refused:
        restore_database(big, theirs)
    assert "--other-database" in str(refused.value)
    assert big.read_bytes() == before
    with Board.open(big, clock=lambda: TODAY) as board:
        assert board.cases.count() == 3
        with pytest.raises(BoardError, match="another database"):
            board.maintenance.restore(theirs)
        assert board.cases.count() == 3


def test_restore_of_another_database_when_told_explicitly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big, small = _twins(tmp_path)
    theirs = backup.list_backups(small)[0].path
    assert main(["restore", str(theirs), "--db", str(big)]) == 2
    assert "another database" in capsys.readouterr().err
    assert main(["restore", str(theirs), "--other-database", "--db", str(big)]) == 0
    with Board.open(big, clock=lambda: TODAY) as board:
        assert board.cases.count() == 1
        assert board.maintenance.check().ok


def test_backups_made_before_database_ids_stay_findable(tmp_path: Path) -> None:
    """A backup whose manifest has no database id (made before 0006) still belongs to the
    database its manifest names."""
    big, small = _twins(tmp_path)
    for info in [*backup.list_backups(big), *backup.list_backups(small)]:
        manifest = json.loads(backup.manifest_path(info.path).read_text("utf-8"))
        del manifest["database_id"]
        backup.manifest_path(info.path).write_text(json.dumps(manifest), "utf-8")
    assert {b.patients for b in backup.list_backups(big)} == {3}
    assert {b.patients for b in backup.list_backups(small)} == {1}
