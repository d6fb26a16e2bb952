"""Writes that share transactions (`Database.batched`, used by folder imports): each write
handed the batch is still all or nothing, the audit chain stays whole across refused writes,
and an error that escapes loses only what was never reported as done."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from crlmboard.domain.caseformat import case_from_dict
from crlmboard.services import Board
from crlmboard.store import audit
from crlmboard.store.repositories import CaseRepository, CaseSummary
from tests.conftest import TODAY

pytestmark = pytest.mark.db


def document(upfront: dict[str, Any], mrn: str) -> dict[str, Any]:
    return {**upfront, "patient": {**upfront["patient"], "mrn": mrn}}


def write(folder: Path, name: str, data: Any) -> None:
    (folder / name).write_text(data if isinstance(data, str) else json.dumps(data), "utf-8")


def chain_ok(board: Board) -> bool:
    with board.database.engine.connect() as connection:
        return audit.verify_chain(connection).ok


def test_a_folder_import_keeps_good_files_and_refuses_bad_ones(
    board: Board, upfront: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "a.json", document(upfront, "BATCH-1"))
    write(folder, "b.json", "{ not json")
    write(folder, "c.json", document(upfront, "BATCH-1"))  # the same MRN again
    write(
        folder,
        "d.json",
        {
            **document(upfront, "BATCH-2"),
            "patient": {**upfront["patient"], "mrn": "BATCH-2", "ecog": 9},
        },
    )
    write(folder, "e.json", document(upfront, "BATCH-3"))
    summary = board.cases.import_path(folder)
    assert [mrn for _, mrn in summary.imported] == ["BATCH-1", "BATCH-3"]
    assert [Path(name).name for name, _ in summary.refused] == ["b.json", "c.json", "d.json"]
    assert "already exists" in summary.refused[1][1][0].message
    assert board.cases.count() == 2
    report = board.maintenance.check()
    assert report.ok, report.problems
    assert report.audit_rows == 2  # one `changes` row per imported case


def test_a_failed_write_inside_a_batch_leaves_the_chain_whole(
    board: Board, upfront: dict[str, Any]
) -> None:
    first = case_from_dict(document(upfront, "KEEP-1"), TODAY)
    lost = case_from_dict(document(upfront, "LOST-1"), TODAY)
    second = case_from_dict(document(upfront, "KEEP-2"), TODAY)
    with board.database.batched() as batch:
        with board.database.write(batch) as session:
            CaseRepository(session).create(first, CaseSummary())
        with pytest.raises(RuntimeError), board.database.write(batch) as session:
            CaseRepository(session).create(lost, CaseSummary())  # audit rows flushed…
            raise RuntimeError("…then the write fails")
        with board.database.write(batch) as session:
            CaseRepository(session).create(second, CaseSummary())
    assert [e.mrn for e in board.cases.page(sort="mrn")] == ["KEEP-1", "KEEP-2"]
    assert chain_ok(board)
    assert board.maintenance.check().ok


def test_an_escaping_error_rolls_back_only_what_was_not_committed(
    board: Board, upfront: dict[str, Any]
) -> None:
    with pytest.raises(RuntimeError), board.database.batched(writes=2) as batch:
        for n in range(3):
            with board.database.write(batch) as session:
                CaseRepository(session).create(
                    case_from_dict(document(upfront, f"ESC-{n}"), TODAY), CaseSummary()
                )
        raise RuntimeError("the program stops")
    # the first two were committed together; the third was never reported as done
    assert [e.mrn for e in board.cases.page(sort="mrn")] == ["ESC-0", "ESC-1"]
    assert chain_ok(board)
    # the board writes normally afterwards
    with board.database.batched() as batch, board.database.write(batch) as session:
        CaseRepository(session).create(
            case_from_dict(document(upfront, "ESC-9"), TODAY), CaseSummary()
        )
    assert board.cases.count() == 3 and chain_ok(board)


def test_another_writer_waits_at_most_one_batch(
    board: Board, upfront: dict[str, Any], db_path: Path
) -> None:
    """A batch commits on its own schedule: what it committed is visible to a second
    connection while the batch goes on."""
    with board.database.batched(writes=1) as batch:
        with board.database.write(batch) as session:
            CaseRepository(session).create(
                case_from_dict(document(upfront, "SEEN-1"), TODAY), CaseSummary()
            )
        engine = sa.create_engine(f"sqlite:///{db_path}")
        try:
            with engine.connect() as connection:
                seen = (
                    connection.exec_driver_sql("SELECT mrn FROM patient ORDER BY mrn")
                    .scalars()
                    .all()
                )
        finally:
            engine.dispose()
    assert seen == ["SEEN-1"]
