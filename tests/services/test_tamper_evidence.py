"""Issue 23 items 9 and 10: `check` on the damage it exists to find, and tamper evidence that
holds (reliability.md's audit section; T32).

Every attack is made as someone with the database file and a sqlite3 shell would make it:
raw SQL on a real SQLite file, triggers dropped, hashes recomputed, backups edited or
deleted.  Each test says which anchor catches it.  The audit key is kept in the 0600 key
folder (no keyring backend, as on CI) and, in the `keyring` variant, in a keyring backend
(keyrings.alt's file keyring, raised to a usable priority).
"""

from __future__ import annotations

import json
import random
import secrets
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crlmboard.services import Board
from crlmboard.store import backup as store_backup
from crlmboard.store import checkpoints, keys
from crlmboard.store.audit import GENESIS, format_time, row_hash
from crlmboard.store.database import database_id as read_database_id
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


@pytest.fixture(params=["key-folder", "keyring"])
def key_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where the audit key lives: the 0600 file fallback, or a keyring backend."""
    import keyring

    if request.param == "keyring":
        from keyrings.alt.file import PlaintextKeyring

        class TestKeyring(PlaintextKeyring):  # a real file keyring, taken as usable
            priority = 5  # type: ignore[assignment]
            file_path = str(tmp_path / "keyring.cfg")

        keyring.set_keyring(TestKeyring())
    else:
        from keyring.backends.fail import Keyring as NoKeyring

        keyring.set_keyring(NoKeyring())
    yield request.param
    from keyring.backends.fail import Keyring as NoKeyring

    keyring.set_keyring(NoKeyring())


@pytest.fixture
def filled(db_path: Path, key_store: str) -> Path:
    """The three golden cases, a backup, closed (so a checkpoint is in every place)."""
    with Board.open(db_path, clock=lambda: TODAY, now=Clock()) as board:
        assert board.cases.import_path(GOLDEN).ok
        assert board.maintenance.backup().verified
    return db_path


def open_board(path: Path) -> Board:
    return Board.open(path, clock=lambda: TODAY, now=Clock())


def check(path: Path) -> Any:
    with open_board(path) as board:
        return board.maintenance.check()


def raw(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.row_factory = sqlite3.Row
    return connection


def without_triggers(connection: sqlite3.Connection) -> None:
    for name in ("audit_event_no_update", "audit_event_no_delete"):
        connection.execute(f"DROP TRIGGER IF EXISTS {name}")


def rehash_from(connection: sqlite3.Connection, first: int = 1) -> None:
    """Recompute every hash from row `first` on, as an attacker would."""
    rows = [dict(r) for r in connection.execute("SELECT * FROM audit_event ORDER BY seq")]
    previous = GENESIS
    for row in rows:
        if row["seq"] >= first:
            row["prev_hash"] = previous
            row["row_hash"] = row_hash(previous, row)
            connection.execute(
                "UPDATE audit_event SET prev_hash = ?, row_hash = ? WHERE seq = ?",
                (row["prev_hash"], row["row_hash"], row["seq"]),
            )
        previous = row["row_hash"]


def rewrite_a_row(path: Path, seq: int = 2) -> None:
    """T32 e: change who made a middle row, then recompute every later hash."""
    with raw(path) as connection:
        without_triggers(connection)
        connection.execute("UPDATE audit_event SET app_user = 'mallory' WHERE seq = ?", (seq,))
        rehash_from(connection, seq)
    assert verify_alone(path), "the chain itself verifies after the rehash"


def verify_alone(path: Path) -> bool:
    with raw(path) as connection:
        return store_backup.chain_verifies(connection)


def append_row(path: Path, **values: Any) -> None:
    """Append a well-hashed audit row (what a forger with the code can do)."""
    with raw(path) as connection:
        last = dict(connection.execute("SELECT * FROM audit_event ORDER BY seq DESC").fetchone())
        row = {
            **last,
            "seq": last["seq"] + 1,
            "at": format_time(datetime(2030, 1, 7, 9, 0, tzinfo=UTC)),
            "prev_hash": last["row_hash"],
            "fields": "[]",
            "before_json": None,
            "after_json": None,
            "case_id": None,
            "record_id": None,
            **values,
        }
        row["row_hash"] = row_hash(last["row_hash"], row)
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        connection.execute(
            f"INSERT INTO audit_event ({names}) VALUES ({marks})", list(row.values())
        )


def problems_about(report: Any, *words: str) -> list[str]:
    return [p for p in report.problems if all(w in p for w in words)]


# -- a sound database -----------------------------------------------------------------------


def test_a_sound_database_passes_with_its_checkpoints_verified(filled: Path) -> None:
    report = check(filled)
    assert report.ok, report.problems
    assert any("signed checkpoint" in p for p in report.passed), report.passed
    lines = checkpoints.sidecar_path(filled).read_text("utf-8").splitlines()
    assert lines and all(json.loads(line)["mac"] for line in lines)
    assert checkpoints.sidecar_path(filled).stat().st_mode & 0o777 == 0o600
    manifest = store_backup.list_backups(filled)[0].manifest
    assert checkpoints.Checkpoint.from_dict(manifest["checkpoint"]).seq > 0


def test_the_key_is_never_in_the_database_folder(filled: Path, key_store: str) -> None:
    with raw(filled) as connection:
        database_id = read_database_id(connection)
    key = keys.load_key(database_id)
    assert key is not None
    for file in filled.parent.rglob("*"):
        if file.is_file():
            assert key.hex().encode() not in file.read_bytes(), file
    if key_store == "key-folder":
        stored = keys.key_folder() / f"{database_id}.key"
        assert stored.stat().st_mode & 0o777 == 0o600
    else:
        assert not (keys.key_folder() / f"{database_id}.key").exists()


# -- item 9: the attacks ----------------------------------------------------------------------


def test_a_rewritten_chain_with_the_newest_manifest_edited_is_caught(filled: Path) -> None:
    """Rewrite + rehash, and the newest manifest's audit_head (and its checkpoint's hash)
    edited to the new chain: the MAC no longer verifies; the checkpoint file catches it."""
    rewrite_a_row(filled)
    newest = store_backup.list_backups(filled)[0]
    manifest = json.loads(store_backup.manifest_path(newest.path).read_text("utf-8"))
    with raw(filled) as connection:
        seq, hash_ = connection.execute(
            "SELECT seq, row_hash FROM audit_event WHERE seq = ?",
            (manifest["audit_head"]["seq"],),
        ).fetchone()
    manifest["audit_head"] = {"seq": seq, "hash": hash_}
    manifest["checkpoint"]["hash"] = hash_
    store_backup.manifest_path(newest.path).write_text(json.dumps(manifest), "utf-8")
    report = check(filled)
    assert problems_about(report, "not authentic", newest.path.name), report.problems
    assert problems_about(report, "rewritten", "checkpoint file"), report.problems


@pytest.mark.parametrize("backups", ["deleted", "spoiled"])
def test_a_rewritten_chain_with_the_backups_gone_is_caught(filled: Path, backups: str) -> None:
    """Rewrite + rehash, every backup deleted (or its file and manifest spoiled): the
    checkpoint file catches it, and without that file too, the key store's checkpoint."""
    rewrite_a_row(filled)
    for info in store_backup.list_backups(filled):
        if backups == "deleted":
            info.path.unlink()
            store_backup.manifest_path(info.path).unlink()
        else:
            info.path.write_bytes(b"\0" * 4096)
            store_backup.manifest_path(info.path).write_text("{}", "utf-8")
    report = check(filled)
    assert problems_about(report, "rewritten", "checkpoint file"), report.problems
    checkpoints.sidecar_path(filled).unlink()
    report = check(filled)
    assert problems_about(report, "rewritten", "key store"), report.problems


