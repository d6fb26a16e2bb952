"""Every file the app writes that holds patients' data is readable by its owner only (0600),
whatever the umask: case files, mCODE bundles, PDFs, meeting packs, figures, backups."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from crlmboard.cli import main
from crlmboard.services import Board
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_exports_pdfs_and_backups_are_owner_only(
    db_path: Path, tmp_path: Path, permissive_umask: None
) -> None:
    with Board.open(db_path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
        meeting = board.meetings.create(TODAY.isoformat(), "16:00").meeting_id
        board.meetings.add_to_agenda(meeting, "EX-0001", "Resect now?")
    out = tmp_path / "out"
    db = ["--db", str(db_path)]
    commands = {
        "case.json": ["export", "EX-0001", "-o"],
        "bundle.json": ["fhir", "EX-0001", "-o"],
        "summary.pdf": ["pdf", "EX-0001", "-o"],
        "pack.pdf": ["meeting-pack", TODAY.isoformat(), "-o"],
        "figures.csv": ["figures", "--from", "2026-01-01", "--to", "2026-12-31", "-o"],
        "backup.sqlite3": ["backup", "-o"],
    }
    for name, command in commands.items():
        assert main([*command, str(out / name), *db]) == 0, name
    for name in commands:
        assert (out / name).stat().st_mode & 0o777 == 0o600, name
    for backup in (db_path.parent / "backups").glob("*"):
        assert backup.stat().st_mode & 0o777 == 0o600, backup
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporaries left
