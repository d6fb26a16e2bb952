"""Crashes: SIGKILL during a stream of saves (T1, minimum-six fault 1) and during a schema
upgrade (T3).  Children are fresh interpreters running the real services."""

from __future__ import annotations

import copy
import hashlib
import json
import random
import shutil
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import case_from_dict
from crlmboard.services import Board
from crlmboard.services.maintenance import encrypt_database
from crlmboard.store import migrate
from crlmboard.store.database import connect_sqlite
from tests.conftest import GOLDEN, TODAY
from tests.reliability.conftest import child, trials

pytestmark = [pytest.mark.db, pytest.mark.slow]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

WRITER = """
import os, sys
from crlmboard.services import Board
from tests.reliability.test_crash import TODAY, expected_case
board = Board.open(
    sys.argv[1], clock=lambda: TODAY, passphrase=os.environ.get("CRLMBOARD_PASSPHRASE")
)
print("ready", flush=True)
i = 0
while True:
    case = expected_case(i)
    board.cases.create(case)
    print(case.mrn, flush=True)
    i += 1
"""


def expected_case(i: int) -> Case:
    """The i-th case the writer saves (varied, so every table sees different counts)."""
    document: dict[str, Any] = json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8"))
    document = copy.deepcopy(document)
    document["patient"]["mrn"] = f"T1-{i:05d}"
    document["labs"] = document["labs"][: 1 + i % max(1, len(document["labs"]))]
    document["imaging"] = document["imaging"][: 1 + i % max(1, len(document["imaging"]))]
    return case_from_dict(document, TODAY)


PASSPHRASE = "synthetic crash passphrase"