def test_a_fake_restore_row_does_not_excuse_a_rewritten_chain(filled: Path) -> None:
    """Rewrite + rehash, then a well-hashed `restore` row appended (which today makes the
    older backups count for nothing): restore rows are not trusted, signed restore marks
    are; the checkpoints catch the rewrite and the row itself is unsigned."""
    rewrite_a_row(filled)
    newest = store_backup.list_backups(filled)[0]
    append_row(
        filled,
        action="restore",
        table_name="database",
        after_json=json.dumps({"backup": newest.path.name, "safety_backup": None}),
    )
    report = check(filled)
    assert problems_about(report, "rewritten", newest.path.name), report.problems
    assert problems_about(report, "not signed"), report.problems


def test_an_appended_forged_update_is_caught(filled: Path) -> None:
    """A value changed and a matching, well-hashed `update` row appended: the records agree
    with the trail, but the row came after the newest checkpoint, unsigned."""
    with raw(filled) as connection:
        case_id, weight = connection.execute(
            "SELECT id, weight_kg FROM patient WHERE mrn = 'EX-0001'"
        ).fetchone()
        connection.execute("UPDATE patient SET weight_kg = 55 WHERE id = ?", (case_id,))
    append_row(
        filled,
        action="update",
        table_name="patient",
        record_id=str(case_id),
        case_id=case_id,
        fields='["weight_kg"]',
        before_json=json.dumps({"weight_kg": weight}),
        after_json=json.dumps({"weight_kg": 55.0}),
    )
    report = check(filled)
    assert not problems_about(report, "differs from its audit trail")
    assert problems_about(report, "not signed"), report.problems


