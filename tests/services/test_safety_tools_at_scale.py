"""Issue 21 B11/B12: the safety tools at scale, bounded by count (timings are bench/'s).

`check` compares records with their audit trail a group of cases at a time; backups hash
their tables from raw pages; read-only commands wait for neither `quick_check` nor the
open-time backup, writes still do.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crlmboard.cli import main
from crlmboard.services import Board
from crlmboard.store import backup as store_backup
from crlmboard.store import integrity
from crlmboard.store.database import create_database_engine, read_session
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db


@pytest.fixture
def many(db_path: Path, upfront: dict[str, Any]) -> Path:
    """Twelve cases (copies of a golden case under other MRNs)."""
    texts = []
    for n in range(12):
        document = copy.deepcopy(upfront)
        document["patient"]["mrn"] = f"EX-{n:04d}"
        texts.append(json.dumps(document))
    with Board.open(db_path, clock=lambda: TODAY, create=True) as board:
        board.cases.import_many(texts)
    return db_path


def test_the_records_check_holds_one_group_of_cases_at_a_time(many: Path) -> None:
    """Memory is bounded by the group, not the database: with one case per group the
    check never holds more records than the largest case has; all at once, it holds all."""
    engine = create_database_engine(f"sqlite:///{many}")
    try:
        with read_session(engine) as session:
            one = integrity.check_records(session, integrity.Findings(), cases_at_once=1)
            every = integrity.check_records(session, integrity.Findings(), cases_at_once=10_000)
    finally:
        engine.dispose()
    with sqlite3.connect(many) as connection:
        per_case = [
            n
            for (n,) in connection.execute(
                "SELECT 1 + (SELECT count(*) FROM lab_result l WHERE l.case_id = p.id) "
                "+ (SELECT count(*) FROM lesion_measurement m JOIN imaging_timepoint t "
                "ON m.timepoint_id = t.id WHERE t.case_id = p.id) FROM patient p"
            )
        ]
    assert one.cases == every.cases == 12
    assert one.groups >= 12
    assert 0 < one.most_records_held < every.most_records_held
    assert one.most_records_held * 6 < every.most_records_held  # 1 of 12 cases, not all
    assert max(per_case) <= one.most_records_held


def count_calls(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Count the calls of a real function (it still runs)."""
    calls: list[int] = []
    real = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_read_only_commands_wait_for_neither_quick_check_nor_a_backup(
    many: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(many) as connection:  # something changed since the newest backup
        connection.execute("PRAGMA user_version = 7")
    checks = count_calls(monkeypatch, integrity, "quick_check")
    backups = count_calls(monkeypatch, store_backup, "create_backup")
    for command in (["list"], ["check"], ["backups"]):
        main([*command, "--db", str(many)])
    assert checks == [] and backups == []
    capsys.readouterr()
    document = json.loads((GOLDEN / "flr-after-chemotherapy.json").read_text("utf-8"))
    document["patient"]["mrn"] = "EX-0100"
    file = many.parent / "new.json"
    file.write_text(json.dumps(document), "utf-8")
    assert main(["import", str(file), "--db", str(many)]) == 0
    assert len(checks) == 1  # before the first write


def test_a_damaged_file_is_refused_before_a_commands_first_write(
    many: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`quick_check` moved from the open to the first write still stops every write."""
    with sqlite3.connect(many) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'lab_result'"
        ).fetchone()[0]
    with many.open("r+b") as stream:  # a page of the lab results zeroed
        stream.seek((root - 1) * page_size)
        stream.write(b"\0" * page_size)
    before = many.read_bytes()
    document = json.loads((GOLDEN / "flr-after-chemotherapy.json").read_text("utf-8"))
    document["patient"]["mrn"] = "EX-0100"
    file = many.parent / "new.json"
    file.write_text(json.dumps(document), "utf-8")
    assert main(["import", str(file), "--db", str(many)]) != 0
    err = capsys.readouterr().err
    assert "is damaged" in err and "Traceback" not in err
    assert many.read_bytes() == before


def test_a_backup_names_its_tables_by_their_pages_and_old_manifests_still_verify(
    many: Path,
) -> None:
    with Board.open(many, clock=lambda: TODAY) as board:
        info = board.maintenance.backup()
    assert info.manifest["tables_format"] == store_backup.PAGES_FORMAT
    assert {"patient", "audit_event", "lesion_measurement"} <= set(info.manifest["tables"])
    assert store_backup.verify_backup(info.path, deep=True).verified
    # a manifest from before (per-row hashes) is still checked as it was made
    manifest = json.loads(store_backup.manifest_path(info.path).read_text("utf-8"))
    with sqlite3.connect(info.path) as connection:
        manifest["tables"] = store_backup.table_hashes_v1(connection)
    del manifest["tables_format"]
    store_backup.manifest_path(info.path).write_text(json.dumps(manifest), "utf-8")
    assert store_backup.verify_backup(info.path, deep=True).verified
    manifest["tables"]["patient"] = "0" * 64
    store_backup.manifest_path(info.path).write_text(json.dumps(manifest), "utf-8")
    checked = store_backup.verify_backup(info.path, deep=True)
    assert not checked.verified and "does not match its manifest" in (checked.problem or "")


def _records_check(path: Path) -> tuple[integrity.ReplayStats, list[str]]:
    engine = create_database_engine(f"sqlite:///{path}")
    try:
        with read_session(engine) as session:
            findings = integrity.Findings()
            stats = integrity.check_records(session, findings)
    finally:
        engine.dispose()
    return stats, findings.result()


@pytest.fixture
def reviewed(db_path: Path) -> Path:
    """The golden cases, one review signed (a frozen evaluation, a time)."""
    with Board.open(db_path, clock=lambda: TODAY, create=True) as board:
        assert board.cases.import_path(GOLDEN).ok
        meeting = board.meetings.create(board.today() - timedelta(days=1)).meeting_id
        board.meetings.add_to_agenda(meeting, "EX-0001", "Resect?")
        draft = board.reviews.start(meeting, "EX-0001")
        board.reviews.sign(draft, recommendation=None, decision="Resect.")
    return db_path


KEY = {"lesion_measurement": "row_id"}  # the key column where it is not `id`


def _changed_evaluation(stored: bytes | str) -> bytes:
    data = json.loads(zlib.decompress(stored) if isinstance(stored, bytes) else stored)
    data["tampered"] = True
    return zlib.compress(json.dumps(data, separators=(",", ":")).encode())


def test_rows_compared_as_stored_still_show_each_value_changed_outside(reviewed: Path) -> None:
    """The records check compares most rows in their stored form (no conversion); a value
    changed in each kind of column (number, boolean, date, text, JSON, a time, the
    compressed frozen evaluation) still leaves that path and is named by table, row and
    field; a value stored as other text of the same JSON is not a difference."""
    stats, problems = _records_check(reviewed)
    assert problems == []
    compared = stats.rows_compared_as_stored
    with sqlite3.connect(reviewed) as connection:
        one = {
            table: connection.execute(
                f"SELECT min({KEY.get(table, 'id')}) FROM {table}"
            ).fetchone()[0]
            for table in ("patient", "lab_result", "lesion_measurement", "surgical_plan")
        }
        review = connection.execute("SELECT id, evaluation FROM review").fetchone()
        plans = [r[0] for r in connection.execute("SELECT id FROM surgical_plan ORDER BY id")]
        connection.execute("DROP TRIGGER review_signed_no_update")
        tampered = [
            ("patient", one["patient"], "family_name", "family_name || 'x'"),
            ("patient", one["patient"], "comorbidities", "'[\"tampered\"]'"),
            ("lab_result", one["lab_result"], "cea_ng_ml", "coalesce(cea_ng_ml, 0) + 1"),
            ("lab_result", one["lab_result"], "date", "date(date, '+1 day')"),
            ("lesion_measurement", one["lesion_measurement"], "target", "1 - target"),
            ("surgical_plan", one["surgical_plan"], "segments_to_resect", "'[7, 8]'"),
            (
                "surgical_plan",
                one["surgical_plan"],
                "resectability",  # a summary field's name on another table: compared too
                "CASE resectability WHEN 'resectable' THEN 'borderline' ELSE 'resectable' END",
            ),
            ("review", review[0], "signed_at", "datetime(signed_at, '+1 second')"),
            ("review", review[0], "evaluation", "?"),
        ]
        for table, row, field, value in tampered:
            parameters = [_changed_evaluation(review[1])] if value == "?" else []
            connection.execute(
                f"UPDATE {table} SET {field} = {value} WHERE {KEY.get(table, 'id')} = {row}",
                parameters,
            )
        segments = connection.execute(
            f"SELECT segments_to_resect FROM surgical_plan WHERE id = {plans[1]}"
        ).fetchone()[0]
        connection.execute(
            f"UPDATE surgical_plan SET segments_to_resect = ? WHERE id = {plans[1]}",
            [json.dumps(json.loads(segments), indent=2)],  # the same list, other text
        )
    stats, problems = _records_check(reviewed)
    for table, row, field, _value in tampered:
        assert (
            f"{table} row {row}, field {field}: the stored value differs from its audit trail "
            "(changed outside crlmboard)"
        ) in problems
    assert not [p for p in problems if f"surgical_plan row {plans[1]}," in p]
    rows_left = {(table, row) for table, row, _field, _value in tampered} | {
        ("surgical_plan", plans[1])
    }
    assert stats.rows_compared_as_stored == compared - len(rows_left)


def test_a_summary_recorded_in_part_is_compared_in_part(reviewed: Path) -> None:
    """A case last saved before the case list's summary was audited, then saved once with
    only some summary fields changed (as an upgraded database's cases are): the fields the
    trail records are compared, the others are not taken for null (the 1,000- and
    10,000-patient bench cohorts were reported tampered because of this)."""
    with sqlite3.connect(reviewed) as connection:
        connection.execute("DROP TRIGGER audit_event_no_update")
        seq, stored = connection.execute(
            "SELECT seq, after_json FROM audit_event WHERE case_id = 1 AND action = 'changes' "
            "ORDER BY seq LIMIT 1"
        ).fetchone()
        packed = isinstance(stored, bytes)
        changes = json.loads(zlib.decompress(stored) if packed else stored)
        for change in changes:
            if change["table"] == "patient":
                for name in (
                    "resectability",
                    "current_response",
                    "open_warnings",
                    "open_criticals",
                ):
                    change["after"].pop(name, None)  # as saved before the summary was audited
        text = json.dumps(changes, separators=(",", ":"), sort_keys=True)
        connection.execute(
            "UPDATE audit_event SET after_json = ? WHERE seq = ?",
            [zlib.compress(text.encode()) if packed else text, seq],
        )
        connection.execute("UPDATE patient SET open_warnings = 3, open_criticals = 1 WHERE id = 1")
        columns = [r[1] for r in connection.execute("PRAGMA table_info(audit_event)")]
        last = dict(
            zip(
                columns,
                connection.execute(
                    "SELECT * FROM audit_event ORDER BY seq DESC LIMIT 1"
                ).fetchone(),
                strict=True,
            )
        )
        last.update(
            seq=last["seq"] + 1,
            action="update",
            table_name="patient",
            record_id="1",
            case_id=1,
            fields='["open_criticals"]',
            before_json='{"open_criticals":0}',
            after_json='{"open_criticals":1}',
        )
        connection.execute(
            f"INSERT INTO audit_event ({', '.join(last)}) VALUES ({', '.join('?' * len(last))})",
            list(last.values()),
        )
    stats, problems = _records_check(reviewed)
    assert problems == []  # open_warnings (3) was never recorded: not compared with null
    assert stats.summary_not_recorded == 1
    with sqlite3.connect(reviewed) as connection:
        connection.execute("UPDATE patient SET open_criticals = 0 WHERE id = 1")
    _stats, problems = _records_check(reviewed)
    assert problems == [
        "patient row 1, field open_criticals: the stored value differs from its audit trail "
        "(changed outside crlmboard)"
    ]
