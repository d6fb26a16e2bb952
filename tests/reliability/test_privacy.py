"""Security: no patient name or MRN in any log, manifest or error output (T35), and no
network access by anything the app does (T37)."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from crlmboard.cli import main
from crlmboard.services import Board
from crlmboard.store.repositories import CaseRepository
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db

NAME, GIVEN, MRN = "ZZSENTINEL", "Ödön 王", "MRN-SENTINEL-7788"
SENTINELS = (NAME, GIVEN, MRN, "Ödön", "王")


def sentinel_case(upfront: dict[str, Any], folder: Path) -> Path:
    upfront["patient"].update(mrn=MRN, family_name=NAME, given_name=GIVEN)
    upfront["reviews"] = [
        {
            "meeting_date": "2025-02-04",
            "decision": "Resect.",
            "signed_by": "Dr Lind",
            "signed_at": "2025-02-04T13:00:00Z",
        }
    ]
    path = folder / "sentinel.json"
    path.write_text(json.dumps(upfront, ensure_ascii=False), "utf-8")
    return path


def assert_clean(text: str, where: str) -> None:
    for sentinel in SENTINELS:
        assert sentinel not in text, f"{sentinel!r} found in {where}"


def test_no_names_or_mrns_in_logs(
    tmp_path: Path,
    upfront: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """T35: import, edit, refused edit of a signed review, evaluate, PDF, backup, restore,
    check and a forced unexpected exception leave no trace of the patient in the logs,
    backup manifests, lock file or error output."""
    caplog.set_level(logging.DEBUG)
    db = str(tmp_path / "board.sqlite3")
    source = sentinel_case(upfront, tmp_path)
    assert main(["init", "--db", db]) == 0
    assert main(["import", str(source), "--db", db]) == 0
    capsys.readouterr()  # the import lists what it imported, as asked: not a log
    with Board.open(db, clock=lambda: TODAY) as board:
        case, version = board.cases.get_with_version(MRN)
        patient = case.patient.model_copy(update={"ecog": 1})
        version = board.cases.save(case.model_copy(update={"patient": patient}), version).version
        changed = case.reviews[0].model_copy(update={"decision": "No."})
        with pytest.raises(Exception, match="signed"):
            board.cases.save(case.model_copy(update={"reviews": [changed]}), version)
        board.evaluation.evaluate(case)
        assert board.reports.case_summary(MRN).startswith(b"%PDF")
    outputs = []
    for command in (["backup"], ["backups"], ["check", "-q"]):
        code = main([*command, "--db", db])
        outputs.append(capsys.readouterr())
        assert code == 0, outputs[-1]
    backup_file = next((tmp_path / "backups").glob("board.sqlite3-*.sqlite3"))
    assert main(["restore", str(backup_file), "--db", db]) == 0
    outputs.append(capsys.readouterr())

    def unexpected(self: CaseRepository, cases: Any) -> list[int]:
        self.session.execute(
            sa.text("SELECT :mrn, :name"), {"mrn": MRN, "name": {"family": NAME, "given": GIVEN}}
        )
        raise AssertionError("not reached")

    monkeypatch.setattr(CaseRepository, "create_many", unexpected)
    upfront["patient"]["mrn"] = MRN + "-2"
    (tmp_path / "second.json").write_text(json.dumps(upfront), "utf-8")
    assert main(["import", str(tmp_path / "second.json"), "--db", db]) == 1
    outputs.append(capsys.readouterr())
    assert "internal error" in outputs[-1].err  # this file refused; an import goes on
    assert "traceback without values" in caplog.text  # the traceback was logged

    assert_clean(caplog.text, "the log records")
    for record in caplog.records:
        if record.exc_info:
            assert_clean(logging.Formatter().formatException(record.exc_info), "a traceback")
    for captured in outputs:
        assert_clean(captured.out + captured.err, "command output")
    for path in [*(tmp_path / "backups").glob("*.json"), Path(f"{db}.lock")]:
        assert_clean(path.read_text("utf-8"), str(path))
    import os

    log_dir = Path(os.environ["CRLMBOARD_LOG_DIR"])
    for path in log_dir.glob("*") if log_dir.exists() else []:
        assert_clean(path.read_text("utf-8", errors="replace"), str(path))


def test_nothing_touches_the_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """T37: demo, import, evaluate, PDF, backup, restore and check with every way out
    blocked; no attempt is made."""
    attempts: list[str] = []

    def refuse(name: str) -> Any:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            attempts.append(name)
            raise OSError(f"network access attempted: {name}")

        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    from crlmboard.services.demo import create_demo_database

    board, summary = create_demo_database(tmp_path / "demo.sqlite3")
    try:
        assert summary.ok
        board.cases.import_path(GOLDEN / "upfront-resection.json")
        case = board.cases.get("EX-0001")
        board.evaluation.evaluate(case)
        assert board.reports.case_summary("EX-0001").startswith(b"%PDF")
        info = board.maintenance.backup()
        board.maintenance.restore(info.path)
        assert board.maintenance.check().ok
    finally:
        board.close()
    assert attempts == []


def test_no_names_in_temporary_files_or_output_of_the_pdfs(
    tmp_path: Path,
    upfront: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """T35, the rest: the meeting pack, the case PDF, the letter and the case file written
    by the command line (one to a folder that cannot be written) leave nothing in the
    temporary folder, nothing beside the files written, and no name or MRN in what the
    commands print or log."""
    import os
    import tempfile
    from datetime import timedelta

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    db = str(tmp_path / "board.sqlite3")
    out = tmp_path / "out"
    out.mkdir()
    assert main(["init", "--db", db]) == 0
    assert main(["import", str(sentinel_case(upfront, tmp_path)), "--db", db]) == 0
    capsys.readouterr()  # the import lists what it imported, as asked
    day = TODAY - timedelta(days=1)
    with Board.open(db, clock=lambda: TODAY) as board:
        meeting = board.meetings.create(day).meeting_id
        board.meetings.add_to_agenda(meeting, MRN, "Resect first?")
    blocked = tmp_path / "a-file"  # a "folder" that is a file: the pack cannot go there
    blocked.write_text("not a folder", "utf-8")
    commands = [
        ["meeting-pack", day.isoformat(), "-o", str(out / "pack.pdf")],
        ["pdf", MRN, "-o", str(out / "summary.pdf")],
        ["letter", MRN, "--review", "1", "-o", str(out / "letter.pdf")],
        ["export", MRN, "-o", str(out / "case.json")],
        ["meeting-pack", day.isoformat(), "-o", str(blocked / "pack.pdf")],  # refused
        ["check", "-q"],
    ]
    outputs = []
    for command in commands:
        code = main([*command, "--db", db])
        outputs.append(capsys.readouterr())
        assert code == (2 if blocked.name in command[-1] else 0), outputs[-1]
    assert (out / "pack.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in out.iterdir()) == [
        "case.json",
        "letter.pdf",
        "pack.pdf",
        "summary.pdf",
    ]  # nothing half-written or temporary beside them
    assert list(temporary.iterdir()) == []  # nothing left in the temporary folder
    for captured in outputs:
        assert_clean(captured.out + captured.err, "command output")
    log_dir = Path(os.environ["CRLMBOARD_LOG_DIR"])
    for path in log_dir.glob("*") if log_dir.exists() else []:
        assert_clean(path.read_text("utf-8", errors="replace"), str(path))


def test_the_demo_leaves_the_permissions_of_a_folder_it_did_not_make_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`crlmboard demo --db /tmp/demo.sqlite3` made /tmp itself 0700 (no sticky bit, no one
    else let in: another user's programs, the PostgreSQL server of the tests, broke): the
    demo tightened the folder of the file it was given.  A folder it creates is 0700; one
    that exists keeps its mode; the database file is the owner's only."""
    import os
    import stat

    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    assert main(["demo", "--no-open", "--db", str(shared / "demo.sqlite3")]) == 0
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE((shared / "demo.sqlite3").stat().st_mode) & 0o077 == 0
    fresh = tmp_path / "new-folder" / "demo.sqlite3"
    assert main(["demo", "--no-open", "--db", str(fresh)]) == 0
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
    capsys.readouterr()