def test_a_forged_row_is_not_blessed_by_the_next_save(filled: Path) -> None:
    """The forged row, then the coordinator saves a case: the save signs the new head, but
    first marks the rows it found unsigned; `check` reports them."""
    append_row(filled, action="preference", table_name="app_user", after_json='{"x":1}')
    with open_board(filled) as board:
        case, version = board.cases.get_with_version("EX-0003")
        board.cases.save(case.model_copy(update={"labs": []}), version)
    report = check(filled)
    assert problems_about(report, "found unsigned at a save"), report.problems


def test_a_case_deleted_with_its_audit_rows_is_caught(filled: Path) -> None:
    """A case added after the last backup, then removed with its audit rows (the newest
    ones): the chain verifies, the records match, the checkpoints record rows that are
    gone."""
    document = json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8"))
    document["patient"]["mrn"] = "EX-0009"
    with open_board(filled) as board:
        board.cases.import_text(json.dumps(document))
    with raw(filled) as connection:
        without_triggers(connection)
        case_id = connection.execute("SELECT id FROM patient WHERE mrn = 'EX-0009'").fetchone()[0]
        connection.execute("PRAGMA foreign_keys = ON")
        for table in ("review", "agenda_item", "review_follow_up"):
            connection.execute(f"DELETE FROM {table} WHERE case_id = ?", (case_id,))
        connection.execute("DELETE FROM patient WHERE id = ?", (case_id,))
        connection.execute("DELETE FROM audit_event WHERE case_id = ?", (case_id,))
    assert verify_alone(filled)
    report = check(filled)
    assert problems_about(report, "are missing", "checkpoint file"), report.problems
    assert not problems_about(report, "audit chain broken")


def test_the_case_list_summary_cannot_hide_a_critical_finding(filled: Path) -> None:
    """`open_criticals` and `resectability` set so the list hides EX-0002's critical
    finding: the summary is in the audit trail now, and `check` compares it."""
    with raw(filled) as connection:
        case_id, criticals = connection.execute(
            "SELECT id, open_criticals FROM patient WHERE mrn = 'EX-0002'"
        ).fetchone()
        assert criticals >= 1
        connection.execute(
            "UPDATE patient SET open_criticals = 0, resectability = 'resectable' WHERE id = ?",
            (case_id,),
        )
    report = check(filled)
    assert problems_about(report, f"patient row {case_id}, field open_criticals")
    assert problems_about(report, f"patient row {case_id}, field resectability")


def test_a_forged_checkpoint_line_is_not_authentic(filled: Path) -> None:
    """The attacker rewrites the chain and appends a checkpoint of the new head to the
    checkpoint file, with a MAC made without the key."""
    rewrite_a_row(filled)
    with raw(filled) as connection:
        seq, hash_ = connection.execute(
            "SELECT seq, row_hash FROM audit_event ORDER BY seq DESC"
        ).fetchone()
        database_id = read_database_id(connection)
    forged = checkpoints.sign(b"\0" * 32, database_id, None, datetime(2031, 1, 1, tzinfo=UTC))
    forged = checkpoints.Checkpoint(database_id, seq, hash_, forged.at, forged.mac)
    with checkpoints.sidecar_path(filled).open("a") as stream:
        stream.write(forged.to_json() + "\n")
    report = check(filled)
    assert problems_about(report, "not authentic", "checkpoint file"), report.problems


