"""T24: backups made while another process saves, one after another, through the services."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from crlmboard.services import Board
from crlmboard.store import backup
from tests.conftest import GOLDEN, TODAY
from tests.reliability.conftest import child, run_to_end
from tests.reliability.test_concurrency import SAVER

pytestmark = [pytest.mark.db, pytest.mark.slow]

SAVES = 200
EVERY = 40  # a backup after every 40 saves the writer reports


def test_backups_while_another_process_saves(db_path: Path) -> None:
    """Every backup made during a stream of another process's saves verifies (integrity,
    manifest, audit chain) and is one consistent state: its audit head is a row of the
    source's chain with the same hash, and its case is the one that row describes. The
    writer loses nothing and is never refused."""
    # the writer lock is taken per write, as by the command line (which waits up to 10 s
    # for it); a machine this busy may need longer between the writer's saves
    with Board.open(db_path, clock=lambda: TODAY, exclusive=False, wait=60) as board:
        board.cases.import_path(GOLDEN / "upfront-resection.json")
        writer = child(SAVER, str(db_path), "EX-0001", str(SAVES), stdin=subprocess.PIPE)
        assert writer.stdout is not None and writer.stdin is not None
        assert writer.stdout.readline().strip() == "ready"
        writer.stdin.write("go\n")
        writer.stdin.flush()
        made: list[Path] = []
        seen = 0
        for line in writer.stdout:
            if line.startswith("saved"):
                seen += 1
                if seen % EVERY == 0 and seen < SAVES:
                    made.append(board.maintenance.backup().path)
            if line.startswith("done"):
                assert line.split() == ["done", "0"], line
                break
        ((_, err),) = run_to_end([writer])
        assert writer.returncode == 0, err
        assert len(made) == SAVES // EVERY - 1
    source = sqlite3.connect(db_path)
    chain = dict(source.execute("SELECT seq, row_hash FROM audit_event"))
    source.close()
    versions = set()
    for path in made:
        info = backup.verify_backup(path, deep=True)
        assert info.verified, info.problem
        assert info.audit_head is not None
        assert chain[info.audit_head.seq] == info.audit_head.hash  # a state that existed
        opened = db_path.parent / "restored" / path.name  # a copy: the backup stays as made
        opened.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, opened)
        with Board.open(opened, clock=lambda: TODAY, exclusive=False) as copy:
            report = copy.maintenance.check()
            # the only problem: the key store's checkpoint is of the later, live state (a
            # copy opened outside File > Restore looks like a shortened trail, rightly)
            cut = f"audit rows after row {info.audit_head.seq} are missing"
            assert all(p.startswith(cut) for p in report.problems), report.problems
            case, version = copy.cases.get_with_version("EX-0001")
            # the copy's case is the one its newest weight update wrote
            weights = [
                e.after["weight_kg"]
                for e in copy.maintenance.case_history("EX-0001")
                if e.action == "update" and e.after and "weight_kg" in e.after
            ]
            assert case.patient.weight_kg == pytest.approx(weights[-1])
            assert version == 1 + len(weights)
            versions.add(version)
    assert len(versions) == len(made)  # each backup caught a different moment


ONE_SAVE = """
import sys
from crlmboard.services import Board, BoardError
from tests.conftest import TODAY
board = Board.open(sys.argv[1], clock=lambda: TODAY, exclusive=False, wait=0)
case, version = board.cases.get_with_version("EX-0001")
patient = case.patient.model_copy(update={"weight_kg": 77.7})
try:
    board.cases.save(case.model_copy(update={"patient": patient}), version)
    print("saved", flush=True)
except BoardError as error:
    print("refused", type(error).__name__, flush=True)
board.close()
"""


def test_another_process_saves_while_the_pages_are_copied(db_path: Path) -> None:
    """T24 at scale: the command line's backup holds the writer lock only while it takes its
    snapshot and signs it, not while the pages are copied (a 10,000-patient copy takes tens
    of seconds; a save waits 10 s for the lock at most).  A save made mid-copy is stored; the
    copy is the snapshot, with its head's checkpoint in the manifest."""
    with Board.open(db_path, clock=lambda: TODAY, exclusive=False, wait=10) as board:
        board.cases.import_path(GOLDEN / "upfront-resection.json")
        with sqlite3.connect(db_path) as connection:
            before = connection.execute("SELECT max(seq), row_hash FROM audit_event").fetchone()
        answers: list[str] = []

        def copying(done: int, total: int) -> None:
            if not answers:  # the first batch of pages is copied: another process saves
                saver = child(ONE_SAVE, str(db_path))
                out, err = saver.communicate(timeout=300)
                assert saver.returncode == 0, err
                answers.append(out.strip())

        info = board.maintenance.backup(progress=copying)
    assert answers == ["saved"]
    with sqlite3.connect(db_path) as connection:
        after = connection.execute("SELECT max(seq) FROM audit_event").fetchone()[0]
    assert after > before[0]  # the save is stored
    checked = backup.verify_backup(info.path, deep=True)
    assert checked.verified, checked.problem
    assert checked.audit_head is not None
    assert (checked.audit_head.seq, checked.audit_head.hash) == tuple(before)  # the snapshot
    signed = checked.manifest["checkpoint"]
    assert (signed["seq"], signed["hash"]) == tuple(before)