def sqlite_sound(path: Path) -> None:
    connection = connect_sqlite(path, wal=False)  # plain, or keyed when encrypted
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_sigkill_during_a_stream_of_saves(
    tmp_path: Path, encrypted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T1: acknowledged ⊆ stored, at most one more, every stored case whole and audited;
    on a SQLCipher database too (a quarter of the trials)."""
    count = trials("T1", 20)
    if encrypted:
        monkeypatch.setenv("CRLMBOARD_PASSPHRASE", PASSPHRASE)
        count = max(1, count // 4)
    for trial in range(count):
        path = tmp_path / f"t1-{trial}.sqlite3"
        if encrypted:
            Board.open(path, clock=lambda: TODAY).close()
            encrypt_database(path, PASSPHRASE)
        process = child(WRITER, str(path))
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready", process.stderr
        pause = random.Random(trial).uniform(0.1, 1.0)
        try:
            process.wait(timeout=pause)
        except Exception:
            process.send_signal(signal.SIGKILL)
        out, err = process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL, err
        acknowledged = {line for line in out.split("\n")[:-1] if line}  # complete lines
        sqlite_sound(path)
        connection = connect_sqlite(path, wal=False)
        stored = {r[0] for r in connection.execute("SELECT mrn FROM patient")}
        connection.close()
        assert acknowledged <= stored
        assert len(stored - acknowledged) <= 1
        with Board.open(path, clock=lambda: TODAY) as board:
            assert all("not closed properly" in note for note in board.notes)
            for mrn in stored:
                assert board.cases.get(mrn) == expected_case(int(mrn.split("-")[1])), mrn
            report = board.maintenance.check()
            assert report.ok, report.problems


MIGRATOR = """
import sys, time
import alembic.op
from crlmboard.services.maintenance import encrypt_database
from crlmboard.store import migrate
from crlmboard.store.database import connect_sqlite
where = sys.argv[2]

def pause():
    print("paused", flush=True)
    time.sleep(60)

if where.startswith("op"):
    step, calls, real = int(where[2:]), [], alembic.op.execute
    def execute(*args, **kwargs):
        calls.append(1)
        if len(calls) == step:
            pause()
        return real(*args, **kwargs)
    alembic.op.execute = execute
else:
    real_fsync = migrate._fsync
    def fsync(path):
        is_folder = path.is_dir()
        if where == "after-replace" and is_folder:
            pause()
        real_fsync(path)
        if where == "before-replace" and not is_folder:
            pause()
    migrate._fsync = fsync
from crlmboard.services import Board
Board.open(sys.argv[1]).close()
print("opened", flush=True)
"""


@pytest.mark.parametrize("where", ["op1", "op3", "before-replace", "after-replace"])
def test_sigkill_during_a_schema_upgrade(tmp_path: Path, where: str) -> None:
    """T3: on reopen the original is byte-identical or the upgrade completed, never a mix;
    no temporary tables or copies remain."""
    path = tmp_path / "board.sqlite3"
    shutil.copyfile(FIXTURES / "schema-0001.sqlite3", path)
    original = hashlib.sha256(path.read_bytes()).hexdigest()
    process = child(MIGRATOR, str(path), where)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "paused", process.communicate()[1]
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    if where == "after-replace":
        assert migrate.file_revision(path) == migrate.head_revision()
    else:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == original
        assert migrate.leftover_copies(path)  # what the kill left behind
    sqlite_sound(path)
    with Board.open(path, clock=lambda: TODAY) as board:
        assert board.cases.count() == 3
        report = board.maintenance.check()
        assert report.ok, report.problems
    assert not migrate.leftover_copies(path)
    with sqlite3.connect(path) as connection:
        names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master")]
    connection.close()
    assert not [n for n in names if n.startswith("_alembic")]
    assert migrate.file_revision(path) == migrate.head_revision()


BACKUP_KILLED = """
import sys, time
from crlmboard.store import backup
from tests.conftest import TODAY
where = sys.argv[2]

def pause(*args, **kwargs):
    print("paused", flush=True)
    time.sleep(60)

if where == "copying":
    backup.integrity_check = pause          # the copy is written, not yet checked or renamed
elif where == "manifest":
    backup.write_private_atomically = pause  # renamed into place, manifest not yet written
else:
    real = backup.restore_file
    def restore_file(source, database, *more):
        import os
        real_replace = os.replace
        def replace(a, b):
            if str(b) == str(database):
                pause()
            real_replace(a, b)
        os.replace = replace
        real(source, database, *more)
    backup.restore_file = restore_file
from crlmboard.services import Board
with Board.open(sys.argv[1], clock=lambda: TODAY) as board:
    if where == "restore":
        board.maintenance.restore(sys.argv[3])
    else:
        board.maintenance.backup()
"""


@pytest.mark.parametrize("where", ["copying", "manifest", "restore"])
def test_sigkill_during_a_backup_or_a_restore(tmp_path: Path, where: str) -> None:
    """T2 (backup killed: the live database is untouched, the half-made backup is never
    offered and is removed at the next start, nothing verified is pruned) and T4's restore
    half (killed: the old or the new database, and the pre-restore backup exists)."""
    from crlmboard.store import backup as store_backup
    from tests.services.test_maintenance import table_hashes

    path = tmp_path / "board.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as board:
        board.cases.import_path(GOLDEN)
    before = table_hashes(path)
    kept = {b.path for b in store_backup.list_backups(path)}
    assert kept
    process = child(BACKUP_KILLED, str(path), where, str(next(iter(kept))))
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "paused", process.communicate()[1]
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    sqlite_sound(path)
    assert table_hashes(path) == before
    listed = store_backup.list_backups(path)
    assert {b.path for b in listed if b.verified} >= kept
    if where == "restore":
        assert any(b.reason == "before restore" and b.verified for b in listed)
    with Board.open(path, clock=lambda: TODAY) as board:
        assert board.cases.count() == 3
        assert board.maintenance.check().ok
    folder = path.parent / "backups"
    assert not list(folder.glob(".*tmp*"))
    assert all(b.verified for b in store_backup.list_backups(path))
    assert not list(tmp_path.glob(".*restoring*"))


RESTORE_KILLED_AFTER_SWAP = """
import os, signal, sys
database = sys.argv[1]
real_replace = os.replace

def replace(source, target):
    real_replace(source, target)
    if str(target) == database:  # the restored file is in place: die before anything else
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = replace
from crlmboard.services.maintenance import restore_database
restore_database(database, sys.argv[2])
print("not killed", flush=True)
"""


@pytest.mark.parametrize("older_schema", [False, True], ids=["same-schema", "schema-0005"])
def test_sigkill_right_after_the_restore_swap_keeps_the_restore_audited(
    tmp_path: Path, older_schema: bool
) -> None:
    """Issue 23 item 8: the `restore` audit row and the file swap are one step — killed
    right after the swap, the database is the backup's content with its restore row, and
    `check` reports no tampering."""
    from crlmboard.store import audit
    from crlmboard.store import backup as store_backup
    from tests.services.test_maintenance import table_hashes

    path = tmp_path / "board.sqlite3"
    if older_schema:
        shutil.copyfile(FIXTURES / "schema-0005.sqlite3", path)
        chosen = tmp_path / "old.sqlite3"
        shutil.copyfile(path, chosen)  # a database file of the older schema, no manifest
        with Board.open(path, clock=lambda: TODAY) as board:
            board.cases.import_path(GOLDEN, replace=True)
    else:
        with Board.open(path, clock=lambda: TODAY) as board:
            board.cases.import_path(GOLDEN)
            chosen = board.maintenance.backup().path
            case, version = board.cases.get_with_version("EX-0001")
            board.cases.save(case.model_copy(update={"labs": []}), version)
    expected = table_hashes(chosen)
    process = child(RESTORE_KILLED_AFTER_SWAP, str(path), str(chosen))
    out, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL, out + err
    sqlite_sound(path)
    with Board.open(path, clock=lambda: TODAY) as board:
        report = board.maintenance.check()
        assert report.ok, report.problems
        with board.database.engine.connect() as connection:
            last = connection.execute(
                audit.AUDIT.select().order_by(audit.AUDIT.c.seq.desc()).limit(1)
            ).one()
        assert last.action == "restore" and chosen.name in (last.after_json or "")
        assert board.cases.get("EX-0001").labs  # the backup's content
    restored = table_hashes(path)
    if not older_schema:
        assert {t: h for t, h in restored.items() if t != "audit_event"} == {
            t: h for t, h in expected.items() if t != "audit_event"
        }
    assert any(b.reason == "before restore" for b in store_backup.list_backups(path))


EXPORT_KILLED = """
import os, signal, sys
database, target, where = sys.argv[1], sys.argv[2], sys.argv[3]
real_fsync, real_replace = os.fsync, os.replace

def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)

