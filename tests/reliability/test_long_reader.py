"""T11: a long reader does not leave the write-ahead log large for the rest of the day.

While another connection holds a read transaction, checkpoints cannot reset the -wal, so it
grows with every write. After the reader is gone, the next checkpoint must bring it back
under 4 MB while the app stays open (not only at close, T6)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crlmboard.services import Board
from tests.conftest import GOLDEN, TODAY

pytestmark = [pytest.mark.db, pytest.mark.slow]

LIMIT = 4 * 1024 * 1024


def wal_size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_the_wal_shrinks_after_a_long_reader(db_path: Path) -> None:
    with Board.open(db_path, clock=lambda: TODAY) as board:
        board.cases.import_path(GOLDEN)
        reader = sqlite3.connect(db_path, isolation_level=None)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM patient").fetchone()[0] == 3
        saves = 0
        while wal_size(db_path) <= 2 * LIMIT:  # writes go on, however long the reader stays
            case, version = board.cases.get_with_version("EX-0001")
            patient = case.patient.model_copy(update={"weight_kg": 40 + saves / 100})
            board.cases.save(case.model_copy(update={"patient": patient}), version)
            saves += 1
            assert saves < 5000, "the -wal does not grow: is the reader holding it?"
        assert reader.execute("SELECT count(*) FROM patient").fetchone()[0] == 3
        reader.execute("COMMIT")
        reader.close()
        for step in range(20):  # the work of the rest of the day: the next checkpoints run
            case, version = board.cases.get_with_version("EX-0002")
            patient = case.patient.model_copy(update={"weight_kg": 60 + step / 100})
            board.cases.save(case.model_copy(update={"patient": patient}), version)
        assert wal_size(db_path) < LIMIT, (saves, wal_size(db_path))
        assert board.cases.get("EX-0001").patient.weight_kg == pytest.approx(40 + (saves - 1) / 100)