def test_without_the_key_check_warns_and_does_not_cry_tampering(filled: Path) -> None:
    """The key lost (another computer, a new user account): old checkpoints cannot be
    verified — a warning, not a tamper alarm."""
    import keyring

    with raw(filled) as connection:
        database_id = read_database_id(connection)
    (keys.key_folder() / f"{database_id}.key").unlink(missing_ok=True)
    if keys.keyring_backend() is not None:
        keyring.get_keyring().delete_password(keys.SERVICE, database_id)
    assert keys.load_key(database_id) is None
    with Board.open(filled, clock=lambda: TODAY, now=Clock()) as board:
        report = board.maintenance.check()
    assert report.ok, report.problems
    assert any("cannot be verified" in w and "audit key" in w for w in report.warnings)


def test_a_restore_is_not_taken_for_tampering(filled: Path) -> None:
    """A real restore goes back in the chain: the checkpoints made before it are superseded
    by its signed restore mark."""
    with open_board(filled) as board:
        taken = board.maintenance.list_backups()[0]
        case, version = board.cases.get_with_version("EX-0001")
        board.cases.save(case.model_copy(update={"labs": []}), version)
    with open_board(filled) as board:
        board.maintenance.restore(taken.path)
        case, version = board.cases.get_with_version("EX-0001")
        board.cases.save(case.model_copy(update={"labs": []}), version)
    report = check(filled)
    assert report.ok, report.problems


# -- item 10: damage is reported, never a crash ------------------------------------------------


def test_check_reports_a_malformed_date_and_goes_on(filled: Path) -> None:
    with raw(filled) as connection:
        lab = connection.execute("SELECT id FROM lab_result ORDER BY id LIMIT 1").fetchone()[0]
        connection.execute("UPDATE lab_result SET date = '2025-13-45' WHERE id = ?", (lab,))
        review = connection.execute(
            "SELECT id FROM review WHERE signed_at IS NOT NULL LIMIT 1"
        ).fetchone()
        if review is not None:
            connection.execute("DROP TRIGGER IF EXISTS review_signed_no_update")
            connection.execute(
                "UPDATE review SET meeting_date = 'yesterday' WHERE id = ?", (review[0],)
            )
        connection.execute("UPDATE patient SET family_name = 'Exbmple' WHERE mrn = 'EX-0003'")
    report = check(filled)
    assert problems_about(report, f"lab_result row {lab}, field date", "cannot be read")
    assert problems_about(report, "field family_name")  # the next finding was still made
    if review is not None:
        assert problems_about(report, f"signed review {review[0]}", "meeting_date")
    assert "integrity_check" in report.passed


