"""T12 on a real full disk: a size-limited tmpfs (root; the portable variant with
`max_page_count` is tests/services/test_maintenance.py), filled before a save, a backup and
a PDF export. Each fails naming the folder and the free space; nothing stored changes; the
board keeps working; once space is freed the same three succeed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from crlmboard.services import Board, BoardError
from crlmboard.store import backup as store_backup
from tests.conftest import GOLDEN, TODAY
from tests.mounts import fill_disk as fill
from tests.mounts import tmpfs

pytestmark = [pytest.mark.db, pytest.mark.slow]


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk", "6m") as mount:
        yield mount


def integrity(path: Path) -> str:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def test_a_full_tmpfs_fails_each_write_clearly_and_loses_nothing(disk: Path) -> None:
    db = disk / "board.sqlite3"
    target = disk / "exports" / "summary.pdf"
    with Board.open(db, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
        kept = {b.path for b in store_backup.list_backups(db)}
        case, version = board.cases.get_with_version("EX-0001")
        document = json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8"))
        bigger = case.model_copy(update={"labs": case.labs * 60})
        assert document  # (the golden file is readable before the disk fills)
        filler = fill(disk)
        with pytest.raises(BoardError) as refused:
            board.cases.save(bigger, version)
        assert f"disk holding {disk} is full" in str(refused.value)
        assert "MB free" in str(refused.value)
        with pytest.raises(BoardError) as refused:
            board.maintenance.backup()
        assert str(disk) in str(refused.value) and "MB free" in str(refused.value)
        with pytest.raises(OSError) as failed:
            board.reports.write_case_summary("EX-0001", target)
        assert str(target.parent) in str(failed.value) and "MB free" in str(failed.value)
        assert not target.exists() and not list(target.parent.glob(".*"))
        # nothing stored changed, nothing pruned, and the board still answers
        assert board.cases.get_with_version("EX-0001") == (case, version)
        assert {b.path for b in store_backup.list_backups(db) if b.verified} >= kept
        assert integrity(db) == "ok"
        filler.unlink()  # space freed: the same three succeed
        saved = board.cases.save(bigger, version)
        assert saved.version == version + 1
        assert board.maintenance.backup().verified
        board.reports.write_case_summary("EX-0001", target)
        assert target.read_bytes().startswith(b"%PDF")
        assert board.maintenance.check().ok