def fsync(fd):
    if where == "writing":  # the temporary file is written but not yet on disk
        die()
    return real_fsync(fd)

def replace(source, destination):
    if str(destination) == target and where == "before-rename":
        die()
    real_replace(source, destination)
    if str(destination) == target and where == "after-rename":
        die()

os.fsync, os.replace = fsync, replace
from crlmboard.services import Board
from tests.conftest import TODAY
with Board.open(database, clock=lambda: TODAY, exclusive=False) as board:
    board.reports.write_case_summary("EX-0001", target)
print("not killed", flush=True)
"""


@pytest.mark.parametrize("where", ["writing", "before-rename", "after-rename"])
def test_sigkill_during_a_pdf_export(tmp_path: Path, where: str) -> None:
    """T4, PDF half: killed while writing the case summary over an older PDF, the target is
    the old file or the whole new one (it opens, and its last page says "n of n")."""
    import subprocess

    from pypdf import PdfReader

    path = tmp_path / "board.sqlite3"
    target = tmp_path / "exports" / "summary.pdf"
    with Board.open(path, clock=lambda: TODAY) as board:
        board.cases.import_path(GOLDEN)
        board.reports.write_case_summary("EX-0002", target)  # the older file
    process = child(EXPORT_KILLED, str(path), str(target), where)
    out, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL, (out, err)
    pages = len(PdfReader(target).pages)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(target), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert f"page {pages} of {pages}" in text
    expected = "EX-0001" if where == "after-rename" else "EX-0002"
    assert expected in text and ({"EX-0001", "EX-0002"} - {expected}).pop() not in text
    # the killed export's temporary file goes with the next export of that file
    with Board.open(path, clock=lambda: TODAY) as board:
        board.reports.write_case_summary("EX-0003", target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["summary.pdf"]