@pytest.mark.parametrize("seed", range(12))
def test_check_reports_a_bit_flipped_compressed_audit_value(filled: Path, seed: int) -> None:
    """Two random bits flipped in a compressed audit value (a whole case, row 1): named as
    damage in that row, and the rest of the check still runs."""
    chance = random.Random(seed)
    with raw(filled) as connection:
        without_triggers(connection)
        stored = connection.execute("SELECT after_json FROM audit_event WHERE seq = 1").fetchone()[
            0
        ]
        assert isinstance(stored, bytes), "a case's row is stored compressed"
        data = bytearray(stored)
        for _ in range(2):
            bit = chance.randrange(len(data) * 8)
            data[bit // 8] ^= 1 << (bit % 8)
        connection.execute("UPDATE audit_event SET after_json = ? WHERE seq = 1", (bytes(data),))
    report = check(filled)
    assert not report.ok
    assert problems_about(report, "audit row 1"), report.problems
    assert "integrity_check" in report.passed
    assert not problems_about(report, "could not be completed"), report.problems


def test_check_reports_an_unreadable_json_value(filled: Path) -> None:
    """A JSON column holding text that is not JSON: named with table, row and field."""
    with raw(filled) as connection:
        case_id = connection.execute("SELECT id FROM patient WHERE mrn = 'EX-0001'").fetchone()[0]
        connection.execute(
            "UPDATE patient SET comorbidities = '[\"diabetes\"' WHERE id = ?", (case_id,)
        )
    report = check(filled)
    assert problems_about(report, f"patient row {case_id}, field comorbidities", "cannot be read")


# -- PostgreSQL: the key stays in the server ----------------------------------------------------


def test_on_postgresql_the_server_signs_and_the_key_is_the_owners_alone() -> None:
    """Migration 0008: `crlmboard_checkpoint()` signs the head with a key in `audit_key`,
    which a role other than the owner cannot read; `crlmboard_verify_checkpoint` refuses
    an altered checkpoint; the MAC is the one `store/checkpoints.py` computes."""
    import sqlalchemy as sa

    from crlmboard.store import migrate
    from crlmboard.store.database import create_database_engine
    from tests.conftest import postgres_url

    url = postgres_url()
    clerk_password = secrets.token_hex(16)  # the test server asks every other role for one
    engine = create_database_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            connection.exec_driver_sql("DROP ROLE IF EXISTS crlmboard_test_clerk")
            connection.exec_driver_sql(
                f"CREATE ROLE crlmboard_test_clerk LOGIN PASSWORD '{clerk_password}'"
            )
            connection.exec_driver_sql("GRANT USAGE ON SCHEMA public TO crlmboard_test_clerk")
        migrate.upgrade(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql(  # what the app's roles are given: the data tables
                "GRANT SELECT ON patient, setting, audit_event TO crlmboard_test_clerk"
            )
            key = bytes(connection.exec_driver_sql("SELECT key FROM audit_key").scalar())
        with Board.open(url, clock=lambda: TODAY) as board:
            board.cases.import_path(GOLDEN / "upfront-resection.json")
            checkpoint = board.maintenance.checkpoint()
            assert checkpoint is not None and checkpoint.seq == board.maintenance.audit_head().seq
            assert checkpoint.database_id == board.maintenance.database_id()
            assert checkpoints.authentic(key, checkpoint)
            assert board.maintenance.checkpoint_authentic(checkpoint) is True
            forged = checkpoints.Checkpoint(
                checkpoint.database_id, checkpoint.seq, "f" * 64, checkpoint.at, checkpoint.mac
            )
            assert board.maintenance.checkpoint_authentic(forged) is False
        clerk = create_database_engine(
            url.replace("//crlmboard@", f"//crlmboard_test_clerk:{clerk_password}@")
        )
        try:
            with clerk.connect() as connection:
                assert connection.execute(sa.text("SELECT count(*) FROM patient")).scalar() == 1
                data = connection.execute(sa.text("SELECT crlmboard_checkpoint()")).scalar()
                assert checkpoints.authentic(key, checkpoints.Checkpoint.from_dict(data))
            for query in (
                "SELECT key FROM audit_key",
                "SELECT crlmboard_checkpoint_mac('x', 'y', 1, 'z', 'w')",  # a MAC of anything
            ):
                with (
                    pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
                    clerk.connect() as connection,
                ):
                    connection.execute(sa.text(query))
        finally:
            clerk.dispose()
        migrate.downgrade(engine, "0006")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT to_regclass('audit_key')").scalar() is None
    finally:
        engine.dispose()


def test_a_pdf_carries_an_authentic_checkpoint(filled: Path) -> None:
    """Written: in PDFs (the footer line and the document's keywords), read back with pypdf."""
    import io
    import re

    from pypdf import PdfReader

    with open_board(filled) as board:
        data = board.reports.case_summary("EX-0002")
        reader = PdfReader(io.BytesIO(data))
        keywords = str(reader.metadata.get("/Keywords", ""))
        found = re.search(r"crlmboard-checkpoint:(\{.*?\})", keywords)
        assert found, keywords
        checkpoint = checkpoints.Checkpoint.from_dict(json.loads(found.group(1)))
        assert board.maintenance.checkpoint_authentic(checkpoint) is True
        assert checkpoint.seq == board.maintenance.audit_head().seq
        text = reader.pages[0].extract_text()
        assert f"audit checkpoint seq {checkpoint.seq}" in text
        altered = checkpoints.Checkpoint(
            checkpoint.database_id,
            checkpoint.seq + 1,
            checkpoint.hash,
            checkpoint.at,
            checkpoint.mac,
        )
        assert board.maintenance.checkpoint_authentic(altered) is False
