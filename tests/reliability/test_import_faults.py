"""Issue 23 items 5–7: folder imports under contention, with malformed files, and on a
full disk.  Real processes, real files, a real size-limited filesystem (tmpfs, as root)."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crlmboard.cli import main
from tests.conftest import GOLDEN
from tests.mounts import tmpfs
from tests.reliability.conftest import ROOT

pytestmark = [pytest.mark.db, pytest.mark.slow]


def case_text(upfront: dict[str, Any], mrn: str) -> str:
    document = copy.deepcopy(upfront)
    document["patient"]["mrn"] = mrn
    return json.dumps(document)


def folder_of_cases(folder: Path, upfront: dict[str, Any], prefix: str, count: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        (folder / f"{prefix}-{i:04d}.json").write_text(case_text(upfront, f"{prefix}-{i:04d}"))
    return folder


def stored_mrns(db: Path) -> set[str]:
    connection = sqlite3.connect(db)
    try:
        return {r[0] for r in connection.execute("SELECT mrn FROM patient")}
    finally:
        connection.close()


def crlmboard(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), CRLMBOARD_LOCK_WAIT="60")
    return subprocess.Popen(
        [sys.executable, "-m", "crlmboard", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# -- item 5 ------------------------------------------------------------------------------


def test_two_concurrent_folder_imports_both_finish(tmp_path: Path, upfront: dict[str, Any]) -> None:
    """Two `crlmboard import <folder>` at once: no deadlock, every file of both stored."""
    db = tmp_path / "board.sqlite3"
    assert main(["init", "--db", str(db)]) == 0
    first = folder_of_cases(tmp_path / "a", upfront, "A", 60)
    second = folder_of_cases(tmp_path / "b", upfront, "B", 60)
    runs = [crlmboard("import", str(folder), "--db", str(db)) for folder in (first, second)]
    results = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, results, strict=True):
        assert run.returncode == 0, err
        assert "60 imported, 0 refused." in out
    assert len(stored_mrns(db)) == 120
    assert main(["check", "-q", "--db", str(db)]) == 0


# -- item 6 ------------------------------------------------------------------------------


def malformed(upfront: dict[str, Any]) -> dict[str, str]:
    """File name -> text of files a folder import must refuse one by one."""
    good = case_text(upfront, "BAD-0")
    deep_list = good[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}"
    deep_object = good[:-1] + ', "x": ' + '{"a":' * 3000 + "1" + "}" * 3000 + "}"
    long_number = good.replace('"cea_ng_ml": ', '"cea_ng_ml": ' + "9" * 5000 + ', "y": ', 1)
    patient_list = json.loads(good)
    patient_list["patient"] = []
    duplicate = good[:-1] + ', "patient": {"mrn": "BAD-DUP"}}'
    return {
        "bad-deep-list.json": deep_list,
        "bad-deep-object.json": deep_object,
        "bad-long-number.json": long_number,
        "bad-top-level-list.json": "[" + good + "]",
        "bad-patient-list.json": json.dumps(patient_list),
        "bad-duplicate-key.json": duplicate,
        "bad-not-utf8.json": "Ödön".encode("latin-1").decode("latin-1") + "\udcff",
    }


def test_malformed_files_are_refused_one_by_one(
    tmp_path: Path, upfront: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "board.sqlite3"
    assert main(["init", "--db", str(db)]) == 0
    folder = folder_of_cases(tmp_path / "in", upfront, "OK", 40)
    bad = malformed(upfront)
    for name, text in bad.items():
        (folder / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    capsys.readouterr()
    assert main(["import", str(folder), "--db", str(db)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "Something went wrong" not in captured.err
    assert "40 imported, 7 refused." in captured.out
    assert stored_mrns(db) == {f"OK-{i:04d}" for i in range(40)}
    for name in bad:
        assert f"refused {folder / name}:" in captured.err
    assert "nested too deeply" in captured.err
    assert "digits" in captured.err
    assert "appears twice" in captured.err
    assert "must be an object" in captured.err
    assert main(["check", "-q", "--db", str(db)]) == 0


# -- item 7 ------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A 6 MB tmpfs (needs root; CI runs as root)."""
    with tmpfs(tmp_path / "disk", "6m") as mount:
        yield mount


def fill(disk: Path, leave: int) -> Path:
    """Fill the disk so that `leave` bytes stay free."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    filler = disk / "filler"
    with filler.open("wb") as stream:
        stream.write(b"\0" * max(0, free - leave))
    return filler


def test_a_full_disk_during_a_folder_import_says_exactly_what_is_stored(
    small_disk: Path, tmp_path: Path, upfront: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    db = small_disk / "board.sqlite3"
    assert main(["init", "--db", str(db)]) == 0
    assert main(["import", str(GOLDEN), "--db", str(db)]) == 0  # something to back up
    folder = folder_of_cases(tmp_path / "in", upfront, "FULL", 200)
    filler = fill(small_disk, 400_000)
    capsys.readouterr()
    code = main(["import", str(folder), "--db", str(db)])
    captured = capsys.readouterr()
    assert code == 1, captured
    assert "Traceback" not in captured.err and "nothing was saved" not in captured.err
    assert "is full" in captured.err
    said_stored = {
        line.split(" from ")[0].removeprefix("imported ")
        for line in captured.out.splitlines()
        if line.startswith("imported ")
    }
    said_not_stored = {
        Path(line.strip().split(" ")[0]).stem
        for line in captured.err.splitlines()
        if line.startswith("  ") and line.strip().startswith(str(folder))
    }
    stored = stored_mrns(db) - {"EX-0001", "EX-0002", "EX-0003"}
    # The disk fills before the end; whether a batch committed before that depends on the
    # machine's speed (a batch commits every second or 200 files), so only what was said
    # is checked against what is stored, whichever way it went.
    assert len(stored) < 200
    assert said_stored == stored
    assert said_not_stored == {f"FULL-{i:04d}" for i in range(200)} - stored
    assert f"{len(stored)} of 200 files stored" in captured.err
    filler.unlink()  # space again: the retry stores the rest and refuses none as stored
    rest = tmp_path / "rest"
    rest.mkdir()
    for mrn in said_not_stored:
        (rest / f"{mrn}.json").write_text((folder / f"{mrn}.json").read_text())
    assert main(["import", str(rest), "--db", str(db)]) == 0
    assert len(stored_mrns(db)) == 203
    assert main(["check", "-q", "--db", str(db)]) == 0
