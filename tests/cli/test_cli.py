"""The command line: exit codes, messages, and no traceback for a user's mistake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crlmboard.cli import main
from crlmboard.domain.caseformat import normalised
from tests.conftest import GOLDEN

pytestmark = pytest.mark.db


def run(*args: str) -> tuple[int, str, str]:
    completed = subprocess.run(
        [sys.executable, "-m", "crlmboard", *args], capture_output=True, text=True, timeout=120
    )
    return completed.returncode, completed.stdout, completed.stderr


def test_version_names_every_part() -> None:
    code, out, err = run("--version")
    assert code == 0, err
    for word in ("crlmboard", "schema", "Python", "Qt", "SQLite"):
        assert word in out


def test_import_then_export_gives_back_the_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "cli.sqlite3")
    assert main(["init", "--db", db]) == 0
    assert main(["import", str(GOLDEN), "--db", db]) == 0
    assert "3 imported, 0 refused." in capsys.readouterr().out
    out = tmp_path / "out.json"
    assert main(["--db", db, "export", "EX-0003", "-o", str(out)]) == 0
    source = json.loads((GOLDEN / "flr-after-chemotherapy.json").read_text("utf-8"))
    assert normalised(json.loads(out.read_text("utf-8"))) == normalised(source)


def test_environment_names_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRLMBOARD_DB", str(tmp_path / "env.sqlite3"))
    assert main(["init"]) == 0
    assert main(["import", str(GOLDEN / "upfront-resection.json")]) == 0
    assert (tmp_path / "env.sqlite3").exists()
    capsys.readouterr()
    assert main(["list", "ada"]) == 0
    out = capsys.readouterr().out
    assert "EX-0001" in out and "EXAMPLE, Ada" in out and "1 of 1 cases" in out


def test_broken_file_exit_2_with_path_qualified_reasons(
    tmp_path: Path, upfront: dict[str, Any]
) -> None:
    db = tmp_path / "cli.sqlite3"
    assert run("init", "--db", str(db))[0] == 0
    assert run("import", str(GOLDEN / "upfront-resection.json"), "--db", str(db))[0] == 0
    before = db.read_bytes()
    upfront["patient"]["mrn"] = "EX-0099"
    upfront["imaging"][0]["lesions"][0]["longest_diameter_mm"] = -4
    upfront["labs"][0]["cea_ng_ml"] = "high"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(upfront), "utf-8")
    code, out, err = run("import", str(bad), "--db", str(db))
    assert code == 2
    assert "labs[0].cea_ng_ml: must be a number" in err
    assert "imaging[0].lesions[0].longest_diameter_mm: must be ≥ 0" in err
    assert "Traceback" not in err + out
    assert db.read_bytes() == before


def test_unknown_mrn_and_bad_arguments_are_bad_input(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.sqlite3")
    assert run("init", "--db", db)[0] == 0
    code, _, err = run("export", "NOPE", "-o", str(tmp_path / "x.json"), "--db", db)
    assert (code, err.strip()) == (2, "There is no case with MRN NOPE.")
    code, _, err = run("export", "NOPE", "--db", db)
    assert code == 2 and "-o/--output" in err
    code, _, err = run("import", str(tmp_path / "missing.json"), "--db", db)
    assert code == 2 and "is neither a case file nor a folder" in err and "Traceback" not in err


def test_unexpected_errors_go_to_the_log_not_the_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-db"
    folder.mkdir()
    code, _, err = run("list", "--db", str(folder))
    assert code == 2 and "is a folder" in err
    assert "Traceback" not in err
    assert err.strip()


def test_demo_creates_a_fresh_demo_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--no-open", "--db", str(db)]) == 0
    first = capsys.readouterr().out
    assert "Demo database" in first
    count = int(first.split("\n")[0].rsplit(":", 1)[1].split()[0])
    assert count >= 12
    assert main(["demo", "--no-open", "--db", str(db)]) == 0  # replaced, not doubled
    assert f"{count} cases" in capsys.readouterr().out
    mine = str(tmp_path / "mine.sqlite3")
    assert main(["init", "--db", mine]) == 0
    assert main(["import", str(GOLDEN / "upfront-resection.json"), "--db", mine]) == 0
    assert main(["demo", "--no-open", "--db", mine]) == 2
    assert "not demo data" in capsys.readouterr().err


def test_rules_lists_the_53_rules_of_engine_1_1_0_with_sources(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rules", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["engine_version"] == "1.1.0"
    assert len(document["rules"]) == 53
    assert all(rule["sources"] for rule in document["rules"])
    breakwater = document["sources"]["breakwater-2025"]
    assert breakwater.startswith("Elez E") and "392:2425–2437" in breakwater
    assert main(["rules"]) == 0
    text = capsys.readouterr().out
    assert "SURGERY.SECOND_STAGE_PENDING" in text and "[breakwater-2025] Elez E" in text


def test_evaluate_gives_the_garbage_collector_back_as_it_found_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`evaluate` sets the loaded program aside from the collector while it works; called
    in a process that goes on (a script, the tests), it leaves nothing frozen behind: a
    later import's own freeze would otherwise be skipped and the collector left walking
    nothing it expects."""
    import gc

    assert gc.get_freeze_count() == 0 and gc.isenabled()
    case = GOLDEN / "upfront-resection.json"
    assert main(["evaluate", str(case), "--as-of", "2026-01-01"]) == 0
    assert capsys.readouterr().out
    assert gc.get_freeze_count() == 0 and gc.isenabled()
